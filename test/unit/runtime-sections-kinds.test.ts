// attach()'s answer for the program kinds with attach calls of their own (kinds.test.ts runs them):
// the section names no target, so the error names the call.
import { describe, expect, it } from 'vitest';
import { manualAttachError } from '../../src/runtime/sections.js';

const hint = (section: string): string | undefined => manualAttachError('p', section)?.hint;

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
});
