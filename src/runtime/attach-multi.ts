// One program on many kernel or user functions through one link: kprobe.multi (libbpf 1.1 has
// bpf_program__attach_kprobe_multi_opts; the kernel needs CONFIG_FPROBE, Linux 5.18+) and
// uprobe.multi (bpf_program__attach_uprobe_multi is libbpf 1.3+, looked up by symbol; Linux 6.6+).
// Functions are named by a glob pattern or a list; libbpf resolves them (kallsyms or the
// binary's ELF symbols) and the kernel attaches them all at once, so attaching 1000 functions
// is one syscall, not 1000 perf events.
// Session programs (SEC("kprobe.session"): libbpf 1.5, Linux 6.10; SEC("uprobe.session"): libbpf
// 1.6, Linux 6.13) are multi links too, made with the opts' `session` flag: one program runs at
// entry and at return, told apart by the bpf_session_is_return() kfunc. A libbpf whose opts lack
// the flag refuses it (a nonzero byte past the fields it knows), and that is how tsbpf tells.
import { existsSync } from 'node:fs';
import { NotSupportedError, TsbpfError, UsageError } from '../errors.js';
import { EINVAL, ENOENT, ENOTSUPP, EOPNOTSUPP, ESRCH } from './errors.js';
import {
  KprobeMultiOpts,
  koffi,
  libbpf,
  libbpfVersion,
  type Pointer,
  UprobeMultiOpts,
} from './ffi/libbpf.js';
import type { LinkRequest } from './netns.js';

// enum bpf_attach_type (include/uapi/linux/bpf.h)
const BPF_TRACE_KPROBE_MULTI = 42;
const BPF_TRACE_UPROBE_MULTI = 48;
const BPF_TRACE_KPROBE_SESSION = 56;
const BPF_TRACE_UPROBE_SESSION = 57;

export interface KprobeMultiOptions {
  /** A glob over kernel function names (`*` and `?`), e.g. 'tcp_v4_*'. Give this or `symbols`. */
  pattern?: string;
  /** Kernel function names. */
  symbols?: string[];
  /** kretprobes (default: as the SEC() name says, kretprobe.multi); not `true` for session programs. */
  retprobe?: boolean;
  /** One bpf_get_attach_cookie() value per symbol, in the order of `symbols`. */
  cookies?: bigint[];
}

export interface UprobeMultiOptions {
  /** Path of the binary or library, or a name looked up as attachUprobe does. */
  binary: string;
  /** A glob over the binary's function names, e.g. 'str*'. Give this or `symbols`. */
  pattern?: string;
  /** Function names of the binary. */
  symbols?: string[];
  /** Only this process (default: all). */
  pid?: number;
  /** uretprobes (default: as the SEC() name says, uretprobe.multi); not `true` for session programs. */
  retprobe?: boolean;
  /** One bpf_get_attach_cookie() value per symbol, in the order of `symbols`. */
  cookies?: bigint[];
}

interface MultiProgram {
  name: string;
  sectionName: string;
  expectedAttachType: number;
  ptr: Pointer;
}

/** Which functions: exactly one of pattern and symbols, cookies only with symbols. */
function targets(
  what: string,
  options: { pattern?: string; symbols?: string[]; cookies?: bigint[] },
): { pattern: string | null; symbols: string[] | null; cookies: BigUint64Array | null } {
  const { pattern, symbols, cookies } = options;
  if ((pattern === undefined) === (symbols === undefined) || symbols?.length === 0 || pattern === '') {
    throw new UsageError(`${what}: name the functions with either a pattern or a non-empty symbols list`, {
      hint: "e.g. { pattern: 'tcp_*' } or { symbols: ['tcp_sendmsg', 'tcp_recvmsg'] }",
    });
  }
  if (cookies && (!symbols || cookies.length !== symbols.length)) {
    throw new UsageError(
      `${what}: ${cookies.length} cookies for ${symbols?.length ?? 'a pattern of'} functions`,
      {
        hint: 'give one cookie per entry of symbols (a pattern takes no cookies)',
      },
    );
  }
  return {
    pattern: pattern ?? null,
    symbols: symbols ?? null,
    cookies: cookies ? BigUint64Array.from(cookies) : null,
  };
}

function describe(t: { pattern: string | null; symbols: string[] | null }): string {
  return t.pattern !== null ? `pattern ${t.pattern}` : t.symbols!.join(', ');
}

/** A session program runs at return as well: `retprobe: true` asks for what cannot be. */
function sessionRetprobe(what: string, retprobe: boolean | undefined): void {
  if (!retprobe) return;
  throw new UsageError(
    `${what}: a session program runs at return as well as at entry; it takes no retprobe option`,
    {
      hint: 'leave retprobe out; the program tells the two runs apart with bpf_session_is_return()',
    },
  );
}

/** A session link where the loaded libbpf's opts struct has no `session` field. */
function sessionLibbpfError(what: string, opts: string, need: string): NotSupportedError {
  return new NotSupportedError(
    `${what}: session links need libbpf >= ${need} (${opts}.session); this process loaded libbpf ${libbpfVersion().join('.')}`,
    { hint: `install libbpf ${need} or newer and point tsbpf at it: TSBPF_LIBBPF=/path/to/libbpf.so.1` },
  );
}

/** libbpf refused the opts for a nonzero byte past the fields it knows (OPTS_VALID): the flag. */
const refusedSessionFlag = (errno: number, messages: string[], opts: string) =>
  errno === EINVAL && messages.some((m) => m.includes(`${opts} has non-zero extra bytes`));

export function kprobeMultiLink(program: MultiProgram, options: KprobeMultiOptions): LinkRequest {
  const session = program.expectedAttachType === BPF_TRACE_KPROBE_SESSION;
  const kind = session ? 'kprobe.session' : 'kprobe.multi';
  const what = `program ${program.name}: attach ${kind}`;
  if (!session && program.expectedAttachType !== BPF_TRACE_KPROBE_MULTI) {
    throw new UsageError(
      `${what}: attachKprobeMulti() attaches SEC("kprobe.multi") and SEC("kprobe.session") programs; SEC("${program.sectionName}") was loaded as another kind`,
      {
        hint: 'write it as SEC("kprobe.multi") (or SEC("kretprobe.multi")), or attach it with attachKprobe({ symbol })',
      },
    );
  }
  if (session) sessionRetprobe(what, options.retprobe);
  const t = targets(what, options);
  const retprobe = options.retprobe ?? /^kretprobe\.multi/.test(program.sectionName);
  const opts = {
    sz: koffi.sizeof(KprobeMultiOpts),
    syms: t.symbols,
    addrs: null,
    cookies: t.cookies,
    cnt: t.symbols?.length ?? 0,
    retprobe,
    session,
  };
  return {
    what: `${what} to ${describe(t)}`,
    call: () => libbpf().bpf_program__attach_kprobe_multi_opts(program.ptr, t.pattern, opts),
    explain: (errno, messages) => {
      if (session && refusedSessionFlag(errno, messages, 'bpf_kprobe_multi_opts'))
        return sessionLibbpfError(what, 'bpf_kprobe_multi_opts', '1.5');
      if (errno === EOPNOTSUPP || errno === ENOTSUPP) {
        return new NotSupportedError(
          `${what}: this kernel has no ${kind} links (${errno === EOPNOTSUPP ? 'EOPNOTSUPP' : 'ENOTSUPP'})`,
          {
            hint: session
              ? 'kprobe.session needs Linux 6.10+ built with CONFIG_FPROBE (and CONFIG_KPROBES); where the kernel has kprobes, pair a SEC("kprobe") and a SEC("kretprobe") program, or use tracepoints'
              : 'kprobe.multi needs Linux 5.18+ built with CONFIG_FPROBE (and CONFIG_KPROBES); attach each function with attachKprobe({ symbol }) where the kernel has kprobes, or use a tracepoint',
          },
        );
      }
      if (errno === ENOENT || errno === ESRCH) {
        return new TsbpfError(`${what}: no kernel function matches ${describe(t)}`, {
          hint: 'check the names in /proc/kallsyms (or available_filter_functions in tracefs); inlined and static functions may be missing',
          cause: messages.join('\n') || undefined,
        });
      }
      return undefined;
    },
  };
}

export function uprobeMultiLink(
  program: MultiProgram,
  binary: string,
  options: UprobeMultiOptions,
): LinkRequest {
  const session = program.expectedAttachType === BPF_TRACE_UPROBE_SESSION;
  const kind = session ? 'uprobe.session' : 'uprobe.multi';
  const what = `program ${program.name}: attach ${kind}`;
  const attach = libbpf().bpf_program__attach_uprobe_multi;
  if (!attach && session) throw sessionLibbpfError(what, 'bpf_uprobe_multi_opts', '1.6');
  if (!attach) {
    const [major, minor] = libbpfVersion();
    throw new NotSupportedError(
      `${what}: attachUprobeMulti() needs libbpf >= 1.3 (bpf_program__attach_uprobe_multi); this process loaded libbpf ${major}.${minor}`,
      {
        hint: 'install a newer libbpf (Debian 13 and Ubuntu 24.04 ship one) and point tsbpf at it (TSBPF_LIBBPF=/path/libbpf.so.1), or attach each function with attachUprobe({ binary, symbol })',
      },
    );
  }
  if (!session && program.expectedAttachType !== BPF_TRACE_UPROBE_MULTI) {
    throw new UsageError(
      `${what}: attachUprobeMulti() attaches SEC("uprobe.multi") and SEC("uprobe.session") programs; SEC("${program.sectionName}") was loaded as another kind`,
      {
        hint: 'write it as SEC("uprobe.multi") (or SEC("uretprobe.multi")), or attach it with attachUprobe({ binary, symbol })',
      },
    );
  }
  if (session) sessionRetprobe(what, options.retprobe);
  if (!existsSync(binary)) {
    throw new TsbpfError(`${what}: ${binary} does not exist`, {
      hint: 'give the path of an existing binary or library',
    });
  }
  const t = targets(what, options);
  const retprobe = options.retprobe ?? /^uretprobe\.multi/.test(program.sectionName);
  const opts = {
    sz: koffi.sizeof(UprobeMultiOpts),
    syms: t.symbols,
    offsets: null,
    ref_ctr_offsets: null,
    cookies: t.cookies,
    cnt: t.symbols?.length ?? 0,
    retprobe,
    session,
  };
  return {
    what: `${what} to ${binary}: ${describe(t)}`,
    call: () => attach(program.ptr, options.pid ?? -1, binary, t.pattern, opts),
    explain: (errno, messages) => {
      if (session && refusedSessionFlag(errno, messages, 'bpf_uprobe_multi_opts'))
        return sessionLibbpfError(what, 'bpf_uprobe_multi_opts', '1.6');
      if (errno === ENOENT) {
        return new TsbpfError(`${what}: no function of ${binary} matches ${describe(t)}`, {
          hint: `list its functions with \`nm -D ${binary}\` (or \`nm ${binary}\`)`,
        });
      }
      if (errno === ESRCH) return new TsbpfError(`${what}: no process ${options.pid} to probe`);
      if (errno === EOPNOTSUPP || errno === ENOTSUPP || errno === EINVAL) {
        return new NotSupportedError(
          `${what}: the kernel refused the ${kind} link (${errno === EINVAL ? 'EINVAL' : 'EOPNOTSUPP'})`,
          {
            hint: session
              ? 'uprobe.session links need Linux 6.13+ with CONFIG_UPROBES; on older kernels pair a SEC("uprobe") and a SEC("uretprobe") program'
              : 'uprobe.multi links need Linux 6.6+ with CONFIG_UPROBES; attach each function with attachUprobe({ binary, symbol }) on older kernels',
          },
        );
      }
      return undefined;
    },
  };
}
