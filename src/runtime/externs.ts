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
  const uses = object ? functionsUsing(object, names) : new Map<string, string[]>();
  const users = [...new Set([...uses.values()].flat())].sort();
  return users.length > 0 ? ` (used by ${users.join(', ')})` : '';
}

/**
 * For each of `names` (undefined externs) the functions of a BPF object whose code refers to it, as
 * "program P" or "subprogram S" (one in .text, which programs call), in one pass over the
 * relocations. Empty when the object cannot be read: the error is said without them.
 */
export function functionsUsing(object: Uint8Array, names: string[]): Map<string, string[]> {
  const uses = new Map<string, Set<string>>();
  try {
    const elf = parseElf(object);
    const symbols = elf.symbols();
    const wanted = new Map<number, Set<string>>();
    for (const s of symbols) {
      if (s.sectionIndex !== SHN_UNDEF || !names.includes(s.name)) continue;
      const users = new Set<string>();
      uses.set(s.name, users);
      wanted.set(s.index, users);
    }
    if (wanted.size === 0) return new Map();
    for (const section of elf.sections) {
      for (const r of elf.relocations(section)) {
        const users = wanted.get(r.symbol);
        if (!users) continue;
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
  } catch {
    return new Map(); // libbpf opened it, so this is not expected
  }
  return new Map([...uses].map(([name, users]) => [name, [...users].sort()]));
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
  if (weak.length === 0) return [];
  const ours = declarations(objectBtf(object), weak);
  const uses = functionsUsing(object, weak);
  // Functions (not variables), called by the program itself or by a subprogram, which it may call.
  const calls = weak
    .filter((name) => ours.get(name)?.endsWith(')'))
    .map((name) => ({ name, users: uses.get(name) ?? [] }))
    .filter(({ users }) => users.some((u) => u === `program ${program}` || u.startsWith('subprogram ')));
  if (calls.length === 0) return [];
  const kernel = kernelBtf();
  if (!kernel) return [];
  const theirs = declarations(
    kernel,
    calls.map((c) => c.name),
  );
  const absent = calls.filter(({ name }) => !theirs.has(name));
  const inModules = absent.length > 0 ? inModuleBtf(absent.map((c) => c.name)) : new Set<string>();
  return absent.filter(({ name }) => !inModules.has(name));
}

/**
 * Which of `names` a loaded module's BTF has as a string (a cheap, conservative test: a kfunc of a
 * module counts as present). Every name, where the modules cannot be read: then nothing is said.
 */
function inModuleBtf(names: string[]): Set<string> {
  const found = new Set<string>();
  try {
    for (const file of readdirSync('/sys/kernel/btf')) {
      if (file === 'vmlinux') continue;
      const bytes = readFileSync(`/sys/kernel/btf/${file}`);
      for (const name of names) if (bytes.includes(Buffer.from(`\0${name}\0`))) found.add(name);
    }
  } catch {
    return new Set(names);
  }
  return found;
}

/** `name`'s declaration in C, 'int bpf_x(struct task_struct *)' or 'const int x', from its FUNC or VAR; undefined if absent. */
export function declaration(btf: Btf | undefined, name: string): string | undefined {
  return declarations(btf, [name]).get(name);
}

/** The declarations of those of `names` that `btf` has as a FUNC or VAR, in one pass over its types. */
function declarations(btf: Btf | undefined, names: string[]): Map<string, string> {
  const found = new Map<string, string>();
  if (!btf) return found;
  for (let id = 1; id < btf.count && found.size < names.length; id++) {
    const t = btf.type(id);
    if ((t.kind !== 'func' && t.kind !== 'var') || found.has(t.name) || !names.includes(t.name)) continue;
    if (t.kind === 'var') {
      found.set(t.name, `${btf.describe(t.type)} ${t.name}`);
      continue;
    }
    const proto = btf.type(t.type);
    if (proto.kind !== 'func_proto') continue;
    const params = proto.params.map((p) => btf.describe(p.type)).join(', ') || 'void';
    found.set(t.name, `${btf.describe(proto.returnType)} ${t.name}(${params})`);
  }
  return found;
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
