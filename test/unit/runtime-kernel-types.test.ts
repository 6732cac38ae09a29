// Whether a failed load means the kernel lacks a program or map type (kernel-types.ts), decided from
// the errno, libbpf's probe of the type and the kernel's BTF enum, and what the user is told.
import { describe, expect, it } from 'vitest';
import { EINVAL, EPERM } from '../../src/runtime/errors.js';
import { lacksType, mapTypeError } from '../../src/runtime/kernel-types.js';

describe('lacksType', () => {
  const never = (): boolean => {
    throw new Error('the BTF enum was asked where the probe had answered');
  };

  it('trusts a probe that answers', () => {
    expect(lacksType(EINVAL, 0, never)).toBe(true);
    expect(lacksType(EINVAL, 1, never)).toBe(false);
  });

  it("asks the kernel's BTF enum where this libbpf cannot probe the type, and counts an unknown as present", () => {
    const EOPNOTSUPP = -95;
    expect(lacksType(EINVAL, EOPNOTSUPP, () => false)).toBe(true);
    expect(lacksType(EINVAL, EOPNOTSUPP, () => true)).toBe(false);
    expect(lacksType(EINVAL, EOPNOTSUPP, () => undefined)).toBe(false);
  });

  it('blames the type only for EINVAL (a missing type is what makes the kernel answer that)', () => {
    expect(lacksType(EPERM, 0, never)).toBe(false);
  });
});

describe('mapTypeError', () => {
  it('names the map, its type, the Linux release that added it and how to load without it', () => {
    const error = mapTypeError('load BPF object', { name: 'cgroup_counts', type: 32 }, '6.1.0-31-amd64');
    expect(error.name).toBe('NotSupportedError');
    expect(error.message).toBe(
      'load BPF object: map cgroup_counts: this kernel has no BPF_MAP_TYPE_CGRP_STORAGE maps (map type 32)',
    );
    expect(error.hint).toBe(
      "BPF_MAP_TYPE_CGRP_STORAGE needs Linux 6.2 or newer (this kernel is 6.1.0-31-amd64); or load without the map: turn its autocreate off before load (spec.maps.get('cgroup_counts').autocreate = false; in a generated loader spec.maps.<name>.autocreate) with autoload off for the programs that use it",
    );
  });

  it('knows the newest types by name and release (arena, instruction arrays)', () => {
    expect(mapTypeError('w', { name: 'a', type: 33 }, 'k').hint).toMatch(
      /^BPF_MAP_TYPE_ARENA needs Linux 6\.9 /,
    );
    expect(mapTypeError('w', { name: 'j', type: 34 }, 'k').hint).toMatch(
      /^BPF_MAP_TYPE_INSN_ARRAY needs Linux 6\.19 /,
    );
  });

  it('says so when no release tsbpf knows has the type', () => {
    const error = mapTypeError('load BPF object', { name: 'odd', type: 99 }, '6.18.0');
    expect(error.message).toBe('load BPF object: map odd: this kernel has no map type 99');
    expect(error.hint).toMatch(
      /^no Linux release tsbpf knows has map type 99: check the map's type in the C source; or load /,
    );
  });
});
