// Bounds how many jobs run at once (`tsbpf build -j N`: clang processes across all programs).

import { availableParallelism } from 'node:os';

export function defaultJobs(): number {
  return Math.max(1, availableParallelism());
}

/** Lets at most `limit` tasks run at once; shared by every program of a build (`-j N` clang processes). */
export class Limiter {
  #running = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#running >= Math.max(1, this.limit)) {
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running++;
    }
    try {
      return await task();
    } finally {
      // Hand the slot straight to the next waiter, or give it back.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running--;
    }
  }
}
