// Programs attached to a network namespace: sk_lookup (picks the socket an incoming connection or
// datagram goes to) and flow_dissector (parses packets for the kernel's flow hashing). libbpf's
// bpf_program__attach_netns makes a netns link from a namespace fd (/proc/<pid>/ns/net or a
// bind-mounted /run/netns/<name>); the link holds the namespace, so the fd is closed at once.
import { closeSync, openSync } from 'node:fs';
import { type TsbpfError, UsageError } from '../errors.js';
import { ProgType } from './constants.js';
import { E2BIG, EEXIST, EINVAL, SystemCallError } from './errors.js';
import { koffi, libbpf, type Pointer } from './ffi/libbpf.js';

/** What Program needs to make and explain a libbpf link. */
export interface LinkRequest {
  what: string;
  call: () => Pointer;
  explain?: (errno: number, messages: string[]) => TsbpfError | undefined;
}

const netnsKinds = new Map<number, string>([
  [ProgType.skLookup, 'sk_lookup'],
  [ProgType.flowDissector, 'flow_dissector'],
]);

/** The netns link request for `program` (sk_lookup or flow_dissector) in the namespace at `path`. */
export function netnsLink(
  program: { name: string; sectionName: string; type: number; ptr: Pointer },
  path: string,
): LinkRequest {
  const kind = netnsKinds.get(program.type);
  if (!kind) {
    throw new UsageError(
      `program ${program.name}: attachNetns() attaches sk_lookup and flow_dissector programs; SEC("${program.sectionName}") is neither`,
      {
        hint: 'write the program as SEC("sk_lookup") or SEC("flow_dissector"), or use the attach call of its kind',
      },
    );
  }
  return {
    what: `attach ${kind} to network namespace ${path}`,
    call: () => {
      let fd: number;
      try {
        fd = openSync(path, 'r');
      } catch (cause) {
        throw new UsageError(`program ${program.name}: cannot open network namespace ${path}`, {
          cause,
          hint: 'give /proc/<pid>/ns/net or a namespace bind-mounted by `ip netns add` (/run/netns/<name>)',
        });
      }
      const link = libbpf().bpf_program__attach_netns(program.ptr, fd);
      const errno = koffi.errno(); // before close(), which may change it
      closeSync(fd);
      koffi.errno(errno);
      return link;
    },
    explain: (errno) => {
      // A second flow dissector link: E2BIG; one attached without a link (bpftool prog attach): EEXIST.
      if ((errno === E2BIG || errno === EEXIST) && kind === 'flow_dissector') {
        return new SystemCallError(
          `program ${program.name}: network namespace ${path} already has a flow dissector program (${errno === E2BIG ? 'E2BIG' : 'EEXIST'})`,
          errno,
          {
            hint: 'a namespace takes one flow dissector (and none in a child namespace while the root namespace has one): close the other link first (`bpftool link` lists them)',
          },
        );
      }
      if (errno === EINVAL) {
        return new UsageError(`program ${program.name}: ${path} is not a network namespace (EINVAL)`, {
          hint: 'give /proc/<pid>/ns/net or /run/netns/<name>',
        });
      }
      return undefined;
    },
  };
}
