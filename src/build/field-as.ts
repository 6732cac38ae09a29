// How `char[N]` fields (and 64-bit integers chosen as `number`) decode, as the config
// (`"fieldAs": { "exec_event.args": "strings" }`) and `tsbpf gen --field-as exec_event.args=strings`
// give it. Here only the form is checked; the type
// and field names are checked against the object's BTF when the loader is generated
// (codegen/field-as.ts), where the real names are known.

import { splitFieldKey } from '../codegen/field-as.js';
import { FIELD_CHOICES, type FieldChoice } from '../codegen/types.js';
import { UsageError } from '../errors.js';
import { similarNames } from './naming.js';
import { type Checker, schemaError } from './schema.js';

const KEY_HINT =
  'a struct or union name, a dot and one of its char[N] or 64-bit integer fields: "exec_event.args"';

const choiceHint = (value: string): string => {
  const near = similarNames(value, FIELD_CHOICES, 1)[0];
  const all =
    'for a char[N] field: string (up to the first NUL, the default), strings (split on NUL: string[]), bytes (Uint8Array); for a 64-bit integer field: number (exact up to 2^53 - 1, instead of a bigint)';
  return near === undefined ? all : `did you mean "${near}"? ${all}`;
};

const isChoice = (value: unknown): value is FieldChoice =>
  typeof value === 'string' && (FIELD_CHOICES as readonly string[]).includes(value);

/** The config's `"fieldAs"`: an object of `"TYPE.FIELD": "string" | "strings" | "bytes" | "number"`. */
export const fieldAsSchema: Checker<Record<string, FieldChoice>> = (value, at) => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw schemaError(at, 'expected an object such as { "exec_event.args": "strings" }');
  }
  const out: Record<string, FieldChoice> = {};
  for (const [key, choice] of Object.entries(value)) {
    const here = { file: at.file, keys: [...at.keys, key] };
    if (!splitFieldKey(key)) throw schemaError(here, 'expected TYPE.FIELD as the key', KEY_HINT);
    if (!isChoice(choice)) {
      throw schemaError(
        here,
        `expected "string", "strings", "bytes" or "number", got ${JSON.stringify(choice)}`,
        choiceHint(String(choice)),
      );
    }
    out[key.trim()] = choice;
  }
  return out;
};

/** Parses `--field-as TYPE.FIELD=string|strings|bytes|number` flags (a later flag for a field wins). */
export function parseFieldAs(flags: readonly string[]): Record<string, FieldChoice> {
  const out: Record<string, FieldChoice> = {};
  for (const flag of flags) {
    const eq = flag.lastIndexOf('=');
    const key = eq < 0 ? flag : flag.slice(0, eq);
    const choice = eq < 0 ? '' : flag.slice(eq + 1).trim();
    if (!splitFieldKey(key)) {
      throw new UsageError(`--field-as ${flag}: expected TYPE.FIELD=string|strings|bytes|number`, {
        hint: 'for example --field-as exec_event.args=strings',
      });
    }
    if (!isChoice(choice)) {
      throw new UsageError(
        `--field-as ${flag}: ${choice === '' ? 'no choice after TYPE.FIELD=' : `unknown choice "${choice}"`}`,
        { hint: choiceHint(choice) },
      );
    }
    out[key.trim()] = choice;
  }
  return out;
}
