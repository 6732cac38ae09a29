// Doctor checks fed other machines' answers: /proc/self/status text, sysctl values, mount
// tables, and fake /sys folders built in a temp dir.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkBpffs,
  checkJit,
  checkKernelBtf,
  checkKernelVersion,
  checkLibbpf,
  checkLibbpfHeaders,
  checkLinuxHeaders,
  checkNode,
  checkPmu,
  checkPrivileges,
  checkTracefs,
  checkUnprivilegedBpf,
  type DoctorReport,
  formatReport,
  hasCapability,
  isPrivileged,
  parseCapEff,
  parseKernelRelease,
  parseMounts,
} from '../../src/doctor/index.js';
import { tempDir } from '../helpers/paths.js';

const status = (capEff: string) =>
  `Name:\tnode\nUid:\t1000\t1000\t1000\t1000\nCapInh:\t0000000000000000\nCapEff:\t${capEff}\n`;

describe('capabilities', () => {
  it('parses CapEff and tests single capabilities', () => {
    const root = parseCapEff(status('000001fffeffffff'));
    expect(hasCapability(root, 'CAP_BPF')).toBe(true);
    expect(hasCapability(root, 'CAP_SYS_RESOURCE')).toBe(false); // bit 24 is clear in that mask
    expect(isPrivileged(root)).toBe(true);
    // CAP_BPF (39) + CAP_PERFMON (38) only
    expect(isPrivileged(parseCapEff(status('000000c000000000')))).toBe(true);
    // CAP_BPF alone is not enough for tracing programs
    expect(isPrivileged(parseCapEff(status('0000008000000000')))).toBe(false);
    // CAP_SYS_ADMIN (21) implies both
    expect(isPrivileged(parseCapEff(status('0000000000200000')))).toBe(true);
    expect(parseCapEff('no such line')).toBe(0n);
  });

  it('reports root ok, a plain user as fail with the sudo fix, and a missing CAP_NET_ADMIN as warn', () => {
    expect(checkPrivileges(status('000001ffffffffff'), 0)).toMatchObject({ id: 'privileges', status: 'ok' });
    const user = checkPrivileges(status('0000000000000000'), 1000);
    expect(user.status).toBe('fail');
    expect(user.detail).toContain('uid 1000');
    expect(user.fix).toContain('sudo');
    const noNet = checkPrivileges(status('000000c000000000'), 1000);
    expect(noNet.status).toBe('warn');
    expect(noNet.detail).toContain('CAP_NET_ADMIN');
  });

  it('judges kernel.unprivileged_bpf_disabled by who asks', () => {
    expect(checkUnprivilegedBpf('0\n', false).status).toBe('ok');
    expect(checkUnprivilegedBpf('2\n', true).status).toBe('ok');
    const refused = checkUnprivilegedBpf('1\n', false);
    expect(refused.status).toBe('fail');
    expect(refused.detail).toContain('unprivileged_bpf_disabled=1');
  });
});

describe('kernel', () => {
  it('grades kernel versions', () => {
    expect(parseKernelRelease('6.18.44-fc-v669')).toEqual([6, 18]);
    expect(checkKernelVersion('6.1.0-13-amd64').status).toBe('ok');
    expect(checkKernelVersion('5.8.0').status).toBe('ok');
    expect(checkKernelVersion('5.4.0-150-generic').status).toBe('warn');
    expect(checkKernelVersion('4.19.0').status).toBe('fail');
  });

  it('checks the BTF file by its magic', () => {
    const dir = tempDir();
    const good = join(dir, 'vmlinux');
    writeFileSync(good, Buffer.from([0x9f, 0xeb, 1, 0, 24, 0, 0, 0]));
    const bad = join(dir, 'not-btf');
    writeFileSync(bad, 'hello');
    expect(checkKernelBtf(good).status).toBe('ok');
    expect(checkKernelBtf(bad)).toMatchObject({ status: 'fail', detail: `${bad} is not BTF` });
    const missing = checkKernelBtf(join(dir, 'nothing'));
    expect(missing.status).toBe('fail');
    expect(missing.fix).toContain('CONFIG_DEBUG_INFO_BTF');
  });

  it('finds probe PMUs, falls back to legacy tracefs, else warns', () => {
    const sys = tempDir();
    const tracing = tempDir();
    mkdirSync(join(sys, 'uprobe'));
    writeFileSync(join(sys, 'uprobe', 'type'), '8\n');
    expect(checkPmu('uprobe', sys, tracing)).toMatchObject({
      status: 'ok',
      detail: "perf PMU 'uprobe' (type 8)",
    });
    const kprobe = checkPmu('kprobe', sys, tracing);
    expect(kprobe.status).toBe('warn');
    expect(kprobe.fix).toContain('CONFIG_KPROBES');
    writeFileSync(join(tracing, 'kprobe_events'), '');
    expect(checkPmu('kprobe', sys, tracing).status).toBe('ok');
  });

  it('reads the JIT switch', () => {
    const dir = tempDir();
    const file = join(dir, 'bpf_jit_enable');
    writeFileSync(file, '1\n');
    expect(checkJit(file).status).toBe('ok');
    writeFileSync(file, '0\n');
    expect(checkJit(file)).toMatchObject({ status: 'warn', fix: 'sysctl -w net.core.bpf_jit_enable=1' });
    expect(checkJit(join(dir, 'missing')).status).toBe('warn');
  });
});

describe('mounts', () => {
  const table = [
    'sysfs /sys sysfs rw,nosuid 0 0',
    'nodev /sys/kernel/tracing tracefs rw,relatime 0 0',
    'bpf /sys/fs/bpf bpf rw,relatime 0 0',
    'tmp /mnt/with\\040space tmpfs rw 0 0',
  ].join('\n');

  it('parses /proc/self/mounts, unescaping paths', () => {
    const mounts = parseMounts(table);
    expect(mounts).toHaveLength(4);
    expect(mounts[3]).toEqual({ source: 'tmp', target: '/mnt/with space', type: 'tmpfs' });
  });

  it('reports tracefs and bpffs, with the mount command when missing', () => {
    expect(checkTracefs(parseMounts(table))).toMatchObject({
      status: 'ok',
      detail: 'mounted at /sys/kernel/tracing',
    });
    expect(checkBpffs(parseMounts(table), () => 0o41700)).toMatchObject({
      status: 'ok',
      detail: 'mounted at /sys/fs/bpf',
    });
    const none = parseMounts('sysfs /sys sysfs rw 0 0');
    expect(checkTracefs(none)).toMatchObject({
      status: 'warn',
      fix: 'mount -t tracefs nodev /sys/kernel/tracing',
    });
    expect(checkBpffs(none)).toMatchObject({
      status: 'warn',
      fix: 'mount -t bpf -o mode=0700 bpf /sys/fs/bpf',
    });
    expect(checkTracefs(parseMounts('debugfs /sys/kernel/debug debugfs rw 0 0')).status).toBe('ok');
  });

  it('warns about a bpffs every user can write to (the kernel default, 1777), with the fix', () => {
    const two = parseMounts(`${table}\nbpf /run/pins bpf rw 0 0\nbpf /sys/fs/bpf bpf rw 0 0`);
    const modes: Record<string, number> = { '/sys/fs/bpf': 0o41777, '/run/pins': 0o40700 };
    const result = checkBpffs(two, (path) => modes[path]);
    expect(result).toEqual({
      id: 'bpffs',
      title: 'bpffs',
      status: 'warn',
      detail:
        "writable by every user: /sys/fs/bpf (mode 1777); any user can plant a pin where root's pinned maps go",
      fix: 'chmod 0700 /sys/fs/bpf',
    });
    // Group-writable is the admin's choice; an unreadable mount point is not reported as open.
    expect(checkBpffs(two, () => 0o40770).status).toBe('ok');
    expect(checkBpffs(two, () => undefined)).toMatchObject({
      status: 'ok',
      detail: 'mounted at /sys/fs/bpf, /run/pins',
    });
  });
});

describe('headers and libraries', () => {
  it('finds libbpf headers and their version, or names libbpf-dev', () => {
    const root = tempDir();
    mkdirSync(join(root, 'bpf'));
    writeFileSync(
      join(root, 'bpf', 'libbpf_version.h'),
      '#define LIBBPF_MAJOR_VERSION 1\n#define LIBBPF_MINOR_VERSION 4\n',
    );
    writeFileSync(join(root, 'bpf', 'bpf_helpers.h'), '');
    expect(checkLibbpfHeaders([tempDir(), root])).toMatchObject({
      status: 'ok',
      detail: `libbpf 1.4 headers in ${join(root, 'bpf')}`,
    });
    expect(checkLibbpfHeaders([tempDir()])).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining('libbpf-dev'),
    });
  });

  it('needs linux/bpf.h and an asm/ folder', () => {
    const root = tempDir();
    expect(checkLinuxHeaders(root, 'x64').status).toBe('fail');
    mkdirSync(join(root, 'linux'));
    writeFileSync(join(root, 'linux', 'bpf.h'), '');
    expect(checkLinuxHeaders(root, 'x64')).toMatchObject({
      status: 'fail',
      detail: 'asm/types.h is not installed',
    });
    mkdirSync(join(root, 'x86_64-linux-gnu', 'asm'), { recursive: true });
    writeFileSync(join(root, 'x86_64-linux-gnu', 'asm', 'types.h'), '');
    expect(checkLinuxHeaders(root, 'x64')).toMatchObject({
      status: 'ok',
      detail: `linux/bpf.h in ${root}, asm/types.h in ${join(root, 'x86_64-linux-gnu', 'asm')}`,
    });
    expect(checkLinuxHeaders(root, 'arm64').status).toBe('fail');
  });

  it('fails clearly for a libbpf that cannot be loaded', () => {
    const result = checkLibbpf('libbpf-no-such.so.9');
    expect(result.status).toBe('fail');
    expect(result.detail).toContain('libbpf-no-such.so.9 cannot be loaded');
    expect(result.fix).toContain('libbpf1');
  });
});

describe('checkNode', () => {
  it('needs Node 20.19 or newer', () => {
    expect(checkNode('20.19.0').status).toBe('ok');
    expect(checkNode('22.1.0').status).toBe('ok');
    expect(checkNode('20.18.3')).toMatchObject({
      status: 'fail',
      detail: 'Node.js 20.18.3 is older than 20.19',
    });
  });
});

describe('formatReport', () => {
  const report: DoctorReport = {
    ready: true,
    checks: [
      { id: 'clang', title: 'clang', status: 'ok', detail: 'clang 14.0.6' },
      { id: 'kprobe', title: 'kprobe support', status: 'warn', detail: 'no PMU', fix: 'use another kernel' },
    ],
  };

  it('prints one line per check, fixes under warnings, and the verdict, without colour off a TTY', () => {
    const text = formatReport(report, { isTTY: false } as NodeJS.WriteStream);
    expect(text).not.toContain('\u001b[');
    expect(text.split('\n').slice(0, 3)).toEqual([
      'ok    clang           clang 14.0.6',
      'warn  kprobe support  no PMU',
      '                      fix: use another kernel',
    ]);
    expect(text).toContain(
      'Ready: this machine can build and run tsbpf programs (1 optional feature missing',
    );
    const failed = formatReport(
      {
        ready: false,
        checks: [
          {
            id: 'clang',
            title: 'clang',
            status: 'fail',
            detail: 'missing',
            fix: 'apt-get install clang llvm',
          },
        ],
      },
      { isTTY: false } as NodeJS.WriteStream,
    );
    expect(failed).toContain('FAIL  clang  missing');
    expect(failed).toContain('Not ready: 1 check failed');
  });
});
