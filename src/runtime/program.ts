// Program: a loaded program and the ways to attach it. Each attach returns a Link that the owning
// collection also closes. Failures become errors that name what was missing (the symbol, the
// tracepoint, kprobe support) rather than a bare errno.
import {
  accessSync,
  existsSync,
  constants as fsConstants,
  readdirSync,
  readFileSync,
  unlinkSync,
} from 'node:fs';
import { delimiter, join } from 'node:path';
import { NotSupportedError, PermissionError, TsbpfError, UsageError } from '../errors.js';
import { errnoName } from '../linux.js';
import {
  type KprobeMultiOptions,
  kprobeMultiLink,
  type UprobeMultiOptions,
  uprobeMultiLink,
} from './attach-multi.js';
import { cgroupKindError, withCgroupFd } from './cgroup.js';
import { BPF_XDP, ProgType, XdpFlags } from './constants.js';
import {
  callError,
  capabilitiesFor,
  EACCES,
  EEXIST,
  EINTR,
  ENOENT,
  ENOTSUPP,
  EOPNOTSUPP,
  EPERM,
  ESRCH,
  tracefsHint,
  uprobePermissionError,
} from './errors.js';
import {
  koffi,
  LinkCreateOpts,
  libbpf,
  type Pointer,
  TcHook,
  TcOpts,
  TestRunOpts,
  UprobeOpts,
  UsdtOpts,
} from './ffi/libbpf.js';
import { libc } from './ffi/libc.js';
import { captureLibbpf } from './ffi/print.js';
import { isHookBusy, tcBusyError, xdpBusyError } from './hook-busy.js';
import { IterLink, type IterOptions, isIterSection, iterAttachOptions } from './iter.js';
import { FdLink, LibbpfLink, type Link, SocketLink, TcLink } from './link.js';
import { inactiveBpfLsmError } from './lsm.js';
import { type BpfMap, pinDetail } from './map.js';
import { attachProgramToMap, type MapAttachOptions } from './map-attach.js';
import { type NetfilterOptions, netfilterLink } from './netfilter.js';
import { type LinkRequest, netnsLink } from './netns.js';
import type { PerfEventOptions } from './perf-event.js';
import { attachPerfEvents, type PerfEventLink } from './perf-event-attach.js';
import { attachReuseport } from './reuseport.js';
import { manualAttachError } from './sections.js';
import { readProgramStream, type StreamName } from './stream.js';
import {
  createTcxLink,
  libbpfHasTcx,
  sectionDirection,
  type TcMechanism,
  type TcxLink,
  tcxBusy,
  tcxBusyError,
} from './tcx.js';
import { ensureTracefs } from './tracefs.js';
import { assertUsdtLayout, type UsdtOptions, usdtAttachError, usdtBinary } from './usdt.js';

export interface UprobeOptions {
  /** Path of the binary or library, or a name looked up in PATH (executables) or by libbpf (libraries). */
  binary: string;
  /** Function to probe (an ELF symbol of binary). */
  symbol?: string;
  /** Offset within the binary (added to the symbol's address when both are given). */
  offset?: number;
  /** Only this process (default: all). */
  pid?: number;
  /** A uretprobe (default: as the SEC() name says). */
  retprobe?: boolean;
  /** A value the program reads with bpf_get_attach_cookie(). */
  cookie?: bigint;
}

export interface XdpOptions {
  ifname?: string;
  ifindex?: number;
  /** Default: the kernel's choice (native when the driver supports it, otherwise generic). */
  mode?: 'generic' | 'native' | 'offload';
}

export interface TcOptions {
  ifname?: string;
  ifindex?: number;
  direction: 'ingress' | 'egress';
  /**
   * Filter priority; lower numbers run first (default 1). A second filter at a taken priority is
   * refused rather than put silently in front of the first, as a kernel-chosen priority would be.
   */
  priority?: number;
}

export interface TestRunInput {
  /** Packet bytes (XDP, tc, socket filter) or nothing. */
  data?: Uint8Array;
  /** Context (e.g. struct xdp_md / __sk_buff) bytes. */
  ctx?: Uint8Array;
  repeat?: number;
  /** Room for the output packet (default: data length + 256). */
  dataOutSize?: number;
}

export interface TestRunResult {
  retval: number;
  data: Uint8Array;
  ctx?: Uint8Array;
  /** Average nanoseconds per run. */
  duration: number;
}

/** Where a program's links are registered so the collection can close them. */
export interface LinkOwner {
  adopt(link: Link): Link;
}

export class Program {
  readonly name: string;
  readonly sectionName: string;
  readonly type: number;
  readonly #ptr: Pointer;
  readonly #owner: LinkOwner;
  /** The value size of its object's __bpf_usdt_specs map (<bpf/usdt.bpf.h>), if it has one. */
  readonly #usdtSpecSize: number | undefined;
  #closed = false;

  constructor(ptr: Pointer, owner: LinkOwner, usdtSpecSize?: number) {
    const l = libbpf();
    this.#ptr = ptr;
    this.#owner = owner;
    this.#usdtSpecSize = usdtSpecSize;
    this.name = l.bpf_program__name(ptr) as string;
    this.sectionName = l.bpf_program__section_name(ptr) as string;
    this.type = l.bpf_program__type(ptr) as number;
  }

  get fd(): number {
    if (this.#closed) throw new TsbpfError(`program ${this.name} is closed`);
    const fd = libbpf().bpf_program__fd(this.#ptr) as number;
    if (fd < 0)
      throw new TsbpfError(`program ${this.name} is not loaded`, {
        hint: 'its autoload was off, or it was skipped at load',
      });
    return fd;
  }

  /** The capabilities attaching this program needs (named in a PermissionError). */
  #caps(): ReturnType<typeof capabilitiesFor> {
    return capabilitiesFor(this.type);
  }

  /** @internal the owning collection closed. */
  invalidate(): void {
    this.#closed = true;
  }

  #link(
    what: string,
    call: () => Pointer,
    explain?: (errno: number, messages: string[]) => TsbpfError | undefined,
  ): Link {
    return this.#owner.adopt(this.#libbpfLink(what, call, explain));
  }

  /** A libbpf link the caller adopts (alone, or in a group of links); `make` wraps the pointer. */
  #libbpfLink<L extends LibbpfLink = LibbpfLink>(
    what: string,
    call: () => Pointer,
    explain?: (errno: number, messages: string[]) => TsbpfError | undefined,
    make: (ptr: Pointer) => L = (ptr) => new LibbpfLink(ptr) as L,
  ): L {
    this.fd; // throws when closed or not loaded
    const { result, error, messages } = captureLibbpf(call);
    if (error) throw error;
    if (!result) {
      const errno = koffi.errno();
      const texts = messages.map((m) => m.text.trim());
      throw (
        explain?.(errno, texts) ??
        callError(`program ${this.name}: ${what}`, errno, texts.slice(-2), undefined, this.#caps())
      );
    }
    return make(result);
  }

  /**
   * Attaches as the SEC() name says (libbpf's auto-attach). A name that says not where, as bcc and
   * cilium/ebpf examples write them (SEC("uretprobe/readline"): no binary), is a UsageError naming
   * the explicit call that attaches it (sections.ts).
   */
  attach(): Link {
    const manual = manualAttachError(this.name, this.sectionName);
    if (manual) throw manual;
    this.#assertLsmActive();
    if (/^k(ret)?(probe|syscall)(\.multi|\.session)?(\/|$)/.test(this.sectionName)) {
      assertKprobes(this.name, `SEC("${this.sectionName}")`);
    }
    // An iterator's link reads its output (iter.ts); libbpf's own would not.
    if (isIterSection(this.sectionName)) return this.attachIter();
    if (/^usdt(\.s)?(\/|$)/.test(this.sectionName)) assertUsdtLayout(this.name, this.#usdtSpecSize);
    // What libbpf's attach_tp does, through attachTracepoint so a missing one is named the same way.
    const tracepoint = /^(?:tp|tracepoint)\/([^/]+)\/(.+)$/.exec(this.sectionName);
    if (tracepoint) return this.attachTracepoint(tracepoint[1]!, tracepoint[2]!);
    // Multi-probes and sessions through their explicit calls too: the same errors (kernel without
    // fprobe, libbpf without uprobe.multi) whichever way they attach.
    const kmulti = /^(?:k(?:ret)?probe\.multi|kprobe\.session)\/(.+)$/.exec(this.sectionName);
    if (kmulti) return this.attachKprobeMulti({ pattern: kmulti[1]! });
    const umulti = /^(?:u(?:ret)?probe\.multi|uprobe\.session)(?:\.s)?\/(.+):([^:]+)$/.exec(this.sectionName);
    if (umulti) return this.attachUprobeMulti({ binary: umulti[1]!, pattern: umulti[2]! });
    return this.#link(
      `attach (SEC("${this.sectionName}"))`,
      () => libbpf().bpf_program__attach(this.#ptr),
      (errno, texts) => {
        if (
          errno === EOPNOTSUPP ||
          errno === ENOTSUPP ||
          texts.some((t) => t.includes('auto-attach is not supported'))
        ) {
          return new UsageError(
            `program ${this.name}: SEC("${this.sectionName}") does not say where to attach`,
            {
              hint: 'use an explicit form: attachXdp({ ifname }), attachTc({ ifname, direction }), attachUprobe({ binary, symbol }), attachKprobe({ symbol }), attachTracepoint(category, name) or attachRawTracepoint(name)',
            },
          );
        }
        return undefined;
      },
    );
  }

  attachUprobe(options: UprobeOptions): Link {
    const binary = resolveBinary(options.binary);
    if (!existsSync(binary)) {
      throw new TsbpfError(`program ${this.name}: cannot attach uprobe: ${binary} does not exist`, {
        hint: 'give the path of an existing binary or library',
      });
    }
    const retprobe = options.retprobe ?? /^uretprobe/.test(this.sectionName);
    const opts = {
      sz: koffi.sizeof(UprobeOpts),
      ref_ctr_offset: 0,
      bpf_cookie: options.cookie ?? 0n,
      retprobe,
      func_name: options.symbol ?? null,
    };
    const what = `attach ${retprobe ? 'uretprobe' : 'uprobe'} to ${binary}${options.symbol ? `:${options.symbol}` : ''}`;
    return this.#link(
      what,
      () =>
        libbpf().bpf_program__attach_uprobe_opts(
          this.#ptr,
          options.pid ?? -1,
          binary,
          options.offset ?? 0,
          opts,
        ),
      (errno) => {
        if (errno === ENOENT && options.symbol) {
          return new TsbpfError(`program ${this.name}: symbol ${options.symbol} not found in ${binary}`, {
            hint: `list its functions with \`nm -D ${binary}\` (or \`nm ${binary}\`); stripped binaries need an offset`,
          });
        }
        if (errno === ESRCH)
          return new TsbpfError(`program ${this.name}: no process ${options.pid} to probe`);
        if (errno === EACCES || errno === EPERM) {
          return uprobePermissionError(`program ${this.name}: ${what}`, errnoName(errno));
        }
        return undefined;
      },
    );
  }

  /**
   * Attaches a USDT probe (SEC("usdt") or SEC("usdt/...")): `provider:name` in `binary` (a path,
   * or a name looked up in PATH), for every process running it or only `pid`. The program reads
   * the probe's arguments with bpf_usdt_arg() and `cookie` with bpf_usdt_cookie() (<bpf/usdt.bpf.h>).
   * An object compiled with that header from the other side of libbpf 1.7 than the loaded libbpf
   * (their records differ) is a NotSupportedError before anything is attached.
   */
  attachUsdt(options: UsdtOptions): Link {
    const binary = usdtBinary(this.name, options);
    assertUsdtLayout(this.name, this.#usdtSpecSize);
    const what = `attach USDT ${options.provider}:${options.name} in ${binary}`;
    const opts = { sz: koffi.sizeof(UsdtOpts), usdt_cookie: options.cookie ?? 0n };
    return this.#link(
      what,
      () =>
        libbpf().bpf_program__attach_usdt(
          this.#ptr,
          options.pid ?? -1,
          binary,
          options.provider,
          options.name,
          opts,
        ),
      (errno, texts) =>
        usdtAttachError(this.name, binary, options, errno, texts) ??
        (errno === EACCES || errno === EPERM
          ? uprobePermissionError(`program ${this.name}: ${what}`, errnoName(errno))
          : undefined),
    );
  }

  /**
   * Attaches an iterator (SEC("iter/...")); the returned link reads its output: readText(),
   * readLines(), readRecords(codec), or lines() / records(codec) as async iterables.
   * `map` names the map a map iterator walks; `pid` / `tid` narrow a task iterator.
   */
  attachIter(options: IterOptions = {}): IterLink {
    const opts = iterAttachOptions(this.name, this.sectionName, options);
    const link = this.#libbpfLink(
      `attach iterator (SEC("${this.sectionName}"))`,
      () => libbpf().bpf_program__attach_iter(this.#ptr, opts),
      undefined,
      (ptr) => new IterLink(ptr).named(this.name),
    );
    return this.#owner.adopt(link) as IterLink;
  }

  attachKprobe(options: { symbol: string; retprobe?: boolean; offset?: number }): Link {
    assertKprobes(this.name);
    const retprobe = options.retprobe ?? /^kretprobe/.test(this.sectionName);
    return this.#link(
      `attach ${retprobe ? 'kretprobe' : 'kprobe'} to ${options.symbol}`,
      () => libbpf().bpf_program__attach_kprobe(this.#ptr, retprobe, options.symbol),
      (errno) =>
        errno === ENOENT
          ? new TsbpfError(`program ${this.name}: kernel function ${options.symbol} not found`, {
              hint: 'check /proc/kallsyms; inlined or static functions cannot be probed by name',
            })
          : undefined,
    );
  }

  attachTracepoint(category: string, name: string): Link {
    tracefsForAttach(this.name);
    return this.#link(
      `attach tracepoint ${category}/${name}`,
      () => libbpf().bpf_program__attach_tracepoint(this.#ptr, category, name),
      (errno) =>
        errno === ENOENT
          ? new TsbpfError(`program ${this.name}: tracepoint ${category}/${name} does not exist`, {
              hint: `list them with \`ls /sys/kernel/tracing/events/${category}\` (mount tracefs if it is empty)`,
            })
          : undefined,
    );
  }

  attachRawTracepoint(name: string): Link {
    return this.#link(
      `attach raw tracepoint ${name}`,
      () => libbpf().bpf_program__attach_raw_tracepoint(this.#ptr, name),
      (errno) =>
        errno === ENOENT
          ? new TsbpfError(`program ${this.name}: raw tracepoint ${name} does not exist`, {
              hint: 'raw tracepoint names are the tracepoint names without the category, e.g. sched_switch',
            })
          : undefined,
    );
  }

  /**
   * Attaches a kprobe.multi program to many kernel functions through one link: by glob
   * (`{ pattern: 'tcp_*' }`) or by name (`{ symbols: [...] }`). Needs a kernel with fprobe.
   * A SEC("kprobe.session") program attaches the same way and runs at entry and at return
   * (libbpf >= 1.5, Linux 6.10+).
   */
  attachKprobeMulti(options: KprobeMultiOptions): Link {
    return this.#request(kprobeMultiLink(this.#target(), options));
  }

  /**
   * Attaches a uprobe.multi program to many functions of a binary through one link
   * (`{ binary, pattern }` or `{ binary, symbols }`). Needs libbpf >= 1.3 and Linux 6.6+.
   * A SEC("uprobe.session") program attaches the same way and runs at entry and at return
   * (libbpf >= 1.6, Linux 6.13+).
   */
  attachUprobeMulti(options: UprobeMultiOptions): Link {
    const binary = resolveBinary(options.binary);
    return this.#request(uprobeMultiLink(this.#target(), binary, options));
  }

  /** sk_lookup and flow_dissector programs: attach to a network namespace (default: this process's). */
  attachNetns(path = '/proc/self/ns/net'): Link {
    return this.#request(netnsLink(this.#target(), path));
  }

  /** A SEC("netfilter") program on a netfilter hook (kernel 6.4+); works with libbpf 1.1 too. */
  attachNetfilter(options: NetfilterOptions): Link {
    const fd = netfilterLink(
      { name: this.name, sectionName: this.sectionName, type: this.type, fd: this.fd },
      options,
    );
    return this.#owner.adopt(new FdLink(fd));
  }

  #request(request: LinkRequest): Link {
    return this.#link(request.what, request.call, request.explain);
  }

  /** What the attach modules need to know of this program. */
  #target() {
    return {
      name: this.name,
      sectionName: this.sectionName,
      type: this.type,
      ptr: this.#ptr,
      expectedAttachType: libbpf().bpf_program__expected_attach_type(this.#ptr) as number,
    };
  }

  /** An lsm program attached where the bpf LSM is off would never run (lsm.ts). */
  #assertLsmActive(): void {
    if (this.type !== ProgType.lsm) return;
    const inactive = inactiveBpfLsmError(this.name);
    if (inactive) throw inactive;
  }

  /** fentry/fexit/fmod_ret/tp_btf/lsm programs: attach to the target named at load. */
  attachTrace(): Link {
    this.#assertLsmActive();
    return this.#link('attach', () => libbpf().bpf_program__attach_trace(this.#ptr));
  }

  attachXdp(options: XdpOptions): Link {
    const ifindex = interfaceIndex(options);
    if (!options.mode) {
      return this.#link(
        `attach XDP to ${describeIf(options)}`,
        () => libbpf().bpf_program__attach_xdp(this.#ptr, ifindex),
        (errno) => (isHookBusy(errno) ? xdpBusyError(this.name, describeIf(options), errno) : undefined),
      );
    }
    const opts = { sz: koffi.sizeof(LinkCreateOpts), flags: XdpFlags[options.mode] };
    const fd = libbpf().bpf_link_create(this.fd, ifindex, BPF_XDP, opts) as number;
    if (isHookBusy(-fd)) throw xdpBusyError(this.name, describeIf(options), -fd);
    if (fd < 0) {
      throw callError(
        `program ${this.name}: attach XDP (${options.mode}) to ${describeIf(options)}`,
        -fd,
        -fd === 95 ? [`the driver has no ${options.mode} XDP support; try mode 'generic'`] : [],
        undefined,
        this.#caps(),
      );
    }
    return this.#owner.adopt(new FdLink(fd));
  }

  /**
   * Attaches a tc (SCHED_CLS) program. With libbpf >= 1.3 on a kernel with tcx (6.6+) and no
   * `priority` given, a tcx link, which goes with the process even after SIGKILL; otherwise a
   * direct-action filter on the interface's clsact qdisc (created when missing). The link's
   * `mechanism` says which (tcx.ts).
   */
  attachTc(options: TcOptions): Link & { readonly mechanism: TcMechanism } {
    const ifindex = interfaceIndex(options);
    const l = libbpf();
    const named = sectionDirection(this.sectionName);
    if (named && named !== options.direction) {
      throw new UsageError(
        `program ${this.name}: SEC("${this.sectionName}") attaches at ${named}, not ${options.direction}`,
        {
          hint: `attachTc({ ..., direction: '${named}' }), or write SEC("tc") to choose the direction at attach`,
        },
      );
    }
    if (libbpfHasTcx() && options.priority === undefined) {
      // SEC("tcx/...") chose tcx's many programs per hook; SEC("tc") keeps tsbpf's one-per-place rule.
      const busy = named ? undefined : tcxBusy(ifindex, options.direction);
      if (busy === 'tcx') throw tcxBusyError(this.name, describeIf(options), options.direction);
      if (busy === 'netlink') throw tcBusyError(this.name, describeIf(options), options.direction, 1);
      const link = createTcxLink(this.fd, ifindex, options.direction, (errno) =>
        callError(
          `program ${this.name}: attach tcx ${options.direction} on ${describeIf(options)}`,
          errno,
          [],
          undefined,
          ['CAP_NET_ADMIN'],
        ),
      );
      if (link) return this.#owner.adopt(link) as TcxLink;
    }
    const hook = {
      sz: koffi.sizeof(TcHook),
      ifindex,
      attach_point: options.direction === 'ingress' ? 1 : 2,
      parent: 0,
    };
    const created = l.bpf_tc_hook_create(hook) as number;
    if (created < 0 && created !== -EEXIST) {
      throw callError(
        `program ${this.name}: create clsact qdisc on ${describeIf(options)}`,
        -created,
        [],
        undefined,
        ['CAP_NET_ADMIN'],
      );
    }
    const opts = {
      sz: koffi.sizeof(TcOpts),
      prog_fd: this.fd,
      flags: 0,
      prog_id: 0,
      // A fixed handle and priority: the kernel refuses a second filter there (EEXIST), where
      // with both left to it, it would run the newest first and the older one would see nothing.
      handle: 1,
      priority: options.priority ?? 1,
    };
    const err = l.bpf_tc_attach(hook, opts) as number;
    if (err === -EEXIST) throw tcBusyError(this.name, describeIf(options), options.direction, opts.priority);
    if (err < 0)
      throw callError(
        `program ${this.name}: attach tc ${options.direction} on ${describeIf(options)}`,
        -err,
        [],
        undefined,
        ['CAP_NET_ADMIN'],
      );
    return this.#owner.adopt(new TcLink(hook, opts)) as TcLink;
  }

  /**
   * Attaches to a cgroup (v2) directory, e.g. /sys/fs/cgroup/my.slice: cgroup_skb, cgroup/sock_*,
   * cgroup/connect*, sendmsg*, recvmsg*, getsockopt/setsockopt, cgroup/sysctl, cgroup/dev and
   * sockops programs. The program runs for the processes in that cgroup and its descendants, after
   * any attached higher up (a link: several programs may share a cgroup, none replaces another).
   * A missing or non-cgroup path is a UsageError, one the user may not open a PermissionError.
   */
  attachCgroup(path: string): Link {
    const what = `program ${this.name}: attach to cgroup`;
    const kind = cgroupKindError(this.name, this.sectionName, this.type);
    if (kind) throw kind;
    return withCgroupFd(what, path, (fd) =>
      this.#link(`attach to cgroup ${path}`, () => libbpf().bpf_program__attach_cgroup(this.#ptr, fd)),
    );
  }

  /** Attaches a socket filter to a socket fd (see openRawSocket). */
  attachSocket(socketFd: number): Link {
    if (this.type !== ProgType.socketFilter) {
      throw new UsageError(`program ${this.name} is not a socket filter (SEC("socket"))`);
    }
    // SOL_SOCKET = 1, SO_ATTACH_BPF = 50 (include/uapi/asm-generic/socket.h)
    const value = new Int32Array([this.fd]);
    const rc = libc().setsockopt(socketFd, 1, 50, value, 4) as number;
    if (rc < 0) throw callError(`program ${this.name}: attach to socket ${socketFd}`, koffi.errno());
    return this.#owner.adopt(new SocketLink(socketFd));
  }

  /**
   * Attaches an sk_reuseport program to the SO_REUSEPORT group of a bound socket (any socket of the
   * group): it then picks the socket for each packet or connection, e.g. with a ReuseportSockArray.
   */
  attachReuseport(socketFd: number): Link {
    return this.#owner.adopt(attachReuseport(this, socketFd));
  }

  /**
   * Attaches an sk_skb (stream parser/verdict) or sk_msg program to a SOCKMAP or SOCKHASH (a BpfMap
   * or a typed view of one), as its SEC() name says or `attachType` overrides. Sockets take the
   * map's programs when they are added: attach first, then add sockets (map-attach.ts).
   */
  attachToMap(map: BpfMap | { readonly map: BpfMap }, options: MapAttachOptions = {}): Link {
    return this.#owner.adopt(attachProgramToMap(this, 'map' in map ? map.map : map, options));
  }

  /**
   * Attaches a SEC("perf_event") program to a perf event on each CPU, opened here:
   * attachPerfEvent({ event: 'cpu-clock', frequency: 99 }) samples every process 99 times a second
   * per CPU; `pid` or `cgroup` narrow it, `cpus` picks CPUs. One Link closes them all.
   * Given a perf event fd (from the caller's own perf_event_open), attaches to that one; the
   * link then owns the fd and closes it on close().
   */
  attachPerfEvent(options: PerfEventOptions): PerfEventLink;
  attachPerfEvent(perfEventFd: number): Link;
  attachPerfEvent(target: number | PerfEventOptions): Link {
    const attachFd = (fd: number) =>
      this.#libbpfLink('attach to perf event', () => libbpf().bpf_program__attach_perf_event(this.#ptr, fd));
    if (typeof target === 'number') return this.#owner.adopt(attachFd(target));
    if (this.type !== ProgType.perfEvent) {
      throw new UsageError(
        `program ${this.name}: attachPerfEvent(options) samples with a SEC("perf_event") program; SEC("${this.sectionName}") is not one`,
        { hint: 'write the sampling program as SEC("perf_event") int fn(struct bpf_perf_event_data *ctx)' },
      );
    }
    this.fd; // throws when closed or not loaded, before any event is opened
    return this.#owner.adopt(attachPerfEvents(`program ${this.name}`, target, attachFd)) as PerfEventLink;
  }

  /** Runs the program once (or `repeat` times) on the given input with BPF_PROG_TEST_RUN. */
  testRun(input: TestRunInput = {}): TestRunResult {
    const data = input.data ?? new Uint8Array(0);
    const dataOut = new Uint8Array(input.dataOutSize ?? data.byteLength + 256);
    // A syscall program's run writes its ctx back into ctx_in and refuses a ctx_out
    // (net/bpf/test_run.c, bpf_prog_test_run_syscall): run it on a copy and return that.
    const syscall = this.type === ProgType.syscall;
    const ctxIn = syscall && input.ctx ? input.ctx.slice() : input.ctx;
    const ctxOut = input.ctx && !syscall ? new Uint8Array(input.ctx.byteLength) : null;
    const opts = {
      sz: koffi.sizeof(TestRunOpts),
      data_in: data.byteLength > 0 ? data : null,
      data_out: data.byteLength > 0 ? dataOut : null,
      data_size_in: data.byteLength,
      data_size_out: data.byteLength > 0 ? dataOut.byteLength : 0,
      ctx_in: ctxIn ?? null,
      ctx_out: ctxOut,
      ctx_size_in: input.ctx?.byteLength ?? 0,
      ctx_size_out: ctxOut?.byteLength ?? 0,
      retval: 0,
      repeat: input.repeat ?? 0,
      duration: 0,
      flags: 0,
      cpu: 0,
      batch_size: 0,
    };
    const err = libbpf().bpf_prog_test_run_opts(this.fd, opts) as number;
    if (err < 0) {
      throw callError(
        `program ${this.name}: test run`,
        -err,
        -err === ENOTSUPP
          ? ['this program type has no test run in this kernel']
          : -err === EINTR
            ? ['a signal arrived during the runs (the kernel stops a repeated run then); run it again']
            : [],
      );
    }
    const result: TestRunResult = {
      retval: opts.retval,
      data: dataOut.slice(0, opts.data_size_out),
      duration: opts.duration,
    };
    if (ctxOut) result.ctx = ctxOut.slice(0, opts.ctx_size_out);
    else if (syscall && ctxIn) result.ctx = ctxIn;
    return result;
  }

  /**
   * Reads, and so empties, what the program wrote to its BPF stream: bpf_stream_printk() output on
   * 'stdout' or 'stderr', where the kernel also reports a program it stopped (stream.ts). Needs
   * Linux 6.17+ and libbpf 1.6+ (a NotSupportedError says which is missing).
   */
  readStream(stream: StreamName = 'stdout'): string {
    return readProgramStream(this.fd, stream, `program ${this.name}`);
  }

  /** Pins the program on a bpffs path. */
  pin(path: string): void {
    const err = libbpf().bpf_obj_pin(this.fd, path) as number;
    if (err < 0) throw callError(`program ${this.name}: pin at ${path}`, -err, pinDetail(-err));
  }

  /** Removes a pin made with pin(path). */
  unpin(path: string): void {
    unlinkSync(path);
  }
}

/**
 * libbpf reads a tracepoint's id from tracefs, which is often root-only (mode 700): a process with
 * CAP_BPF + CAP_PERFMON but not root cannot look into it, and would otherwise be told that tracefs
 * is not mounted (ensureTracefs sees no events/ folder and fails to mount one).
 */
function tracefsForAttach(program: string): void {
  for (const root of ['/sys/kernel/tracing', '/sys/kernel/debug/tracing']) {
    try {
      // Listed, not access()ed: access() judges by the real uid without capabilities, and
      // CAP_DAC_READ_SEARCH (which does let libbpf in) would be missed.
      readdirSync(root);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EACCES') {
        throw new PermissionError(
          `program ${program}: cannot attach a tracepoint: ${root} (tracefs) is not readable by this user`,
          { hint: tracefsHint, cause: error },
        );
      }
      continue;
    }
    break;
  }
  ensureTracefs();
}

/** A clear error where the kernel has no kprobes (no kprobe PMU and no kprobe_events). */
export function assertKprobes(program: string, what = 'kprobe/kretprobe programs'): void {
  const pmu = existsSync('/sys/bus/event_source/devices/kprobe');
  const legacy =
    existsSync('/sys/kernel/tracing/kprobe_events') || existsSync('/sys/kernel/debug/tracing/kprobe_events');
  if (!pmu && !legacy) {
    throw new NotSupportedError(`program ${program}: this kernel has no kprobes, so ${what} cannot attach`, {
      hint: 'the kernel is built without CONFIG_KPROBES; use a tracepoint, raw tracepoint or fentry program instead',
    });
  }
}

function interfaceIndex(options: { ifname?: string; ifindex?: number }): number {
  if (options.ifindex !== undefined) return options.ifindex;
  if (!options.ifname) throw new UsageError('name the interface: { ifname } or { ifindex }');
  const index = libc().if_nametoindex(options.ifname) as number;
  if (index === 0) {
    throw new TsbpfError(`network interface ${options.ifname} does not exist`, {
      hint: 'list interfaces with `ip link`',
    });
  }
  return index;
}

function describeIf(options: { ifname?: string; ifindex?: number }): string {
  return options.ifname ?? `ifindex ${options.ifindex}`;
}

/**
 * Resolves a bare name as the shell (executables, through PATH) or the dynamic linker (libraries:
 * LD_LIBRARY_PATH, /etc/ld.so.conf.d, the multiarch and standard directories) would.
 */
export function resolveBinary(binary: string): string {
  if (binary.includes('/')) return binary;
  const isLibrary = /\.so(\.|$)/.test(binary);
  const dirs = isLibrary
    ? libraryDirs()
    : (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter);
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, binary);
    try {
      accessSync(candidate, isLibrary ? fsConstants.R_OK : fsConstants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  throw new TsbpfError(`cannot find ${binary} in ${isLibrary ? 'the library directories' : 'PATH'}`, {
    hint: 'give the absolute path of the binary or library',
  });
}

const multiarch: Record<string, string> = {
  x64: 'x86_64-linux-gnu',
  arm64: 'aarch64-linux-gnu',
  arm: 'arm-linux-gnueabihf',
  ia32: 'i386-linux-gnu',
  s390x: 's390x-linux-gnu',
  ppc64: 'powerpc64le-linux-gnu',
  riscv64: 'riscv64-linux-gnu',
  loong64: 'loongarch64-linux-gnu',
};

function libraryDirs(): string[] {
  const dirs = (process.env.LD_LIBRARY_PATH ?? '').split(':');
  try {
    for (const conf of readdirSync('/etc/ld.so.conf.d')) {
      if (!conf.endsWith('.conf')) continue;
      for (const line of readFileSync(join('/etc/ld.so.conf.d', conf), 'utf8').split('\n')) {
        const dir = line.trim();
        if (dir.startsWith('/')) dirs.push(dir);
      }
    }
  } catch {
    // no ld.so.conf.d (e.g. musl): the standard directories below
  }
  const triplet = multiarch[process.arch];
  if (triplet) dirs.push(`/lib/${triplet}`, `/usr/lib/${triplet}`);
  dirs.push('/lib64', '/usr/lib64', '/lib', '/usr/lib', '/usr/local/lib');
  return dirs;
}
