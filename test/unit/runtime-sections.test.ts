// Which SEC() names attach() hands to libbpf and which it answers with the explicit call: the names
// libbpf 1.1 attaches by itself (a target in the name) pass; the rest name their explicit form.
import { describe, expect, it } from 'vitest';
import { manualAttachError } from '../../src/runtime/sections.js';

const hint = (section: string): string | undefined => manualAttachError('p', section)?.hint;

describe('manualAttachError', () => {
  it('leaves to libbpf the sections that name their target', () => {
    for (const section of [
      'uprobe//bin/bash:readline',
      'uretprobe/libc.so.6:malloc',
      'uprobe.s//usr/bin/app:main+0x10',
      'usdt//usr/bin/app:myapp:request_start',
      'kprobe/do_unlinkat',
      'kretprobe/do_unlinkat',
      'ksyscall/openat',
      'tp/syscalls/sys_enter_openat',
      'tracepoint/sched/sched_switch',
      'raw_tp/sys_enter',
      'fentry/do_unlinkat',
      'tp_btf/sched_switch',
      'iter/task',
      'lsm/file_open',
    ]) {
      expect(manualAttachError('p', section), section).toBeUndefined();
    }
  });

  it('names attachUprobe with the symbol, offset and direction the section gives', () => {
    expect(manualAttachError('p', 'uretprobe/readline')?.message).toBe(
      'program p: SEC("uretprobe/readline") names the function readline but no binary, so attach() cannot attach it',
    );
    expect(hint('uretprobe/readline')).toBe(
      "attach it with attachUprobe({ binary: '/path/to/binary', symbol: 'readline', retprobe: true }), " +
        'or name the binary in the section: SEC("uretprobe//path/to/binary:readline")',
    );
    expect(hint('uprobe.s/main+0x10')).toContain(
      "attachUprobe({ binary: '/path/to/binary', symbol: 'main', offset: 0x10 })",
    );
    expect(hint("uprobe/it's")).toContain("symbol: 'it\\'s'");
  });

  it('names the explicit form of every section that says not where', () => {
    expect(hint('kprobe')).toBe(
      'attach it with attachKprobe({ symbol: \'function\' }), or name the function: SEC("kprobe/function")',
    );
    expect(hint('kretprobe')).toContain("attachKprobe({ symbol: 'function', retprobe: true })");
    expect(hint('ksyscall')).toBe(
      'name it in the section, e.g. SEC("ksyscall/openat") (tsbpf has no explicit ksyscall attach)',
    );
    expect(hint('tp')).toContain("attachTracepoint('syscalls', 'sys_enter_openat')");
    expect(hint('tracepoint/sched')).toContain("attachTracepoint('category', 'name')");
    expect(hint('raw_tp')).toContain("attachRawTracepoint('sys_enter')");
    expect(hint('perf_event')).toContain("attachPerfEvent({ event: 'cpu-clock', frequency: 99 })");
    expect(hint('socket')).toContain('attachSocket(socketFd)');
    expect(hint('xdp')).toContain("attachXdp({ ifname: 'eth0' })");
    expect(hint('xdp.frags')).toContain('attachXdp');
    expect(hint('tc')).toContain("attachTc({ ifname: 'eth0', direction: 'ingress' })");
    expect(hint('classifier')).toContain('attachTc');
    expect(hint('cgroup_skb/ingress')).toContain("attachCgroup('/sys/fs/cgroup/<group>')");
    expect(hint('usdt')).toContain(
      "attachUsdt({ binary: '/path/to/binary', provider: 'provider', name: 'name' })",
    );
    expect(hint('usdt')).toContain('SEC("usdt//path/to/binary:provider:name")');
    expect(hint('usdt/app:probe')).toContain(
      "attachUsdt({ binary: '/path/to/binary', provider: 'app', name: 'probe' })",
    );
  });
});

// The program kinds with attach calls of their own (kinds.test.ts runs them): the section names
// no target, so the error names the call.
describe('manualAttachError for netns, netfilter, syscall and multi-probe sections', () => {
  it('names attachNetns, attachNetfilter and testRun', () => {
    expect(hint('sk_lookup')).toBe(
      "attach it with attachNetns() (this process's namespace) or attachNetns('/run/netns/<name>')",
    );
    expect(hint('flow_dissector')).toContain('attachNetns()');
    expect(hint('netfilter')).toBe(
      "attach it with attachNetfilter({ pf: 'ipv4', hooknum: 'input', priority: -100 })",
    );
    expect(hint('syscall')).toContain('testRun({ ctx })');
  });

  it('names the multi-probe calls, and leaves full names to attach()', () => {
    expect(hint('kretprobe.multi')).toContain("attachKprobeMulti({ pattern: 'tcp_*', retprobe: true })");
    expect(hint('uprobe.multi/str*')).toBe(
      "attach it with attachUprobeMulti({ binary: '/path/to/binary', pattern: 'str*' }), or name both: SEC(\"uprobe.multi//path/to/binary:str*\")",
    );
    expect(hint('uretprobe.multi.s')).toContain('retprobe: true');
    for (const section of ['kprobe.multi/tcp_*', 'uprobe.multi//usr/lib/libc.so.6:str*']) {
      expect(manualAttachError('p', section), section).toBeUndefined();
    }
  });

  it('names the same calls for session sections, without retprobe', () => {
    expect(hint('kprobe.session')).toBe(
      "attach it with attachKprobeMulti({ pattern: 'tcp_*' }) or attachKprobeMulti({ symbols: ['a', 'b'] }), or name a pattern: SEC(\"kprobe.session/tcp_*\")",
    );
    expect(hint('uprobe.session.s/str*')).toBe(
      "attach it with attachUprobeMulti({ binary: '/path/to/binary', pattern: 'str*' }), or name both: SEC(\"uprobe.session.s//path/to/binary:str*\")",
    );
    for (const section of ['kprobe.session/tcp_*', 'uprobe.session//usr/lib/libc.so.6:str*']) {
      expect(manualAttachError('p', section), section).toBeUndefined();
    }
  });
});
