// The extern errors' pieces that need no kernel (externs.ts): libbpf's messages read, and an
// object that cannot be read giving no users rather than an error of its own.
import { describe, expect, it } from 'vitest';
import { NotSupportedError } from '../../src/errors.js';
import { declaration, externLoadError, functionsUsing } from '../../src/runtime/externs.js';

describe('externLoadError', () => {
  it("reads libbpf 1.1's and 1.7's messages for a missing kfunc and variable", () => {
    const kfunc = externLoadError('load BPF object', [
      "libbpf: extern (func ksym) 'bpf_x': not found in kernel or module BTFs",
    ]);
    expect(kfunc).toBeInstanceOf(NotSupportedError);
    expect(kfunc?.message).toBe('load BPF object: this kernel has no kfunc bpf_x');
    expect(
      externLoadError('load BPF object', ["libbpf: extern (var ksym) 'v': not found in kernel BTF"])?.message,
    ).toBe('load BPF object: this kernel has no kernel variable v');
  });

  it('reads a prototype mismatch whether libbpf says "kernel" (1.1) or "vmlinux" (1.7)', () => {
    for (const where of ['kernel', 'vmlinux', 'nf_conntrack']) {
      const error = externLoadError('load BPF object', [
        `libbpf: extern (func ksym) 'bpf_y': func_proto [5] incompatible with ${where} [121]`,
      ]);
      expect(error?.message).toMatch(
        /^load BPF object: this kernel's kfunc bpf_y has another type than the object declares/,
      );
    }
  });

  it('is undefined for other failures', () => {
    expect(externLoadError('load BPF object', ["libbpf: map 'm': failed to create: -22"])).toBeUndefined();
  });
});

describe('functionsUsing and declaration', () => {
  it('give nothing for bytes that are not an object, or no BTF', () => {
    expect(functionsUsing(new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1]), ['bpf_x'])).toEqual(new Map());
    expect(functionsUsing(new Uint8Array(0), ['bpf_x'])).toEqual(new Map());
    expect(declaration(undefined, 'bpf_x')).toBeUndefined();
  });
});
