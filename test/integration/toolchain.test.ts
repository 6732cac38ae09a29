// Real compiles with the machine's clang and llvm-strip: object headers for both byte
// orders, stripped DWARF with BTF kept, identical bytes across runs and folders, the include
// dirs a new user needs, tsbpf's compat headers, and the error paths.
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import koffi from 'koffi';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseElf } from '../../src/elf/index.js';
import { CompileError, ToolchainError } from '../../src/errors.js';
import {
  ClangError,
  compile,
  compileAll,
  defaultIncludeDirs,
  findToolchain,
  generateVmlinux,
  parseDepfile,
  resolveTargets,
  type Toolchain,
  tsbpfHeadersDir,
} from '../../src/toolchain/index.js';
import { repoRoot, tempDir } from '../helpers/paths.js';

const fixtures = join(repoRoot, 'test', 'fixtures', 'toolchain');
const [bpfel, bpfeb] = resolveTargets(['bpfel', 'bpfeb']);
const EM_BPF = 247;

let toolchain: Toolchain;
let vmlinuxDir: string;

beforeAll(async () => {
  toolchain = await findToolchain();
  vmlinuxDir = tempDir('tsbpf-vmlinux-');
  await generateVmlinux({ out: join(vmlinuxDir, 'vmlinux.h') });
});

/**
 * Opens and loads an object with libbpf (through koffi) and closes it again: 0 when the
 * kernel's verifier accepted every program, else the negative errno.
 */
function loadWithLibbpf(bytes: Buffer): number {
  const lib = koffi.load('libbpf.so.1');
  const open = lib.func('void *bpf_object__open_mem(const void *buf, size_t size, const void *opts)');
  const load = lib.func('int bpf_object__load(void *obj)');
  const close = lib.func('void bpf_object__close(void *obj)');
  const object = open(bytes, bytes.length, null);
  if (!object) return -koffi.errno();
  try {
    return load(object) as number;
  } finally {
    close(object);
  }
}

function sectionNames(bytes: Uint8Array): string[] {
  return parseElf(bytes).sections.map((s) => s.name);
}

describe('compile', () => {
  it('compiles for bpfel and bpfeb in parallel: ELF64, right byte order, EM_BPF, BTF kept, DWARF gone', async () => {
    const out = tempDir();
    const results = await compileAll([
      {
        toolchain,
        source: join(fixtures, 'minimal.c'),
        output: join(out, 'minimal_bpfel.o'),
        target: bpfel!,
      },
      {
        toolchain,
        source: join(fixtures, 'minimal.c'),
        output: join(out, 'minimal_bpfeb.o'),
        target: bpfeb!,
      },
    ]);
    expect(results.map((r) => r.target.suffix)).toEqual(['bpfel', 'bpfeb']);

    const el = new Uint8Array(readFileSync(join(out, 'minimal_bpfel.o')));
    const eb = new Uint8Array(readFileSync(join(out, 'minimal_bpfeb.o')));
    for (const bytes of [el, eb]) {
      expect([...bytes.subarray(0, 5)]).toEqual([0x7f, 0x45, 0x4c, 0x46, 2]); // \x7fELF, ELFCLASS64
    }
    expect(el[5]).toBe(1); // EI_DATA = ELFDATA2LSB
    expect(eb[5]).toBe(2); // ELFDATA2MSB
    expect(Buffer.from(el).readUInt16LE(18)).toBe(EM_BPF); // e_machine
    expect(Buffer.from(eb).readUInt16BE(18)).toBe(EM_BPF);

    for (const bytes of [el, eb]) {
      const names = sectionNames(bytes);
      expect(names).toEqual(
        expect.arrayContaining([
          '.BTF',
          '.BTF.ext',
          '.maps',
          'tracepoint/syscalls/sys_enter_getpid',
          'license',
        ]),
      );
      expect(names.filter((n) => n.startsWith('.debug_'))).toEqual([]);
    }
    // Only the two objects: no temp files left behind.
    expect(readdirSync(out).sort()).toEqual(['minimal_bpfeb.o', 'minimal_bpfel.o']);
  });

  it('keeps DWARF when asked not to strip (so stripping is what removes it)', async () => {
    const out = tempDir();
    await compile({
      toolchain,
      source: join(fixtures, 'minimal.c'),
      output: join(out, 'm.o'),
      target: bpfel!,
      strip: false,
    });
    expect(sectionNames(new Uint8Array(readFileSync(join(out, 'm.o'))))).toContain('.debug_info');
  });

  it('gives identical bytes for the same source compiled twice, in different folders', async () => {
    const [a, b] = [tempDir('tsbpf-repro-a-'), tempDir('tsbpf-repro-b-')];
    for (const dir of [a, b]) copyFileSync(join(fixtures, 'minimal.c'), join(dir, 'probe.c'));
    const build = (dir: string, name: string) =>
      compile({ toolchain, source: 'probe.c', output: join(dir, 'out', name), target: bpfel!, cwd: dir });
    await build(a, 'first.o');
    await build(a, 'second.o');
    await build(b, 'first.o');
    const first = readFileSync(join(a, 'out', 'first.o'));
    expect(readFileSync(join(a, 'out', 'second.o')).equals(first)).toBe(true);
    expect(readFileSync(join(b, 'out', 'first.o')).equals(first)).toBe(true);
    expect(first.includes(a)).toBe(false); // no absolute paths in BTF line info
    expect(first.includes(Buffer.from('clang version'))).toBe(false); // -fno-ident
  });

  it('finds <linux/bpf.h>, asm/types.h and <bpf/bpf_helpers.h> with no include flags', async () => {
    const out = tempDir();
    const result = await compile({
      toolchain,
      source: join(fixtures, 'minimal.c'),
      output: join(out, 'm.o'),
      target: bpfel!,
    });
    expect(result.diagnostics).toBe('');
    expect(existsSync(join(out, 'm.o'))).toBe(true);
  });

  it("compiles a program written for newer libbpf headers with tsbpf's compat fallbacks, and the kernel loads it", async () => {
    const out = tempDir();
    const includeDirs = defaultIncludeDirs({ vmlinuxDir });
    for (const target of [bpfel!, bpfeb!]) {
      await compile({
        toolchain,
        source: join(fixtures, 'compat.c'),
        output: join(out, `c_${target.suffix}.o`),
        target,
        includeDirs,
      });
      const names = sectionNames(new Uint8Array(readFileSync(join(out, `c_${target.suffix}.o`))));
      expect(names).toEqual(expect.arrayContaining(['uretprobe', 'uprobe', '.BTF']));
    }
    expect(loadWithLibbpf(readFileSync(join(out, 'c_bpfel.o')))).toBe(0);
  });

  it('compiles and loads the fallbacks for open-coded iterators and bpf_core_cast', async (context) => {
    if (!readFileSync(join(vmlinuxDir, 'vmlinux.h'), 'utf8').includes('struct bpf_iter_num {')) {
      context.skip('kernel lacks open-coded iterators (struct bpf_iter_num, Linux 6.4+)');
    }
    const out = join(tempDir(), 'iter.o');
    await compile({
      toolchain,
      source: join(fixtures, 'compat-iter.c'),
      output: out,
      target: bpfel!,
      includeDirs: defaultIncludeDirs({ vmlinuxDir }),
    });
    expect(loadWithLibbpf(readFileSync(out))).toBe(0);
  });

  it('compiles the fallbacks whatever order the libbpf headers are included in', async () => {
    const out = join(tempDir(), 'order.o');
    const result = await compile({
      toolchain,
      source: join(fixtures, 'compat-order.c'),
      output: out,
      target: bpfel!,
      includeDirs: defaultIncludeDirs({ vmlinuxDir }),
    });
    expect(result.diagnostics).toBe('');
    expect(existsSync(out)).toBe(true);
  });

  it('needs those fallbacks when the installed libbpf is older than 1.2', async () => {
    const version = readFileSync('/usr/include/bpf/libbpf_version.h', 'utf8');
    const minor = Number(/LIBBPF_MINOR_VERSION\s+(\d+)/.exec(version)?.[1]);
    const major = Number(/LIBBPF_MAJOR_VERSION\s+(\d+)/.exec(version)?.[1]);
    if (major > 1 || minor >= 2) return; // a newer libbpf defines them itself; nothing to show
    const plain = [vmlinuxDir]; // without tsbpf's headers/
    const error = await compile({
      toolchain,
      source: join(fixtures, 'compat.c'),
      output: join(tempDir(), 'c.o'),
      target: bpfel!,
      includeDirs: plain,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CompileError);
    expect((error as Error).message).toMatch(/BPF_URETPROBE|bpf_ksym_exists|bpf_for|__arg_ctx/);
  });

  it('writes a depfile naming the object and every header read', async () => {
    const out = tempDir();
    const output = join(out, 'm.o');
    const result = await compile({
      toolchain,
      source: join(fixtures, 'minimal.c'),
      output,
      target: bpfel!,
      depfile: join(out, 'm.d'),
    });
    const depfile = parseDepfile(readFileSync(join(out, 'm.d'), 'utf8'));
    expect(depfile.targets).toEqual([output]);
    expect(depfile.dependencies[0]).toBe(join(fixtures, 'minimal.c'));
    expect(depfile.dependencies).toEqual(
      expect.arrayContaining([
        '/usr/include/linux/bpf.h',
        join(tsbpfHeadersDir(), 'bpf', 'bpf_helpers.h'),
        '/usr/include/bpf/bpf_helpers.h',
      ]),
    );
    expect(result.dependencies).toEqual(depfile.dependencies);
  });

  it("returns clang's warnings and applies the user's cflags after tsbpf's", async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'warn.c'),
      '#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\nSEC("xdp") int x(void *ctx) { int unused; return XDP_PASS; }\nchar LICENSE[] SEC("license") = "GPL";\n',
    );
    const result = await compile({
      toolchain,
      source: 'warn.c',
      cwd: dir,
      output: 'w.o',
      target: bpfel!,
      cflags: ['-Wall'],
    });
    expect(result.diagnostics).toContain("warn.c:3:35: warning: unused variable 'unused'");
    await expect(
      compile({
        toolchain,
        source: 'warn.c',
        cwd: dir,
        output: 'w2.o',
        target: bpfel!,
        cflags: ['-Wall', '-Werror'],
      }),
    ).rejects.toThrow(/error: unused variable 'unused'/);
  });
});

describe('compile errors', () => {
  it("reports a syntax error as a CompileError with clang's file:line diagnostics", async () => {
    const out = tempDir();
    const source = join(fixtures, 'syntax-error.c');
    const error = await compile({ toolchain, source, output: join(out, 'bad.o'), target: bpfel! }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CompileError);
    expect(error).toBeInstanceOf(ClangError);
    const clangError = error as ClangError;
    expect(clangError.file).toBe(source);
    expect(clangError.message.split('\n')[0]).toBe(`${source}: clang failed (target bpfel):`);
    expect(clangError.diagnostics).toMatch(new RegExp(`${source}:7:\\d+: error: expected ';'`));
    expect(clangError.diagnostics).not.toContain('\u001b['); // no colour off a TTY
    expect(readdirSync(out)).toEqual([]); // no object, no temp file
  });

  it('hints at tsbpf vmlinux when vmlinux.h is missing', async () => {
    const error = await compile({
      toolchain,
      source: join(fixtures, 'compat.c'),
      output: join(tempDir(), 'c.o'),
      target: bpfel!,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CompileError);
    expect((error as CompileError).message).toContain("'vmlinux.h' file not found");
    expect((error as CompileError).hint).toContain('tsbpf vmlinux');
  });

  it('stops at the first failing job and reports it', async () => {
    const out = tempDir();
    const error = await compileAll(
      [
        { toolchain, source: join(fixtures, 'minimal.c'), output: join(out, 'ok.o'), target: bpfel! },
        {
          toolchain,
          source: join(fixtures, 'syntax-error.c'),
          output: join(out, 'bad_el.o'),
          target: bpfel!,
        },
        {
          toolchain,
          source: join(fixtures, 'syntax-error.c'),
          output: join(out, 'bad_eb.o'),
          target: bpfeb!,
        },
      ],
      { concurrency: 1 },
    ).catch((e: unknown) => e);
    expect((error as ClangError).target).toBe('bpfel');
    expect(readdirSync(out)).toEqual(['ok.o']);
  });

  it('names the package to install when there is no clang on PATH', async () => {
    const error = await findToolchain({ env: { PATH: tempDir() } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolchainError);
    expect((error as ToolchainError).message).toBe('clang was not found on PATH');
    expect((error as ToolchainError).hint).toContain('apt-get install clang llvm');
  });
});
