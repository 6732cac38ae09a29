// A load libbpf stopped while resolving the object's externs, before any program reached the
// kernel: a kfunc or kernel variable (__ksym) this kernel does not have, or has with another type,
// or a config option (__kconfig) it does not set. libbpf names the extern but no program; the
// object's relocations say which functions use it, and the two BTFs how each side declares it.
import { readdirSync, readFileSync } from 'node:fs';
import type { Btf } from '../btf/btf.js';
import { parseBtf } from '../btf/btf.js';
import { readKernelBtf } from '../btf/kernel.js';
import { SHN_UNDEF, STB_WEAK, STT_FUNC } from '../elf/constants.js';
import { parseElf } from '../elf/elf.js';
import { NotSupportedError } from '../errors.js';

type Thing = 'kfunc' | 'kernel variable';

/** What libbpf (1.1 to 1.7) prints when it cannot resolve a __ksym extern, and what it means. */
const patterns: Array<{ re: RegExp; missing: boolean; thing: Thing }> = [
  { re: /extern \(func ksym\) '([^']+)': not found in kernel or module BTFs/, missing: true, thing: 'kfunc' },
  { re: /extern \(var ksym\) '([^']+)': not found in kernel BTF/, missing: true, thing: 'kernel variable' },
  {
    re: /extern \(func ksym\) '([^']+)': func_proto \[\d+\] incompatible with/,
    missing: false,
    thing: 'kfunc',
  },
  { re: /extern \(var ksym\) '([^']+)': incompatible types/, missing: false, thing: 'kernel variable' },
];

/** The NotSupportedError for a load that failed on a __ksym or __kconfig extern, from libbpf's messages; else undefined. */
export function externLoadError(
  what: string,
  texts: string[],
  object?: Uint8Array,
): NotSupportedError | undefined {
  for (const text of texts) {
    // libbpf needs the kernel's config for any __kconfig extern, __weak ones too: without it, it
    // says only this.
    if (text.includes('failed to open system Kconfig')) {
      const options = object ? kconfigExterns(object) : [];
      const reads =
        options.length > 0 ? `, which the object's __kconfig externs need (${options.join(', ')})` : '';
      return new NotSupportedError(
        `${what}: this kernel's configuration cannot be read${reads}${usedBy(object, options)}`,
        {
          hint: 'libbpf reads /boot/config-$(uname -r), else /proc/config.gz (CONFIG_IKCONFIG_PROC; `modprobe configs` where it is a module): make one of them readable, even for __weak externs',
        },
      );
    }
    // A __kconfig extern the kernel's config does not set.
    const option = /extern '([^']+)' \(strong\): not resolved/.exec(text)?.[1];
    if (option !== undefined) {
      return new NotSupportedError(
        `${what}: this kernel's configuration does not set ${option}${usedBy(object, [option])}`,
        {
          hint: 'declare it __weak, so it reads as 0 where the kernel does not set it, and test it before use',
        },
      );
    }
    for (const { re, missing, thing } of patterns) {
      const name = re.exec(text)?.[1];
      if (name === undefined) continue;
      const users = usedBy(object, [name]);
      if (missing) {
        const check = thing === 'kfunc' ? 'call it only where' : 'read it only where';
        return new NotSupportedError(`${what}: this kernel has no ${thing} ${name}${users}`, {
          hint: `run a kernel that has it, or declare it __weak and ${check} bpf_ksym_exists(${name}) is true, so the object loads without it`,
        });
      }
      const ours = object ? declaration(objectBtf(object), name) : undefined;
      const theirs = declaration(kernelBtf(), name);
      const sides = ours && theirs ? `: the object has ${ours}, the kernel ${theirs}` : '';
      return new NotSupportedError(
        `${what}: this kernel's ${thing} ${name} has another type than the object declares${users}${sides}`,
        {
          hint: theirs
            ? `declare it as this kernel does (${theirs}), or build against this kernel's vmlinux.h`
            : `declare it as this kernel does (FUNC or VAR '${name}' in \`bpftool btf dump file /sys/kernel/btf/vmlinux\`)`,
        },
      );
    }
  }
  return undefined;
}

/** " (used by program p, subprogram s)" for the functions that use any of `names`; empty for none. */
function usedBy(object: Uint8Array | undefined, names: string[]): string {
  const users = object ? [...new Set(names.flatMap((n) => functionsUsing(object, n)))].sort() : [];
  return users.length > 0 ? ` (used by ${users.join(', ')})` : '';
}

/**
 * The functions of a BPF object whose code refers to symbol `name` (an undefined extern), as
 * "program P" or "subprogram S" (one in .text, which programs call). Empty when the object has no
 * such symbol or cannot be read: the error is said without them.
 */
export function functionsUsing(object: Uint8Array, name: string): string[] {
  try {
    const elf = parseElf(object);
    const symbols = elf.symbols();
    const target = symbols.findIndex((s) => s.name === name && s.sectionIndex === SHN_UNDEF);
    if (target < 0) return [];
    const users = new Set<string>();
    for (const section of elf.sections) {
      for (const r of elf.relocations(section)) {
        if (r.symbol !== target) continue;
        const fn = symbols.find(
          (s) =>
            s.type === STT_FUNC &&
            s.sectionIndex === section.index &&
            r.offset >= s.value &&
            r.offset < s.value + s.size,
        );
        if (fn) users.add(`${section.name === '.text' ? 'subprogram' : 'program'} ${fn.name}`);
      }
    }
    return [...users].sort();
  } catch {
    return []; // libbpf opened it, so this is not expected; the error is said without the users
  }
}

/**
 * The __weak kfuncs `program` (or a subprogram) calls that this kernel lacks. libbpf loads such a
 * call unresolved (1.7 poisons it), and the verifier refuses any that no bpf_ksym_exists() guards,
 * in words that do not name the kfunc under libbpf 1.1 ("R0 !read_ok").
 */
export function unresolvedWeakKfuncs(
  object: Uint8Array,
  program: string,
): Array<{ name: string; users: string[] }> {
  let weak: string[];
  try {
    weak = parseElf(object)
      .symbols()
      .filter((s) => s.sectionIndex === SHN_UNDEF && s.bind === STB_WEAK && s.name)
      .map((s) => s.name);
  } catch {
    return [];
  }
  const btf = weak.length > 0 ? objectBtf(object) : undefined;
  // Called by the program itself or by a subprogram, which it may call.
  const calls = weak
    .filter((name) => declaration(btf, name)?.endsWith(')'))
    .map((name) => ({ name, users: functionsUsing(object, name) }))
    .filter(({ users }) => users.some((u) => u === `program ${program}` || u.startsWith('subprogram ')));
  if (calls.length === 0) return [];
  const kernel = kernelBtf();
  if (!kernel) return [];
  return calls.filter(({ name }) => declaration(kernel, name) === undefined && !inModuleBtf(name));
}

/** Whether a loaded module's BTF has the string `name` (a cheap, conservative test: a kfunc of a module counts as present). */
function inModuleBtf(name: string): boolean {
  const needle = Buffer.from(`\0${name}\0`);
  try {
    for (const file of readdirSync('/sys/kernel/btf')) {
      if (file !== 'vmlinux' && readFileSync(`/sys/kernel/btf/${file}`).includes(needle)) return true;
    }
  } catch {
    return true; // cannot tell: say nothing
  }
  return false;
}

/** `name`'s declaration in C, 'int bpf_x(struct task_struct *)' or 'const int x', from its FUNC or VAR; undefined if absent. */
export function declaration(btf: Btf | undefined, name: string): string | undefined {
  if (!btf) return undefined;
  for (let id = 1; id < btf.count; id++) {
    const t = btf.type(id);
    if (t.name !== name || (t.kind !== 'func' && t.kind !== 'var')) continue;
    if (t.kind === 'var') return `${btf.describe(t.type)} ${name}`;
    const proto = btf.type(t.type);
    if (proto.kind !== 'func_proto') return undefined;
    const params = proto.params.map((p) => btf.describe(p.type)).join(', ') || 'void';
    return `${btf.describe(proto.returnType)} ${name}(${params})`;
  }
  return undefined;
}

/** The names of the object's __kconfig externs (the vars of its .kconfig section). */
function kconfigExterns(object: Uint8Array): string[] {
  const btf = objectBtf(object);
  if (!btf) return [];
  for (let id = 1; id < btf.count; id++) {
    const t = btf.type(id);
    if (t.kind === 'datasec' && t.name === '.kconfig') return t.vars.map((v) => btf.type(v.type).name).sort();
  }
  return [];
}

function objectBtf(object: Uint8Array): Btf | undefined {
  try {
    const elf = parseElf(object);
    const section = elf.section('.BTF');
    return section ? parseBtf(elf.data(section)) : undefined;
  } catch {
    return undefined;
  }
}

function kernelBtf(): Btf | undefined {
  try {
    return readKernelBtf();
  } catch {
    return undefined;
  }
}
