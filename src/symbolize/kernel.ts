// Kernel stacks: /proc/kallsyms read once, on the first kernel address, and why it cannot
// name anything when the kernel hides its addresses.
import { readFileSync } from 'node:fs';
import { errnoName } from '../linux.js';
import type { Frame } from './frame.js';
import { KernelSymbols } from './kallsyms.js';

/** A sysctl's value, or undefined where it cannot be read (some sandboxes). */
function sysctl(name: string): string | undefined {
  try {
    return readFileSync(`/proc/sys/kernel/${name}`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * What to tell the user when kallsyms lists only zeros. The kernel shows the addresses
 * (kallsyms_show_value() in kernel/ksyms_common.c) with kptr_restrict 0 to a holder of CAP_SYSLOG
 * or when perf_event_paranoid is at most 1, with kptr_restrict 1 to a holder of CAP_SYSLOG, and
 * with kptr_restrict 2 to no one.
 */
function hiddenReason(path: string): string {
  const restrict = sysctl('kptr_restrict');
  const fix =
    restrict === '0'
      ? `run as root or with CAP_SYSLOG, or lower kernel.perf_event_paranoid to 1 (it is ${sysctl('perf_event_paranoid') ?? 'unreadable'})`
      : 'run as root or with CAP_SYSLOG, and set kernel.kptr_restrict to 0 or 1 (sysctl -w kernel.kptr_restrict=1)';
  const setting = restrict === undefined ? '' : ` (kernel.kptr_restrict=${restrict})`;
  return `kernel addresses are hidden: ${path} shows every address as 0${setting}; ${fix}`;
}

export class KernelSymbolizer {
  readonly #path: string;
  #symbols: KernelSymbols | undefined;
  #problem: string | undefined;
  #loaded = false;

  constructor(path: string) {
    this.#path = path;
  }

  #load(): void {
    if (this.#loaded) return;
    this.#loaded = true;
    let text: string;
    try {
      text = readFileSync(this.#path, 'latin1');
    } catch (error) {
      const code =
        (error as NodeJS.ErrnoException).code ?? errnoName(Number((error as NodeJS.ErrnoException).errno));
      this.#problem = `cannot read ${this.#path} (${code}): kernel addresses are shown without symbols`;
      return;
    }
    const symbols = new KernelSymbols(text);
    if (symbols.hidden) this.#problem = hiddenReason(this.#path);
    else if (symbols.size === 0) this.#problem = `${this.#path} lists no kernel functions`;
    else this.#symbols = symbols;
  }

  /** Why kernel frames carry no symbols (kptr_restrict, an unreadable kallsyms), or undefined. */
  problem(): string | undefined {
    this.#load();
    return this.#problem;
  }

  frames(addresses: readonly bigint[]): Frame[] {
    this.#load();
    const symbols = this.#symbols;
    return addresses.map((address): Frame => {
      if (!symbols) return { address, reason: this.#problem };
      const hit = symbols.lookup(address);
      if (!hit) return { address, reason: 'no kernel function at or just below this address' };
      const frame: Frame = { address, symbol: hit.name, offset: hit.offset };
      if (hit.module !== undefined) frame.module = hit.module;
      return frame;
    });
  }
}
