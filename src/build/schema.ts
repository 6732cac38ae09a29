// A small schema checker for tsbpf's JSON config. Each checker turns untrusted JSON into a typed
// value or throws a ConfigError naming the file and the key path (`programs[1].cflags[0]`), so a
// user sees exactly which line of their config to fix. Unknown keys are errors with a
// "did you mean" suggestion: a misspelt option that is silently ignored is worse than a failure.

import { ConfigError } from '../errors.js';
import { similarNames } from './naming.js';

/** Where a value sits: the config file and the key path inside it. */
export interface SchemaPath {
  file: string;
  keys: ReadonlyArray<string | number>;
}

export type Checker<T> = (value: unknown, at: SchemaPath) => T;

export function formatPath(keys: ReadonlyArray<string | number>): string {
  let out = '';
  for (const key of keys) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? key : `.${key}`;
  }
  return out === '' ? '(top level)' : out;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  return `${typeof value} ${JSON.stringify(value)}`;
}

export function schemaError(at: SchemaPath, message: string, hint?: string): ConfigError {
  return new ConfigError(
    `${at.file}: ${formatPath(at.keys)}: ${message}`,
    hint === undefined ? {} : { hint },
  );
}

const child = (at: SchemaPath, key: string | number): SchemaPath => ({
  file: at.file,
  keys: [...at.keys, key],
});

export const string =
  (options: { pattern?: RegExp; patternHint?: string; nonEmpty?: boolean } = {}): Checker<string> =>
  (value, at) => {
    if (typeof value !== 'string') throw schemaError(at, `expected a string, got ${describe(value)}`);
    if ((options.nonEmpty ?? true) && value === '') throw schemaError(at, 'must not be empty');
    if (options.pattern && !options.pattern.test(value)) {
      throw schemaError(at, `${JSON.stringify(value)} is not valid`, options.patternHint);
    }
    return value;
  };

export const boolean = (): Checker<boolean> => (value, at) => {
  if (typeof value !== 'boolean') throw schemaError(at, `expected true or false, got ${describe(value)}`);
  return value;
};

export const oneOf =
  <T extends string>(allowed: readonly T[]): Checker<T> =>
  (value, at) => {
    if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
      throw schemaError(
        at,
        `expected one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, got ${describe(value)}`,
      );
    }
    return value as T;
  };

export const array =
  <T>(item: Checker<T>, options: { nonEmpty?: boolean } = {}): Checker<T[]> =>
  (value, at) => {
    if (!Array.isArray(value)) throw schemaError(at, `expected an array, got ${describe(value)}`);
    if (options.nonEmpty && value.length === 0) throw schemaError(at, 'must list at least one entry');
    return value.map((element, index) => item(element, child(at, index)));
  };

/** A string or an array of strings, always returned as an array (for `"sources": "probe.c"`). */
export const stringOrArray =
  (item: Checker<string>, options: { nonEmpty?: boolean } = {}): Checker<string[]> =>
  (value, at) =>
    typeof value === 'string' ? [item(value, at)] : array(item, options)(value, at);

export const record =
  <T>(item: Checker<T>, keyCheck?: Checker<string>): Checker<Record<string, T>> =>
  (value, at) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw schemaError(at, `expected an object, got ${describe(value)}`);
    }
    const out: Record<string, T> = {};
    for (const [key, element] of Object.entries(value)) {
      keyCheck?.(key, child(at, key));
      out[key] = item(element, child(at, key));
    }
    return out;
  };

type Fields = Record<string, { check: Checker<unknown>; required?: boolean }>;
type Parsed<F extends Fields> = {
  [K in keyof F as F[K]['required'] extends true ? K : never]: ReturnType<F[K]['check']>;
} & {
  [K in keyof F as F[K]['required'] extends true ? never : K]?: ReturnType<F[K]['check']>;
};

export const required = <T>(check: Checker<T>) => ({ check, required: true as const });
export const optional = <T>(check: Checker<T>) => ({ check, required: false as const });

/** An object with known keys; unknown keys are errors (keys starting with `$` are allowed). */
export const object =
  <F extends Fields>(fields: F): Checker<Parsed<F>> =>
  (value, at) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw schemaError(at, `expected an object, got ${describe(value)}`);
    }
    const input = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(input)) {
      if (key.startsWith('$')) continue;
      if (!Object.hasOwn(fields, key)) {
        const similar = similarNames(key, Object.keys(fields), 1);
        throw schemaError(
          child(at, key),
          'unknown key',
          similar[0] !== undefined
            ? `did you mean "${similar[0]}"?`
            : `allowed keys: ${Object.keys(fields).join(', ')}`,
        );
      }
    }
    for (const [key, field] of Object.entries(fields)) {
      if (input[key] === undefined) {
        if (field.required) throw schemaError(child(at, key), 'is required');
        continue;
      }
      out[key] = field.check(input[key], child(at, key));
    }
    return out as Parsed<F>;
  };
