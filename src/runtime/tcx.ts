// tcx: tc programs as BPF links (kernel 6.6+). A tcx link is an fd, so it goes with the process
// even after SIGKILL, where a netlink clsact filter stays on the interface. Used when libbpf has
// bpf_program__attach_tcx (1.3+: tsbpf asks libbpf for tcx only where libbpf itself knows it) and
// the kernel accepts the attach type; otherwise attachTc falls back to the netlink filter.
// The link is made with BPF_LINK_CREATE on the interface's ifindex and the direction's attach type
// (BPF_TCX_INGRESS/EGRESS, include/uapi/linux/bpf.h): the kernel checks that attach type, not the
// program's expected one, so SEC("tc") programs (expected attach type 0) can take it too.
import { EEXIST, EINVAL, SystemCallError } from './errors.js';
import { koffi, LinkCreateOpts, libbpf, TcHook, TcOpts } from './ffi/libbpf.js';
import { FdLink } from './link.js';

const BPF_TCX_INGRESS = 46;
const BPF_TCX_EGRESS = 47;

export type TcDirection = 'ingress' | 'egress';

/** How a tc link is attached: a tcx BPF link, or a netlink filter on the clsact qdisc. */
export type TcMechanism = 'tcx' | 'netlink';

/** A tcx link: closing its fd (or the process ending, however) detaches the program. */
export class TcxLink extends FdLink {
  readonly mechanism = 'tcx' as const;
  readonly direction: TcDirection;
  constructor(fd: number, direction: TcDirection) {
    super(fd);
    this.direction = direction;
  }
}

/** True when this libbpf knows tcx (bpf_program__attach_tcx, libbpf 1.3+). */
export function libbpfHasTcx(): boolean {
  return libbpf().bpf_program__attach_tcx !== undefined;
}

/** The direction a tcx section names (SEC("tcx/ingress"), and libbpf 1.3's alias SEC("tc/egress")). */
export function sectionDirection(sectionName: string): TcDirection | undefined {
  const m = /^tcx?\/(ingress|egress)$/.exec(sectionName);
  return m ? (m[1] as TcDirection) : undefined;
}

/**
 * A tcx link for progFd on ifindex, or undefined when the kernel has no tcx (before 6.6 it does not
 * know the attach type: EINVAL). Other failures are thrown as `what` with the errno.
 */
export function createTcxLink(
  progFd: number,
  ifindex: number,
  direction: TcDirection,
  fail: (errno: number) => Error,
): TcxLink | undefined {
  const type = direction === 'ingress' ? BPF_TCX_INGRESS : BPF_TCX_EGRESS;
  // No relative program or revision: appended after any tcx programs already there.
  const opts = { sz: koffi.sizeof(LinkCreateOpts), flags: 0 };
  const fd = libbpf().bpf_link_create(progFd, ifindex, type, opts) as number;
  if (fd === -EINVAL) return undefined;
  if (fd < 0) throw fail(-fd);
  return new TcxLink(fd, direction);
}

/** Number of tcx programs on the hook (BPF_PROG_QUERY on the ifindex). */
function tcxProgramCount(ifindex: number, direction: TcDirection): number {
  const count = new Uint32Array(1);
  const flags = new Uint32Array(1);
  const type = direction === 'ingress' ? BPF_TCX_INGRESS : BPF_TCX_EGRESS;
  const err = libbpf().bpf_prog_query(ifindex, type, 0, flags, null, count) as number;
  return err < 0 ? 0 : count[0]!;
}

/** True when a netlink filter holds tsbpf's default place (handle 1, priority 1) on the hook. */
function netlinkDefaultTaken(ifindex: number, direction: TcDirection): boolean {
  const hook = {
    sz: koffi.sizeof(TcHook),
    ifindex,
    attach_point: direction === 'ingress' ? 1 : 2,
    parent: 0,
  };
  const opts = { sz: koffi.sizeof(TcOpts), prog_fd: 0, flags: 0, prog_id: 0, handle: 1, priority: 1 };
  // 0: found; ENOENT (no such filter) or EINVAL (no clsact qdisc): free.
  return (libbpf().bpf_tc_query(hook, opts) as number) === 0;
}

/**
 * Where a SEC("tc") program would not run first and alone: another tcx program on the hook (this
 * one would go after it and, behind a TC_ACT_OK, see nothing), or a netlink filter at priority 1
 * (tcx runs before filters, so this one would take that filter's traffic). Both are refused, as a
 * second filter at a taken priority is.
 */
export function tcxBusy(ifindex: number, direction: TcDirection): 'tcx' | 'netlink' | undefined {
  if (tcxProgramCount(ifindex, direction) > 0) return 'tcx';
  if (netlinkDefaultTaken(ifindex, direction)) return 'netlink';
  return undefined;
}

export function tcxBusyError(program: string, ifname: string, direction: TcDirection): SystemCallError {
  return new SystemCallError(
    `program ${program}: another tc program is attached to ${ifname} ${direction} as a tcx link (EEXIST)`,
    EEXIST,
    {
      hint: `see it with \`bpftool net show dev ${ifname}\` (tcx links are not listed by \`tc filter show dev ${ifname} ${direction}\`); stop it, or attach this one as a netlink filter that runs after it: attachTc({ ..., priority: 1 })`,
    },
  );
}
