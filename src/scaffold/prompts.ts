// The questions asked when create-tsbpf runs on a terminal and an argument is missing. They go
// through the same `Prompter` interface the option resolver uses without a terminal (where a
// missing argument is an error instead), so flags and prompts share one code path.

import { TsbpfError } from '../errors.js';

export interface Prompter {
  text(options: {
    message: string;
    placeholder?: string;
    /** Returned when the answer is empty. */
    defaultValue?: string;
    initialValue?: string;
    validate?: (value: string) => string | undefined;
  }): Promise<string>;
  select<T extends string>(options: {
    message: string;
    options: Array<{ value: T; label?: string; hint?: string }>;
  }): Promise<T>;
  confirm(options: { message: string; initialValue?: boolean }): Promise<boolean>;
}

/** The user pressed Ctrl-C or Escape at a prompt. */
export class CancelledError extends TsbpfError {
  override name = 'CancelledError';
  constructor() {
    super('cancelled; nothing was written');
  }
}

/** A Prompter on @clack/prompts (loaded only when a prompt is needed). */
export async function clackPrompter(): Promise<Prompter> {
  const clack = await import('@clack/prompts');
  const unwrap = <T>(value: T): Exclude<T, symbol> => {
    if (clack.isCancel(value) || typeof value === 'symbol') throw new CancelledError();
    return value as Exclude<T, symbol>;
  };
  return {
    async text(options) {
      const value = await clack.text({
        message: options.message,
        ...(options.placeholder === undefined ? {} : { placeholder: options.placeholder }),
        ...(options.defaultValue === undefined ? {} : { defaultValue: options.defaultValue }),
        ...(options.initialValue === undefined ? {} : { initialValue: options.initialValue }),
        ...(options.validate === undefined
          ? {}
          : { validate: (v: string | undefined) => options.validate?.(v ?? '') }),
      });
      return unwrap(value);
    },
    async select(options) {
      // clack's Option type is conditional on the value type; the options here are plain strings.
      const value = await clack.select({ message: options.message, options: options.options as never });
      return unwrap(value) as never;
    },
    async confirm(options) {
      return unwrap(
        await clack.confirm({ message: options.message, initialValue: options.initialValue ?? false }),
      );
    },
  };
}
