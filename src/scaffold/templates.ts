// The project templates create-tsbpf offers. Each is a folder under templates/ (laid over
// templates/base/); this list gives their order, the one-line hint shown in the prompt, and the
// few values the shared base files need (the program's identifier, its build targets).

import { arch, endianness } from 'node:os';
import { fileURLToPath } from 'node:url';
import { similarNames } from '../build/naming.js';
import { UsageError } from '../errors.js';

export interface TemplateInfo {
  /** The value of --type and the folder name under templates/. */
  type: string;
  /** What the program does, in one line (prompt hint and README). */
  description: string;
  /** The tsbpf identifier: `src/<ident>.bpf.c` becomes `src/<ident>.ts` with `load<Ident>()`. */
  ident: string;
  /**
   * True when the C program reads registers through PT_REGS_* (uprobe, kprobe): it must then be
   * built for the host's architecture, not the generic bpfel/bpfeb targets.
   */
  archSpecific: boolean;
  /** Ring buffer / perf event array maps and the C struct of their events (config "events"). */
  events?: Record<string, string>;
  /** tsbpf's optional peers the project needs (their ranges are those tsbpf's package.json declares). */
  peers?: readonly string[];
}

export const templates: readonly TemplateInfo[] = [
  {
    type: 'uretprobe',
    description: "every line bash's readline() returns, with the pid (perf event array)",
    ident: 'readline',
    archSpecific: true,
    events: { events: 'event' },
  },
  {
    type: 'uprobe',
    description: "a user-space function's arguments at entry (ring buffer)",
    ident: 'uprobe',
    archSpecific: true,
    events: { events: 'event' },
  },
  {
    type: 'kprobe',
    description: 'calls to the kernel function do_unlinkat, counted per pid (hash map)',
    ident: 'unlink',
    archSpecific: true,
  },
  {
    type: 'tracepoint',
    description: 'every execve() with its pid, parent and file, a small execsnoop (ring buffer)',
    ident: 'execsnoop',
    archSpecific: false,
    events: { events: 'event' },
  },
  {
    type: 'xdp',
    description: 'packets per protocol and source address, with an allowlist (LPM trie)',
    ident: 'firewall',
    archSpecific: false,
  },
  {
    type: 'tc',
    description: 'egress packets and bytes per destination address (tc clsact)',
    ident: 'egress',
    archSpecific: false,
  },
  {
    type: 'exporter',
    description: 'system calls per process and their latency as Prometheus metrics on /metrics',
    ident: 'sysstats',
    archSpecific: false,
    peers: ['prom-client'],
  },
];

export const templateTypes: readonly string[] = templates.map((t) => t.type);

/** The folder that holds base/ and one folder per template (same path from src/ and dist/). */
export function templatesRoot(): string {
  return fileURLToPath(new URL('../../templates/', import.meta.url));
}

/** The template for a --type value; an unknown type is an error listing the valid ones. */
export function findTemplate(type: string): TemplateInfo {
  const found = templates.find((t) => t.type === type);
  if (found !== undefined) return found;
  const similar = similarNames(type, templateTypes, 1)[0];
  throw new UsageError(`unknown template type "${type}"; valid types: ${templateTypes.join(', ')}`, {
    hint:
      similar === undefined
        ? `pass one of them with --type, e.g. --type tracepoint`
        : `did you mean --type ${similar}?`,
  });
}

/** tsbpf target names for Node's process.arch (see `tsbpf build --help`). */
const archTargets: Record<string, string> = {
  x64: 'amd64',
  ia32: '386',
  arm64: 'arm64',
  arm: 'arm',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loong64',
  mips: 'mips',
};

/**
 * The build targets a template's config lists: the generic pair for portable programs, the
 * host's architecture for programs that read registers. Undefined means "the default".
 */
export function buildTargets(template: TemplateInfo, hostArch: string = arch()): string[] | undefined {
  if (!template.archSpecific) return undefined;
  if (hostArch === 'ppc64') return [endianness() === 'LE' ? 'ppc64le' : 'ppc64'];
  const target = archTargets[hostArch];
  if (target === undefined) {
    throw new UsageError(
      `the ${template.type} template reads CPU registers and tsbpf has no target for "${hostArch}"`,
      {
        hint: 'choose the tracepoint, xdp or tc template, which build for any architecture',
      },
    );
  }
  return [target];
}
