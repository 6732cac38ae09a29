// __ksym externs the kernel does not have, or has with another type: libbpf stops the load before
// any program reaches the kernel and names no program, so tsbpf says which kfunc or variable, which
// functions use it (from the object's relocations) and, for a type mismatch, both declarations
// (from the two BTFs). A __weak kfunc the kernel lacks loads; an unguarded call to it is a
// VerifierError whose hint names it. Runs under every libbpf and kernel of the matrices.
import { closeSync, openSync } from 'node:fs';
import { release } from 'node:os';
import { describe, expect, it } from 'vitest';
import { readKernelBtf } from '../../src/btf/kernel.js';
import { NotSupportedError } from '../../src/errors.js';
import { declaration } from '../../src/runtime/externs.js';
import { CollectionSpec, VerifierError } from '../../src/runtime/index.js';
import { compileSource } from '../helpers/bpf.js';
import { loadErrorOf } from './helpers.js';

const head = `#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
char LICENSE[] SEC("license") = "GPL";
`;

function open(name: string, body: string): CollectionSpec {
  return CollectionSpec.fromBytes(compileSource(`externs-${name}`, head + body), { name });
}

describe('__ksym externs the kernel cannot resolve', () => {
  it('a kfunc the kernel lacks is a NotSupportedError naming it and the program and subprogram calling it', async () => {
    const spec = open(
      'kfunc',
      `extern int bpf_tsbpf_no_such_kfunc(int x) __ksym;
static __noinline int helper(int x) { return bpf_tsbpf_no_such_kfunc(x); }
SEC("socket") int calls(void *ctx) { return bpf_tsbpf_no_such_kfunc(1) + helper(2); }
SEC("socket") int plain(void *ctx) { return 0; }`,
    );
    const error = await loadErrorOf(spec);
    expect(error).toBeInstanceOf(NotSupportedError);
    expect(error.message).toBe(
      'load BPF object: this kernel has no kfunc bpf_tsbpf_no_such_kfunc (used by program calls, subprogram helper)',
    );
    expect(error.hint).toBe(
      'run a kernel that has it, or declare it __weak and call it only where bpf_ksym_exists(bpf_tsbpf_no_such_kfunc) is true, so the object loads without it',
    );
  });

  it('a kernel variable the kernel lacks is a NotSupportedError naming it', async () => {
    const spec = open(
      'var',
      `extern const int tsbpf_no_such_var __ksym;
SEC("socket") int reads(void *ctx) { return tsbpf_no_such_var; }`,
    );
    const error = await loadErrorOf(spec);
    expect(error).toBeInstanceOf(NotSupportedError);
    expect(error.message).toBe(
      'load BPF object: this kernel has no kernel variable tsbpf_no_such_var (used by program reads)',
    );
    expect(error.hint).toContain(
      'declare it __weak and read it only where bpf_ksym_exists(tsbpf_no_such_var) is true',
    );
  });

  it('a kernel variable declared with another type names both declarations', async () => {
    // runqueues (struct rq, per CPU) is in the BTF of every kernel with BTF.
    const spec = open(
      'vartype',
      `extern const int runqueues __ksym;
SEC("socket") int reads(void *ctx) { return *(int *)bpf_this_cpu_ptr(&runqueues); }`,
    );
    const error = await loadErrorOf(spec);
    expect(error).toBeInstanceOf(NotSupportedError);
    expect(error.message).toBe(
      "load BPF object: this kernel's kernel variable runqueues has another type than the object declares (used by program reads): the object has const int runqueues, the kernel struct rq runqueues",
    );
    expect(error.hint).toBe(
      "declare it as this kernel does (struct rq runqueues), or build against this kernel's vmlinux.h",
    );
  });

  it('a kfunc declared with another prototype names both prototypes (a kernel without the kfunc: that it has none)', async () => {
    const spec = open(
      'proto',
      `extern void bpf_rcu_read_lock(int x) __ksym;
SEC("tp_btf/sys_enter") int calls(void *ctx) { bpf_rcu_read_lock(1); return 0; }`,
    );
    const error = await loadErrorOf(spec);
    expect(error).toBeInstanceOf(NotSupportedError);
    // bpf_rcu_read_lock came in Linux 6.2: the kernel matrix's 6.1 lacks it.
    if (declaration(readKernelBtf(), 'bpf_rcu_read_lock') === undefined) {
      expect(error.message).toBe(
        'load BPF object: this kernel has no kfunc bpf_rcu_read_lock (used by program calls)',
      );
      return;
    }
    expect(error.message).toBe(
      "load BPF object: this kernel's kfunc bpf_rcu_read_lock has another type than the object declares (used by program calls): the object has void bpf_rcu_read_lock(int), the kernel void bpf_rcu_read_lock(void)",
    );
    expect(error.hint).toBe(
      "declare it as this kernel does (void bpf_rcu_read_lock(void)), or build against this kernel's vmlinux.h",
    );
  });

  it('a __weak kfunc the kernel lacks loads where bpf_ksym_exists() guards the call, and the guard is false', async () => {
    await using coll = await open(
      'weak',
      `extern int bpf_tsbpf_no_such_kfunc(int x) __ksym __weak;
SEC("socket") int guarded(void *ctx) {
  if (bpf_ksym_exists(bpf_tsbpf_no_such_kfunc)) return bpf_tsbpf_no_such_kfunc(1);
  return 7;
}`,
    ).load();
    expect(coll.program('guarded').testRun({ data: new Uint8Array(64) }).retval).toBe(7);
  });

  it('an unguarded call to a __weak kfunc the kernel lacks is a VerifierError whose hint names the kfunc and the guard', async () => {
    const spec = open(
      'weak-unguarded',
      `extern int bpf_tsbpf_no_such_kfunc(int x) __ksym __weak;
SEC("socket") int unguarded(void *ctx) { return bpf_tsbpf_no_such_kfunc(1); }`,
    );
    const error = await loadErrorOf(spec);
    expect(error).toBeInstanceOf(VerifierError);
    expect(error.message).toMatch(/^the verifier rejected program unguarded/);
    expect(error.hint).toMatch(
      /^this kernel has no bpf_tsbpf_no_such_kfunc \(called by program unguarded\): a __weak kfunc it lacks stays unresolved, and the verifier refuses a call to it that no if \(bpf_ksym_exists\(bpf_tsbpf_no_such_kfunc\)\) guards; /,
    );
  });
});

describe('__kconfig externs', () => {
  // libbpf reads the kernel's config from one of these; the kernel matrix's guests have neither
  // (Debian builds without IKCONFIG, and the guest's /boot is the host's).
  const configReadable = ['/proc/config.gz', `/boot/config-${release()}`].some((f) => {
    try {
      closeSync(openSync(f, 'r'));
      return true;
    } catch {
      return false;
    }
  });

  it(`an option the kernel does not set is a NotSupportedError naming it and its users (this kernel's config: ${configReadable ? 'readable' : 'none'})`, async () => {
    const spec = open(
      'kconfig',
      `extern int CONFIG_TSBPF_NO_SUCH_OPTION __kconfig;
SEC("socket") int reads(void *ctx) { return CONFIG_TSBPF_NO_SUCH_OPTION; }`,
    );
    const error = await loadErrorOf(spec);
    expect(error).toBeInstanceOf(NotSupportedError);
    if (!configReadable) {
      expect(error.message).toBe(
        "load BPF object: this kernel's configuration cannot be read, which the object's __kconfig externs need (CONFIG_TSBPF_NO_SUCH_OPTION) (used by program reads)",
      );
      expect(error.hint).toContain('libbpf reads /boot/config-$(uname -r), else /proc/config.gz');
      return;
    }
    expect(error.message).toBe(
      "load BPF object: this kernel's configuration does not set CONFIG_TSBPF_NO_SUCH_OPTION (used by program reads)",
    );
    expect(error.hint).toBe(
      'declare it __weak, so it reads as 0 where the kernel does not set it, and test it before use',
    );
  });

  it('a __weak option the kernel does not set reads as 0', async (ctx) => {
    if (!configReadable) {
      ctx.skip(
        "this kernel's configuration is not readable (no /proc/config.gz, no /boot/config-<release>): libbpf sets no __kconfig extern; the test above checks the error",
      );
    }
    await using coll = await open(
      'kconfig-weak',
      `extern int CONFIG_TSBPF_NO_SUCH_OPTION __kconfig __weak;
SEC("socket") int reads(void *ctx) { return CONFIG_TSBPF_NO_SUCH_OPTION + 5; }`,
    ).load();
    expect(coll.program('reads').testRun({ data: new Uint8Array(64) }).retval).toBe(5);
  });
});
