// Field choices (`"fieldAs": { "exec_event.args": "strings" }` in tsbpf.config.json, or
// `tsbpf gen --field-as exec_event.args=strings`): how a `char[N]` field decodes, and whether a
// 64-bit integer field decodes as a number (`"event.ts": "number"`) instead of a bigint. The names a user
// gives are looked up in the BTF here, and only the BTF's own ids and names go on to emitTypes, so
// nothing the user typed is written into generated code as it was typed.
import type { Btf } from '../btf/btf.js';
import type { StructType } from '../btf/types.js';
import { closest } from '../cli-suggest.js';
import { UsageError } from '../errors.js';
import { printable } from '../printable.js';
import { CHAR_CHOICES, FIELD_CHOICES, type FieldChoice } from './types.js';

/** `TYPE.FIELD`: a C type name (optionally `struct `/`union `) and one of its members. */
const FIELD_KEY = /^\s*((?:(?:struct|union)\s+)?[A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)\s*$/;

/** Splits `TYPE.FIELD`; undefined when it is not of that form. */
export function splitFieldKey(key: string): { type: string; field: string } | undefined {
  const match = FIELD_KEY.exec(key);
  return match ? { type: match[1]!, field: match[2]! } : undefined;
}

export interface ResolvedFieldAs {
  /** Struct/union BTF id -> C member name -> choice, for EmitTypesOptions.fieldAs. */
  byType: Map<number, Map<string, FieldChoice>>;
  /** The struct/union ids named, in the order given: their codecs are emitted. */
  types: number[];
}

const HINT =
  'fieldAs (tsbpf.config.json) and tsbpf gen --field-as take TYPE.FIELD=string|strings|bytes (a char[N] field) or TYPE.FIELD=number (a 64-bit integer field) of a struct or union the C source declares';

/**
 * Resolves choices against `btf`. `findType` is the loader's lookup of a C type name (`event`,
 * `struct event`, a typedef); the type must be a struct or union with a `char[N]` member of that
 * name (anonymous members' fields count, as they are the parent's in C and in the generated type).
 */
export function resolveFieldAs(
  btf: Btf,
  choices: Readonly<Record<string, FieldChoice>>,
  findType: (btf: Btf, name: string) => number | undefined,
): ResolvedFieldAs {
  const byType = new Map<number, Map<string, FieldChoice>>();
  const types: number[] = [];
  for (const [key, choice] of Object.entries(choices)) {
    const what = `${key}=${choice}`;
    const fail = (message: string, hint = HINT) =>
      new UsageError(printable(`field choice ${what}: ${message}`), { hint: printable(hint) });
    if (!FIELD_CHOICES.includes(choice)) throw fail(`${choice} is not one of ${FIELD_CHOICES.join(', ')}`);
    const parts = splitFieldKey(key);
    if (!parts) throw fail('expected TYPE.FIELD, such as exec_event.args');
    const id = findType(btf, parts.type);
    const t = id === undefined ? undefined : btf.resolve(id);
    if (t === undefined || (t.kind !== 'struct' && t.kind !== 'union')) {
      const names = [...btf.types()]
        .filter((x) => (x.kind === 'struct' || x.kind === 'union') && x.name !== '')
        .map((x) => x.name);
      const near = closest(parts.type.replace(/^(struct|union)\s+/, ''), names);
      throw fail(
        t === undefined
          ? `no struct or union named '${parts.type}'`
          : `${parts.type} is a ${t.kind}, not a struct or union`,
        near === undefined ? HINT : `did you mean '${near}.${parts.field}'?`,
      );
    }
    const members = new Map<string, number>();
    collectMembers(btf, t, members, 0);
    const member = members.get(parts.field);
    if (choice === 'number') {
      if (member === undefined || !isInt64(btf, member)) {
        const ints = [...members].filter(([, type]) => isInt64(btf, type)).map(([name]) => name);
        const near = closest(parts.field, ints);
        const list = ints.length > 0 ? `its 64-bit integer fields: ${ints.join(', ')}` : 'it has none';
        throw fail(
          member === undefined
            ? `${t.kind} ${t.name || parts.type} has no field '${parts.field}'`
            : `${parts.field} is ${btf.describe(member)}, not a 64-bit integer: only those decode as number`,
          near === undefined ? list : `did you mean '${parts.type}.${near}'? (${list})`,
        );
      }
    } else if (member === undefined || !isCharArray(btf, member)) {
      const chars = [...members].filter(([, type]) => isCharArray(btf, type)).map(([name]) => name);
      const near = closest(parts.field, chars);
      const list = chars.length > 0 ? `its char[N] fields: ${chars.join(', ')}` : 'it has no char[N] fields';
      throw fail(
        member === undefined
          ? `${t.kind} ${t.name || parts.type} has no field '${parts.field}'`
          : `${parts.field} is ${btf.describe(member)}, not a char[N] array: only those decode as ${CHAR_CHOICES.join(', ')}`,
        near === undefined ? list : `did you mean '${parts.type}.${near}'? (${list})`,
      );
    }
    let fields = byType.get(t.id);
    if (!fields) {
      fields = new Map();
      byType.set(t.id, fields);
      types.push(t.id);
    }
    fields.set(parts.field, choice);
  }
  return { byType, types };
}

/** Member name -> type id, anonymous members' own members included. */
function collectMembers(btf: Btf, t: StructType, out: Map<string, number>, depth: number): void {
  if (depth > 32) return;
  for (const m of t.members) {
    if (m.name !== '') {
      if (m.bitSize === 0) out.set(m.name, m.type);
      continue;
    }
    const inner = btf.resolve(m.type);
    if (inner.kind === 'struct' || inner.kind === 'union') collectMembers(btf, inner, out, depth + 1);
  }
}

/** A 64-bit integer (not a pointer, an enum or a bool), which decodes as a bigint by default. */
function isInt64(btf: Btf, id: number): boolean {
  const t = btf.resolve(id);
  return t.kind === 'int' && t.size === 8 && !t.bool;
}

/** A `char[N]` (plain char), which the generated code decodes as a string by default. */
function isCharArray(btf: Btf, id: number): boolean {
  const t = btf.resolve(id);
  if (t.kind !== 'array') return false;
  const elem = btf.resolve(t.type);
  return elem.kind === 'int' && elem.name === 'char' && elem.size === 1 && !elem.bool;
}
