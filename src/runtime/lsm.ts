// lsm programs load and attach on any kernel built with CONFIG_BPF_LSM, but run only where bpf is
// among the active LSMs (securityfs's lsm file: the lsm= boot parameter, else CONFIG_LSM). Attached
// elsewhere, one would do nothing and say nothing; attach says so instead.
import { readFileSync } from 'node:fs';
import { NotSupportedError } from '../errors.js';

/** The error for attaching an lsm program where the bpf LSM is not active; undefined when it is, or when unknown. */
export function inactiveBpfLsmError(
  program: string,
  lsmFile = '/sys/kernel/security/lsm',
): NotSupportedError | undefined {
  let active: string;
  try {
    active = readFileSync(lsmFile, 'utf8').trim();
  } catch {
    return undefined; // securityfs not mounted (or not readable): nothing to tell from
  }
  if (active.split(',').includes('bpf')) return undefined;
  return new NotSupportedError(
    `program ${program}: the kernel's active LSMs (${active}) do not include bpf, so an lsm program would attach and never run`,
    {
      hint: `boot with bpf in the lsm= list, e.g. lsm=${active},bpf (the kernel has CONFIG_BPF_LSM: the program loaded)`,
    },
  );
}
