// A network hook that another program already holds. The kernel answers a second XDP attach with
// EBUSY (EEXIST for some paths) and a second tc filter at the same priority and handle with
// EEXIST; these say who holds it, how to look, and what to do instead of a bare errno.

import { SystemCallError } from './errors.js';

const EBUSY = 16;
const EEXIST = 17;

/** True for the errnos the kernel gives a second program on a hook that takes one. */
export const isHookBusy = (errno: number): boolean => errno === EBUSY || errno === EEXIST;

export function xdpBusyError(program: string, ifname: string, errno: number): SystemCallError {
  return new SystemCallError(
    `program ${program}: another XDP program is attached to ${ifname} (${errno === EBUSY ? 'EBUSY' : 'EEXIST'}); an interface runs one`,
    errno,
    {
      hint: `see it with \`bpftool net show dev ${ifname}\` or \`ip link show dev ${ifname}\`; stop the process that attached it (or, for one attached with ip: \`ip link set dev ${ifname} xdp off\`), then attach again`,
    },
  );
}

export function tcBusyError(
  program: string,
  ifname: string,
  direction: string,
  priority: number,
): SystemCallError {
  return new SystemCallError(
    `program ${program}: another tc program is attached to ${ifname} ${direction} at priority ${priority} (EEXIST)`,
    EEXIST,
    {
      hint: `see it with \`tc filter show dev ${ifname} ${direction}\` (or \`bpftool net show dev ${ifname}\`); stop it, or attach this one with another priority: attachTc({ ..., priority: ${priority + 1} }) (lower numbers run first; a verdict other than TC_ACT_UNSPEC ends the chain)`,
    },
  );
}
