// The libbpf choice (TSBPF_LIBBPF) and the newer-feature table: docs/platforms.md's table is the
// code's, the doctor detects features by symbol in the libbpf it loads (the system's 1.1; 1.5 and
// 1.7 under test/platforms/run), and a bad TSBPF_LIBBPF is one clear error.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkFeatures,
  checkLibbpf,
  enumConstants,
  FEATURES,
  featureSupport,
  libbpfHasSymbol,
  libbpfVersion,
} from '../../src/doctor/index.js';
import { ToolchainError } from '../../src/errors.js';
import { libbpfChoice, loadLibbpf } from '../../src/runtime/ffi/libbpf-load.js';
import { cliPath, repoRoot } from '../helpers/paths.js';

describe('docs/platforms.md', () => {
  it('has one row per feature the doctor detects, with its versions, symbol and constant', () => {
    const page = readFileSync(join(repoRoot, 'docs', 'platforms.md'), 'utf8');
    const start = page.indexOf('| Feature |');
    const rows = page
      .slice(start)
      .split('\n\n')[0]
      ?.split('\n')
      .slice(2)
      .map((line) => line.slice(2, -2).split(' | '));
    expect(rows?.map((r) => r[0])).toEqual(FEATURES.map((f) => f.title));
    for (const f of FEATURES) {
      const row = rows?.find((r) => r[0] === f.title) ?? [];
      expect(row.slice(1, 3)).toEqual([f.libbpf, f.kernel]);
      expect(row[3]).toContain(`\`${f.symbol}\``);
      expect(row[3]).toContain(`\`${f.constant}\``);
    }
  });
});

describe('feature detection', () => {
  it('reads the kernel side from enum constants in its BTF', () => {
    const support = featureSupport(() => true, new Set(['BPF_TCX_INGRESS', 'BPF_TOKEN_CREATE']));
    expect(support.find((s) => s.id === 'tcx')).toEqual({ id: 'tcx', libbpf: true, kernel: true });
    expect(support.find((s) => s.id === 'streams')).toEqual({ id: 'streams', libbpf: true, kernel: false });
    const line = checkFeatures(support).detail;
    expect(line).toMatch(
      /^this libbpf and kernel allow: tcx links, BPF tokens; need a newer kernel: .*BPF streams \(kernel 6\.17\)/,
    );
    // The kernel names kprobe-multi's attach type even when it was built without kprobes.
    const noKprobes = featureSupport(() => true, new Set(['BPF_TRACE_KPROBE_MULTI']), false);
    expect(noKprobes.find((s) => s.id === 'kprobe-multi')?.kernel).toBe(false);
    expect(checkFeatures(noKprobes).detail).toContain(
      'this kernel was built without: kprobe-multi links (CONFIG_KPROBES, CONFIG_FPROBE)',
    );
    expect(checkFeatures(featureSupport(undefined, undefined)).detail).toBe(
      'libbpf support unknown (see the libbpf check); kernel support unknown (no kernel BTF) (see docs/platforms.md)',
    );
  });

  it("finds this kernel's constants in /sys/kernel/btf/vmlinux", async () => {
    const { readKernelBtf } = await import('../../src/btf/kernel.js');
    const constants = enumConstants(readKernelBtf());
    // Linux 5.8+ (this suite's floor) names ring buffers; the kernel release says the rest.
    expect(constants.has('BPF_MAP_TYPE_RINGBUF')).toBe(true);
    expect(constants.has('BPF_NO_SUCH_CONSTANT')).toBe(false);
  });

  it("reads the libbpf side from the loaded libbpf's symbols", () => {
    // The system's libbpf: every 1.x has libbpf_major_version; none has a made-up name.
    expect(libbpfHasSymbol('libbpf_major_version')).toBe(true);
    expect(libbpfHasSymbol('bpf_no_such_function')).toBe(false);
  });

  // Under the libbpf matrix (test/platforms/run) this is libbpf 1.5 and 1.7 through TSBPF_LIBBPF.
  it('finds in the libbpf in use exactly the features its release has', () => {
    const version = libbpfVersion();
    const choice = libbpfChoice();
    expect(checkLibbpf(choice)).toMatchObject({
      status: 'ok',
      detail: expect.stringContaining(`libbpf ${version}`),
    });
    const [major = 0, minor = 0] = version.split('.').map(Number);
    for (const f of FEATURES) {
      const [fMajor = 0, fMinor = 0] = f.libbpf.split('.').map(Number);
      const expected = major > fMajor || (major === fMajor && minor >= fMinor);
      expect(libbpfHasSymbol(f.symbol), `${f.symbol} in libbpf ${version}`).toBe(expected);
    }
  });
});

describe('TSBPF_LIBBPF', () => {
  it('chooses the file it names, else the soname', () => {
    expect(libbpfChoice({ TSBPF_LIBBPF: '/opt/l/libbpf.so.1' })).toEqual({
      library: '/opt/l/libbpf.so.1',
      fromEnv: true,
    });
    expect(libbpfChoice({ TSBPF_LIBBPF: '' })).toEqual({ library: 'libbpf.so.1', fromEnv: false });
    expect(libbpfChoice({})).toEqual({ library: 'libbpf.so.1', fromEnv: false });
  });

  it('names the variable and the path when the file is missing or is not libbpf', () => {
    const missing = () => loadLibbpf({ library: '/no/such/libbpf.so.1', fromEnv: true });
    expect(missing).toThrow(ToolchainError);
    expect(missing).toThrow(
      'TSBPF_LIBBPF=/no/such/libbpf.so.1 could not be loaded: cannot open shared object file: No such file or directory',
    );
    const libc = '/lib/x86_64-linux-gnu/libc.so.6';
    try {
      loadLibbpf({ library: libc, fromEnv: true });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ToolchainError);
      expect((error as ToolchainError).message).toBe(
        `TSBPF_LIBBPF=${libc} is not libbpf (it has no libbpf_major_version)`,
      );
      expect((error as ToolchainError).hint).toContain('unset it');
    }
  });

  it('is what tsbpf doctor reports, with the fix when it cannot be loaded', () => {
    const run = (value: string) =>
      spawnSync(process.execPath, [cliPath, 'doctor', '--json'], {
        env: { ...process.env, TSBPF_LIBBPF: value },
        encoding: 'utf8',
      });
    const bad = JSON.parse(run('/no/such/libbpf.so.1').stdout);
    expect(bad.checks.find((c: { id: string }) => c.id === 'libbpf')).toMatchObject({
      status: 'fail',
      detail:
        'TSBPF_LIBBPF=/no/such/libbpf.so.1 could not be loaded: cannot open shared object file: No such file or directory',
      fix: expect.stringContaining('point TSBPF_LIBBPF at a libbpf 1.x shared library'),
    });
    expect(bad.ready).toBe(false);
  });
});
