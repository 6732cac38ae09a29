// SEC() names that libbpf 1.1 loads but cannot attach by itself (libbpf.c section_defs: entries
// with no attach function, and the attach functions that give up on a name without a target), and
// the explicit call that attaches them instead. Many are the names bcc and cilium/ebpf examples
// use: SEC("uretprobe/readline") names the function but not the binary, which libbpf wants as
// SEC("uretprobe/<binary>:readline") and otherwise refuses with "missing ':function[+offset]'".
import { UsageError } from '../errors.js';

/** The UsageError attach() raises for `section`, or undefined when libbpf can attach it. */
export function manualAttachError(program: string, section: string): UsageError | undefined {
  const how = explicitAttach(section);
  if (!how) return undefined;
  return new UsageError(
    `program ${program}: SEC("${section}") ${how.missing}, so attach() cannot attach it`,
    {
      hint: how.hint,
    },
  );
}

interface Explicit {
  /** What the section name lacks. */
  missing: string;
  hint: string;
}

const quote = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

function explicitAttach(section: string): Explicit | undefined {
  const [prefix = '', rest] = splitOnce(section, '/');
  const kind = prefix.replace(/\.s$/, '');

  if (kind === 'uprobe' || kind === 'uretprobe') {
    if (rest?.includes(':')) return undefined; // <binary>:<function>: libbpf attaches it
    const retprobe = kind === 'uretprobe' ? ', retprobe: true' : '';
    if (!rest) {
      return {
        missing: 'names no binary and no function',
        hint: `attach it with attachUprobe({ binary: '/path/to/binary', symbol: 'function'${retprobe} })`,
      };
    }
    const [symbol = '', offset] = splitOnce(rest, '+');
    const at = offset ? `, offset: ${offset}` : '';
    return {
      missing: `names the function ${symbol} but no binary`,
      hint:
        `attach it with attachUprobe({ binary: '/path/to/binary', symbol: ${quote(symbol)}${at}${retprobe} }), ` +
        `or name the binary in the section: SEC("${prefix}//path/to/binary:${rest}")`,
    };
  }

  if (kind === 'usdt') {
    // libbpf wants usdt/<path>:<provider>:<name>; attachUsdt() names the binary at run time.
    const parts = rest?.split(':') ?? [];
    if (parts.length >= 3) return undefined;
    const [provider, name] = parts.length === 2 ? parts : ['provider', 'name'];
    return {
      missing: 'names no binary',
      hint:
        `attach it with attachUsdt({ binary: '/path/to/binary', provider: ${quote(provider!)}, name: ${quote(name!)} }), ` +
        `or name the binary in the section: SEC("usdt//path/to/binary:${provider}:${name}")`,
    };
  }

  if ((kind === 'kprobe' || kind === 'kretprobe') && !rest) {
    const retprobe = kind === 'kretprobe' ? ', retprobe: true' : '';
    return {
      missing: 'names no kernel function',
      hint: `attach it with attachKprobe({ symbol: 'function'${retprobe} }), or name the function: SEC("${kind}/function")`,
    };
  }
  if ((kind === 'ksyscall' || kind === 'kretsyscall') && !rest) {
    return {
      missing: 'names no system call',
      hint: `name it in the section, e.g. SEC("${kind}/openat") (tsbpf has no explicit ksyscall attach)`,
    };
  }

  if ((kind === 'tp' || kind === 'tracepoint') && !rest?.includes('/')) {
    return {
      missing: 'names no tracepoint (<category>/<name>)',
      hint: `attach it with attachTracepoint('category', 'name'), e.g. attachTracepoint('syscalls', 'sys_enter_openat'), or name it: SEC("${kind}/syscalls/sys_enter_openat")`,
    };
  }
  if ((kind === 'raw_tp' || kind === 'raw_tracepoint') && !rest) {
    return {
      missing: 'names no raw tracepoint',
      hint: `attach it with attachRawTracepoint('name'), e.g. attachRawTracepoint('sys_enter'), or name it: SEC("${kind}/sys_enter")`,
    };
  }

  if (kind === 'perf_event') {
    return {
      missing: 'names no perf event (its events are opened at run time)',
      hint: "attach it with attachPerfEvent({ event: 'cpu-clock', frequency: 99 }) (every CPU; pid, cgroup and cpus narrow it)",
    };
  }
  if (kind === 'socket') {
    return {
      missing: 'names no socket',
      hint: 'attach it with attachSocket(socketFd), e.g. to openRawSocket(ifname)',
    };
  }
  if ((kind === 'xdp' || kind === 'xdp.frags') && (rest === 'devmap' || rest === 'cpumap')) {
    const cls = rest === 'devmap' ? 'DevMap' : 'CpuMap';
    const entry = rest === 'devmap' ? "{ ifname: 'eth1', program }" : '{ qsize: 192, program }';
    return {
      missing: `is a ${rest} program: it runs on frames redirected through a ${rest} entry, not on a hook`,
      hint: `put it in the ${rest}'s entry: new ${cls}(map).set(key, ${entry})`,
    };
  }
  if (kind === 'sk_skb' || kind === 'sk_msg') {
    return {
      missing: 'runs on the sockets of a sockmap and names none',
      hint: "attach it with attachToMap(map), e.g. program.attachToMap(coll.map('sock_map')), before adding sockets to the map",
    };
  }
  if (kind === 'xdp' || kind === 'xdp.frags') {
    return { missing: 'names no network interface', hint: "attach it with attachXdp({ ifname: 'eth0' })" };
  }
  if (kind === 'tc' || kind === 'classifier' || kind === 'action') {
    return {
      missing: 'names no network interface',
      hint: "attach it with attachTc({ ifname: 'eth0', direction: 'ingress' })",
    };
  }
  if ((kind === 'kprobe.multi' || kind === 'kretprobe.multi' || kind === 'kprobe.session') && !rest) {
    const retprobe = kind === 'kretprobe.multi' ? ', retprobe: true' : '';
    return {
      missing: 'names no kernel functions',
      hint: `attach it with attachKprobeMulti({ pattern: 'tcp_*'${retprobe} }) or attachKprobeMulti({ symbols: ['a', 'b']${retprobe} }), or name a pattern: SEC("${kind}/tcp_*")`,
    };
  }
  if (
    (kind === 'uprobe.multi' || kind === 'uretprobe.multi' || kind === 'uprobe.session') &&
    !rest?.includes(':')
  ) {
    const retprobe = kind === 'uretprobe.multi' ? ', retprobe: true' : '';
    return {
      missing: 'names no binary',
      hint: `attach it with attachUprobeMulti({ binary: '/path/to/binary', pattern: '${rest || 'func_*'}'${retprobe} }), or name both: SEC("${prefix}//path/to/binary:${rest || 'func_*'}")`,
    };
  }
  if (kind === 'netfilter') {
    return {
      missing: 'names no netfilter hook',
      hint: "attach it with attachNetfilter({ pf: 'ipv4', hooknum: 'input', priority: -100 })",
    };
  }
  if (kind === 'sk_lookup' || kind === 'flow_dissector') {
    return {
      missing: 'names no network namespace',
      hint: "attach it with attachNetns() (this process's namespace) or attachNetns('/run/netns/<name>')",
    };
  }
  if (kind === 'syscall') {
    return {
      missing: 'is a program that runs when called, not on an event',
      hint: 'run it with testRun({ ctx }) (its context struct in, the same struct and the return value out)',
    };
  }
  if (kind === 'sk_reuseport') {
    return {
      missing: 'names no socket',
      hint: 'attach it with attachReuseport(socketFd): any bound SO_REUSEPORT socket of the group',
    };
  }
  if (kind.startsWith('cgroup') || kind === 'sockops') {
    return {
      missing: 'names no cgroup',
      hint: "attach it with attachCgroup('/sys/fs/cgroup/<group>')",
    };
  }
  return undefined;
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + separator.length)];
}
