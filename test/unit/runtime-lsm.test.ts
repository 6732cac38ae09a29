// attach() of an lsm program where bpf is not among the active LSMs: said, not silently inert.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inactiveBpfLsmError } from '../../src/runtime/lsm.js';
import { tempDir } from '../helpers/paths.js';

describe('inactiveBpfLsmError', () => {
  const file = (text: string) => {
    const path = join(tempDir('tsbpf-lsm-'), 'lsm');
    writeFileSync(path, text);
    return path;
  };

  it('names the active LSMs and the lsm= list that adds bpf', () => {
    const error = inactiveBpfLsmError('refuse_open', file('lockdown,capability,yama,apparmor\n'));
    expect(error?.constructor.name).toBe('NotSupportedError');
    expect(error?.message).toBe(
      "program refuse_open: the kernel's active LSMs (lockdown,capability,yama,apparmor) do not include bpf, so an lsm program would attach and never run",
    );
    expect(error?.hint).toContain('lsm=lockdown,capability,yama,apparmor,bpf');
  });

  it('says nothing where bpf is active, or where securityfs cannot tell', () => {
    expect(inactiveBpfLsmError('p', file('lockdown,capability,landlock,bpf'))).toBeUndefined();
    expect(inactiveBpfLsmError('p', '/nonexistent/lsm')).toBeUndefined();
  });
});
