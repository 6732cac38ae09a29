// Programs attached to a map rather than to a hook: sk_skb stream parser/verdict and sk_msg
// verdict programs run on the sockets of a SOCKMAP or SOCKHASH. libbpf 1.1 has no auto-attach for
// their sections, so this is BPF_PROG_ATTACH with the map's fd as the target, and the link's
// close() is BPF_PROG_DETACH (bpf_prog_detach2). The kernel copies the map's programs into each
// socket as it is added (net/core/sock_map.c, sock_map_link), so attach before adding sockets.
import { UsageError } from '../errors.js';
import { MapType, ProgType, SockMapAttachType } from './constants.js';
import { callError, EBADF, ENOENT } from './errors.js';
import { libbpf } from './ffi/libbpf.js';
import { dupCloexec, libc } from './ffi/libc.js';
import { BaseLink } from './link.js';
import type { BpfMap } from './map.js';
import type { Program } from './program.js';

/** What a program runs as on a socket map (enum bpf_attach_type). */
export type MapAttachType = 'streamParser' | 'streamVerdict' | 'skbVerdict' | 'msgVerdict';

export interface MapAttachOptions {
  /** Default: from the SEC() name (sk_skb/stream_parser, sk_skb/stream_verdict, sk_msg). */
  attachType?: MapAttachType;
}

/** The attach type a SEC() name implies, as libbpf's section table gives it. */
function attachTypeOf(section: string): MapAttachType | undefined {
  if (/^sk_skb\/stream_parser$/.test(section)) return 'streamParser';
  if (/^sk_skb\/stream_verdict$/.test(section)) return 'streamVerdict';
  if (/^sk_skb\/verdict$/.test(section)) return 'skbVerdict';
  if (/^sk_msg(\/|$)/.test(section)) return 'msgVerdict';
  return undefined;
}

/** A program attached to a map with BPF_PROG_ATTACH; it holds its own fds of both until close. */
class MapAttachLink extends BaseLink {
  #progFd: number;
  #mapFd: number;
  readonly #type: number;
  constructor(progFd: number, mapFd: number, type: number) {
    super();
    this.#progFd = progFd;
    this.#mapFd = mapFd;
    this.#type = type;
  }

  protected release(): void {
    if (this.#progFd < 0) return;
    const err = libbpf().bpf_prog_detach2(this.#progFd, this.#mapFd, this.#type) as number;
    libc().close(this.#progFd);
    libc().close(this.#mapFd);
    this.#progFd = -1;
    this.#mapFd = -1;
    // ENOENT: another program replaced this one on the map (BPF_PROG_ATTACH replaces), so it is off.
    if (err < 0 && err !== -ENOENT) throw callError('detach program from map', -err);
  }
}

/** Attaches `program` to a SOCKMAP/SOCKHASH; the caller adopts the link. */
export function attachProgramToMap(program: Program, map: BpfMap, options: MapAttachOptions = {}): BaseLink {
  const who = `program ${program.name}`;
  if (program.type !== ProgType.skSkb && program.type !== ProgType.skMsg) {
    throw new UsageError(`${who}: SEC("${program.sectionName}") is not an sk_skb or sk_msg program`, {
      hint: 'attachToMap(map) attaches SEC("sk_skb/stream_parser"), SEC("sk_skb/stream_verdict") and SEC("sk_msg") programs to a sockmap',
    });
  }
  if (map.type !== MapType.sockmap && map.type !== MapType.sockhash) {
    throw new UsageError(`${who}: map ${map.name} (${map.typeName}) is not a sockmap or sockhash`, {
      hint: 'attach sk_skb/sk_msg programs to a BPF_MAP_TYPE_SOCKMAP or BPF_MAP_TYPE_SOCKHASH map',
    });
  }
  const kind = options.attachType ?? attachTypeOf(program.sectionName);
  if (kind === undefined) {
    throw new UsageError(`${who}: SEC("${program.sectionName}") does not say whether it parses or judges`, {
      hint: "name it SEC(\"sk_skb/stream_parser\") or SEC(\"sk_skb/stream_verdict\"), or pass { attachType: 'streamParser' | 'streamVerdict' | 'skbVerdict' }",
    });
  }
  const isMsg = kind === 'msgVerdict';
  if (isMsg !== (program.type === ProgType.skMsg)) {
    throw new UsageError(`${who}: attach type ${kind} does not fit SEC("${program.sectionName}")`, {
      hint: 'msgVerdict is for SEC("sk_msg") programs; streamParser, streamVerdict and skbVerdict for SEC("sk_skb/...")',
    });
  }
  const type = SockMapAttachType[kind];
  const progFd = dupCloexec(program.fd);
  const mapFd = dupCloexec(map.fd);
  if (progFd < 0 || mapFd < 0) {
    if (progFd >= 0) libc().close(progFd);
    if (mapFd >= 0) libc().close(mapFd);
    throw callError(`${who}: duplicate fds to attach to map ${map.name}`, EBADF);
  }
  const err = libbpf().bpf_prog_attach(progFd, mapFd, type, 0) as number;
  if (err < 0) {
    libc().close(progFd);
    libc().close(mapFd);
    throw callError(`${who}: attach to map ${map.name} as ${kind}`, -err, [], undefined, [
      'CAP_BPF',
      'CAP_NET_ADMIN',
    ]);
  }
  return new MapAttachLink(progFd, mapFd, type);
}
