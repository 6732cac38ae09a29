// docs/troubleshooting.md explains the verifier's common refusals: each program here makes the
// real verifier refuse for one reason, and the page must have a heading that reason matches.
// Needs root and clang.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CollectionSpec, VerifierError } from '../../src/runtime/index.js';
import { compileSource } from '../helpers/bpf.js';
import { repoRoot } from '../helpers/paths.js';

const head = `#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
char LICENSE[] SEC("license") = "GPL";
#define PROG SEC("tracepoint/syscalls/sys_enter_getppid")
`;

/** One refusal each; the comment is the reason the verifier gives on 6.x kernels. */
const programs: Record<string, string> = {
  // invalid mem access 'map_value_or_null'
  unchecked_lookup: `struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 1); __type(key, u32); __type(value, u64); } m SEC(".maps");
PROG int p(void *ctx) { u32 k = 0; u64 *v = bpf_map_lookup_elem(&m, &k); *v += 1; return 0; }`,
  // R1 type=ringbuf_mem_or_null expected=ringbuf_mem
  unchecked_reserve: `struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 4096); } rb SEC(".maps");
PROG int p(void *ctx) { u32 *e = bpf_ringbuf_reserve(&rb, 4, 0); bpf_ringbuf_submit(e, 0); return 0; }`,
  // R0 invalid mem access 'scalar'
  direct_kernel_read: `PROG int p(void *ctx) { struct task_struct *t = (void *)bpf_get_current_task(); return t->pid; }`,
  // R7 unbounded memory access
  unbounded_index: `struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __type(key, u32); __type(value, char[64]); } a SEC(".maps");
PROG int p(void *ctx) { u32 k = 0; char *v = bpf_map_lookup_elem(&a, &k); if (!v) return 0; u32 i = bpf_get_prandom_u32(); return v[i]; }`,
  // infinite loop detected at insn 1
  infinite_loop: `PROG __attribute__((naked)) int p(void *ctx) { asm volatile("r0 = 0; 1: goto 1b"); }`,
  // BPF program is too large. Processed 1000001 insn
  too_long: `PROG __attribute__((naked)) int p(void *ctx) { asm volatile("r0 = 0; 1: r0 += 1; if r0 != 0 goto 1b; exit"); }`,
  // R0 !read_ok
  no_return_value: `PROG __attribute__((naked)) int p(void *ctx) { asm volatile("exit"); }`,
  // unreachable insn 1
  dead_code: `PROG int p(void *ctx) { asm volatile("exit"); return 0; }`,
};

/**
 * Each heading's backticked phrases under "## Verifier errors", as patterns (`…` stands for
 * anything): `R2 unbounded memory access` matches the reason "R7 unbounded memory access, ...".
 */
function headingPatterns(): RegExp[] {
  const page = readFileSync(join(repoRoot, 'docs', 'troubleshooting.md'), 'utf8');
  const section = page.slice(
    page.indexOf('## Verifier errors'),
    page.indexOf('\n## ', page.indexOf('## Verifier errors') + 1),
  );
  return [...section.matchAll(/^### (.+)$/gm)].flatMap((m) =>
    [...(m[1] ?? '').matchAll(/`([^`]+)`/g)].map((phrase) => {
      const text = (phrase[1] ?? '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replaceAll('…', '.*');
      // A register number in a heading stands for any register.
      return new RegExp(text.replace(/^R\d+ /, 'R\\d+ '));
    }),
  );
}

describe.skipIf(process.getuid?.() !== 0)('troubleshooting.md: verifier messages', () => {
  const patterns = headingPatterns();
  for (const [name, body] of Object.entries(programs)) {
    it(`has a heading for the reason ${name} is refused`, async () => {
      const spec = CollectionSpec.fromBytes(compileSource(`doc-verifier-${name}`, head + body));
      const error = await spec.load().then(
        (c) => c.close(),
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(VerifierError);
      const reason = (error as VerifierError).message;
      expect(
        patterns.filter((p) => p.test(reason)),
        `no heading matches: ${reason}`,
      ).not.toEqual([]);
    }, 60_000);
  }
});
