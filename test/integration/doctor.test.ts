// `tsbpf doctor` on this machine, as a user runs it. This machine has everything tsbpf needs
// except kprobes (CONFIG_KPROBES is off), which must show as a warning, not a failure.
import { execFileSync } from 'node:child_process';
import { rmSync, statSync } from 'node:fs';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { checkBpffs, type DoctorReport, parseMounts, runDoctor } from '../../src/doctor/index.js';
import { cliPath, repoRoot, tempDir } from '../helpers/paths.js';

const tsbpf = (...args: string[]) =>
  execa(process.execPath, [cliPath, ...args], { reject: false, cwd: repoRoot });

const expectedIds = [
  'node',
  'kernel-version',
  'kernel-btf',
  'privileges',
  'unprivileged-bpf',
  'bpf-syscall',
  'libbpf',
  'tracefs',
  'bpffs',
  'clang',
  'llvm-strip',
  'bpftool',
  'libbpf-headers',
  'linux-headers',
  'compile',
  'kprobe',
  'uprobe',
  'ringbuf',
  'jit',
  'run-raw-tracepoint',
  'run-tracepoint',
  'run-uprobe',
  'run-kprobe',
  'run-xdp',
  'run-tc',
  'run-perf-event-array',
  'features',
];

describe('tsbpf doctor', () => {
  it('--json reports this machine ready, with kprobes as a warning', async () => {
    const result = await tsbpf('doctor', '--json');
    expect(result.exitCode).toBe(0);
    const report = JSON.parse(result.stdout) as DoctorReport;
    expect(report.ready).toBe(true);
    expect(report.checks.map((c) => c.id)).toEqual(expectedIds);
    const byId = Object.fromEntries(report.checks.map((c) => [c.id, c]));
    expect(byId.kprobe).toMatchObject({ status: 'warn', fix: expect.stringContaining('CONFIG_KPROBES') });
    // Newer features are optional; without kprobes the kprobe-based ones are not offered.
    expect(byId.features?.status).toBe('ok');
    expect(byId.features?.detail).toContain(
      'this kernel was built without: kprobe-multi links (CONFIG_KPROBES, CONFIG_FPROBE)',
    );
    for (const id of [
      'kernel-btf',
      'privileges',
      'bpf-syscall',
      'libbpf',
      'clang',
      'llvm-strip',
      'bpftool',
      'uprobe',
      'ringbuf',
      // As root every kind loads and attaches, kprobes aside (the kernel's, not the user's).
      'run-raw-tracepoint',
      'run-tracepoint',
      'run-uprobe',
      'run-kprobe',
      'run-xdp',
      'run-tc',
      'run-perf-event-array',
    ]) {
      expect(byId[id]?.status, id).toBe('ok');
    }
    expect(report.programs?.filter((p) => !p.runs)).toEqual([
      { kind: 'kprobe', runs: false, blockedBy: 'kernel' },
    ]);
    expect(byId.clang?.detail).toMatch(/^clang \d+\.\d+\.\d+ at \/.+, with the BPF target$/);
    expect(byId.libbpf?.detail).toMatch(/^libbpf 1\.\d+: libbpf\.so\.1 \(\/.+\/libbpf\.so\.1\.\d+\.\d+\)$/);
    for (const c of report.checks) {
      expect(['ok', 'warn', 'fail']).toContain(c.status);
      expect(c.title.length).toBeGreaterThan(0);
      expect(c.detail.length).toBeGreaterThan(0);
      if (c.status !== 'ok') expect(c.fix, c.id).toBeTruthy();
    }
  });

  it('prints a readable report without colour when stdout is not a terminal', async () => {
    const result = await tsbpf('doctor');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).not.toContain('\u001b[');
    expect(result.stdout).toMatch(/^warn {2}kprobe support {2}.*does not exist/m);
    expect(result.stdout).toMatch(/^ +fix: use a kernel with CONFIG_KPROBES=y/m);
    expect(result.stdout).toContain('Ready: this machine can build and run tsbpf programs');
  });

  it('exits 1 and names the package when clang is missing', async () => {
    const result = await execa(process.execPath, [cliPath, 'doctor', '--json'], {
      reject: false,
      cwd: repoRoot,
      env: { PATH: tempDir() },
      extendEnv: false,
    });
    expect(result.exitCode).toBe(1);
    const report = JSON.parse(result.stdout) as DoctorReport;
    expect(report.ready).toBe(false);
    const clang = report.checks.find((c) => c.id === 'clang');
    expect(clang).toMatchObject({ status: 'fail', detail: 'clang was not found on PATH' });
    expect(clang?.fix).toContain('apt-get install clang llvm');
    expect(report.checks.find((c) => c.id === 'compile')).toMatchObject({
      status: 'fail',
      detail: 'not tried: clang was not found on PATH',
    });
  });

  it('checks a named clang on request', async () => {
    const report = await runDoctor({ clang: '/nonexistent/clang' });
    expect(report.ready).toBe(false);
    expect(report.checks.find((c) => c.id === 'clang')).toMatchObject({ status: 'fail' });
  });

  it('reports whether the real bpffs mounts are writable by every user', () => {
    // This machine's /sys/fs/bpf, whatever its mode: the check must agree with stat.
    const open = (statSync('/sys/fs/bpf').mode & 0o002) !== 0;
    expect(checkBpffs().status).toBe(open ? 'warn' : 'ok');
    // A private bpffs mounted with the kernel's default mode (1777), then made private as the fix says.
    const dir = tempDir('tsbpf-bpffs-');
    execFileSync('mount', ['-t', 'bpf', 'bpf', dir]);
    try {
      const mine = parseMounts(`bpf ${dir} bpf rw 0 0`);
      const before = checkBpffs(mine);
      expect(before).toMatchObject({ status: 'warn', fix: `chmod 0700 ${dir}` });
      expect(before.detail).toContain(`${dir} (mode 1777)`);
      execFileSync('sh', ['-c', before.fix!]);
      expect(checkBpffs(mine)).toMatchObject({ status: 'ok', detail: `mounted at ${dir}` });
    } finally {
      execFileSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
