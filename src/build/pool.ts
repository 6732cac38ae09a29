// Runs jobs with at most N at a time (`tsbpf build -j N`), keeping results in input order.

import { availableParallelism } from 'node:os';

export function defaultJobs(): number {
  return Math.max(1, availableParallelism());
}

/** Runs `task` over `items`, `limit` at a time; settles every task (one failure does not stop the others). */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      try {
        results[index] = { status: 'fulfilled', value: await task(items[index] as T, index) };
      } catch (reason) {
        results[index] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
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
