// The libraries tsbpf/metrics builds on are optional peer dependencies: a probe that exports no
// metrics installs none of them. They are imported on first use, and a missing one is named
// with the command that installs it.

import { ToolchainError } from '../errors.js';

/** Imports `name` (found beside tsbpf, as peers are), or fails saying what to install. */
export async function importOptional<T>(name: string, usedFor: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && String((error as Error).message).includes(`'${name}'`)) {
      throw new ToolchainError(`${usedFor} needs the package ${name}, which is not installed`, {
        cause: error,
        hint: `npm install ${name}`,
      });
    }
    throw error;
  }
}
