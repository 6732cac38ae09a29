// The entry point: one Symbolizer per tool, kept for its whole run so kallsyms is read once and
// each ELF file parsed once however many stacks name it.
import { UsageError } from '../errors.js';
import { ElfFileCache } from './file-cache.js';
import type { Frame } from './frame.js';
import { KernelSymbolizer } from './kernel.js';
import { ProcessSymbolizer } from './process.js';

export interface SymbolizerOptions {
  /** The kernel symbol table to read (default /proc/kallsyms). */
  kallsyms?: string;
  /** Where process directories live (default /proc): a host's /proc mounted elsewhere, say. */
  procRoot?: string;
}

/**
 * Turns stack addresses into function names: kernel addresses through /proc/kallsyms, user
 * addresses through the process's memory map and the ELF symbol tables of the files it maps.
 * Never throws for what it cannot name: such a frame carries a `reason` instead.
 */
export class Symbolizer implements Disposable {
  readonly #kernel: KernelSymbolizer;
  readonly #procRoot: string;
  readonly #files = new ElfFileCache();
  readonly #processes = new Map<number, ProcessSymbolizer>();
  #closed = false;

  constructor(options: SymbolizerOptions = {}) {
    this.#kernel = new KernelSymbolizer(options.kallsyms ?? '/proc/kallsyms');
    this.#procRoot = (options.procRoot ?? '/proc').replace(/\/+$/, '');
  }

  /** Kernel addresses (a stack from bpf_get_stackid without BPF_F_USER_STACK), innermost first. */
  kernel(addresses: readonly bigint[]): Frame[] {
    this.#open('kernel');
    return this.#kernel.frames(addresses);
  }

  /** Why kernel frames carry no symbols (kptr_restrict hides addresses, kallsyms unreadable), or undefined. */
  kernelProblem(): string | undefined {
    this.#open('kernelProblem');
    return this.#kernel.problem();
  }

  /**
   * Addresses in process `pid` (a BPF_F_USER_STACK stack). The process's memory map is read on
   * first use and kept, so stacks of a process that has since exited still resolve against the
   * files already read; a pid first seen after its exit gives frames whose reason says so.
   */
  user(pid: number, addresses: readonly bigint[]): Frame[] {
    this.#open('user');
    if (!Number.isSafeInteger(pid) || pid <= 0) {
      throw new UsageError(`Symbolizer.user: pid ${pid} is not a process id`, {
        hint: 'pass the tgid a BPF program recorded (bpf_get_current_pid_tgid() >> 32)',
      });
    }
    let process = this.#processes.get(pid);
    if (!process) {
      process = new ProcessSymbolizer(pid, this.#procRoot, this.#files);
      this.#processes.set(pid, process);
    }
    return process.frames(addresses);
  }

  /**
   * Forgets what was read about process `pid` (its memory map, vDSO, perf map): call it when the
   * process has exited and its pid may be reused. Parsed files stay cached.
   */
  forget(pid: number): void {
    this.#processes.delete(pid);
  }

  /** Drops every cache. The symbolizer holds no file descriptors between calls. */
  close(): void {
    this.#closed = true;
    this.#processes.clear();
    this.#files.clear();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #open(method: string): void {
    if (this.#closed) {
      throw new UsageError(`Symbolizer.${method}: the symbolizer is closed`, {
        hint: 'create a new Symbolizer, or call close() only when done with it',
      });
    }
  }
}
