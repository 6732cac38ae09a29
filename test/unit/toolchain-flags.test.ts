import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { hintFor } from '../../src/toolchain/compile.js';
import { parseDepfile } from '../../src/toolchain/depfile.js';
import { clangArgs, defaultIncludeDirs, tsbpfHeadersDir } from '../../src/toolchain/flags.js';
import { hostArch, hostTargetName, resolveTargets } from '../../src/toolchain/targets.js';

describe('resolveTargets', () => {
  it('gives generic targets the host arch so PT_REGS macros match vmlinux.h', () => {
    const [el, eb] = resolveTargets(['bpfel', 'bpfeb'], { arch: 'x64', endian: 'LE' });
    expect(el).toEqual({
      name: 'bpfel',
      clangTarget: 'bpfel',
      arch: 'x86',
      endian: 'little',
      suffix: 'bpfel',
    });
    expect(eb).toEqual({ name: 'bpfeb', clangTarget: 'bpfeb', arch: 'x86', endian: 'big', suffix: 'bpfeb' });
    const [arm] = resolveTargets(['bpfel'], { arch: 'arm64', endian: 'LE' });
    expect(arm?.arch).toBe('arm64');
  });

  it('maps architecture targets to byte order and __TARGET_ARCH', () => {
    const table = Object.fromEntries(
      resolveTargets([
        'amd64',
        'arm64',
        'arm',
        's390x',
        'ppc64le',
        'ppc64',
        'riscv64',
        'loong64',
        'mips',
      ]).map((t) => [t.name, `${t.clangTarget}/${t.arch}/${t.suffix}`]),
    );
    expect(table).toEqual({
      amd64: 'bpfel/x86/x86_bpfel',
      arm64: 'bpfel/arm64/arm64_bpfel',
      arm: 'bpfel/arm/arm_bpfel',
      s390x: 'bpfeb/s390/s390_bpfeb',
      ppc64le: 'bpfel/powerpc/powerpc_bpfel',
      ppc64: 'bpfeb/powerpc/powerpc_bpfeb',
      riscv64: 'bpfel/riscv/riscv_bpfel',
      loong64: 'bpfel/loongarch/loongarch_bpfel',
      mips: 'bpfeb/mips/mips_bpfeb',
    });
  });

  it('accepts comma lists and Node arch names, and drops targets that give the same object', () => {
    expect(resolveTargets(['amd64,386', 'x64', 'bpfel']).map((t) => t.suffix)).toEqual([
      'x86_bpfel',
      'bpfel',
    ]);
    expect(resolveTargets(['native'], { arch: 's390x', endian: 'BE' })[0]?.suffix).toBe('s390_bpfeb');
  });

  it('rejects unknown names with the list of valid ones', () => {
    expect(() => resolveTargets(['bpfel', 'sparc'])).toThrow(UsageError);
    expect(() => resolveTargets(['sparc'])).toThrow(/unknown target 'sparc'/);
    try {
      resolveTargets(['vax']);
    } catch (error) {
      expect((error as UsageError).hint).toContain('arm64');
    }
    expect(() => resolveTargets([])).toThrow(UsageError);
  });

  it('knows the host arch for Node arch names', () => {
    expect(hostArch('x64', 'LE')).toBe('x86');
    expect(hostArch('ppc64', 'LE')).toBe('powerpc');
    expect(hostTargetName('ppc64', 'BE')).toBe('ppc64');
    expect(hostTargetName('ppc64', 'LE')).toBe('ppc64le');
    expect(hostArch('sparc', 'BE')).toBeUndefined();
  });
});

describe('clangArgs', () => {
  const [bpfel, bpfeb] = resolveTargets(['bpfel', 'bpfeb'], { arch: 'x64', endian: 'LE' });

  it('puts the defaults first, include dirs, then the user flags, then the input and output', () => {
    const args = clangArgs({
      target: bpfel!,
      source: 'src/probe.c',
      output: 'out/probe_bpfel.o',
      includeDirs: ['/inc/a', '/inc/b'],
      cflags: ['-DDEBUG=1', '-Wall'],
      cwd: '/project',
      color: false,
      systemDirsAfter: ['/usr/include/x86_64-linux-gnu'],
    });
    expect(args).toEqual([
      '-g',
      '-O2',
      '-target',
      'bpfel',
      '-D__TARGET_ARCH_x86',
      '-fno-ident',
      '-fdebug-compilation-dir=.',
      '-ffile-prefix-map=/project/=',
      '-fno-color-diagnostics',
      '-I',
      '/inc/a',
      '-I',
      '/inc/b',
      '-idirafter',
      '/usr/include/x86_64-linux-gnu',
      '-DDEBUG=1',
      '-Wall',
      '-c',
      'src/probe.c',
      '-o',
      'out/probe_bpfel.o',
    ]);
  });

  it('uses the big-endian target, colour on request, and a depfile naming the final output', () => {
    const args = clangArgs({
      target: bpfeb!,
      source: 'p.c',
      output: 'p.o.tmp',
      depTarget: 'p.o',
      depfile: 'p.d',
      cwd: '/project',
      color: true,
      systemDirsAfter: [],
    });
    expect(args.slice(2, 4)).toEqual(['-target', 'bpfeb']);
    expect(args).toContain('-fcolor-diagnostics');
    const md = args.indexOf('-MD');
    expect(args.slice(md, md + 5)).toEqual(['-MD', '-MF', 'p.d', '-MT', 'p.o']);
    expect(args.indexOf('-MD')).toBeLessThan(args.indexOf('-c'));
  });

  it('leaves the arch to the user when their cflags name one', () => {
    const args = clangArgs({
      target: bpfel!,
      source: 'p.c',
      output: 'p.o',
      cflags: ['-D__TARGET_ARCH_arm64'],
      cwd: '/p',
      systemDirsAfter: [],
    });
    expect(args.filter((a) => a.startsWith('-D__TARGET_ARCH_'))).toEqual(['-D__TARGET_ARCH_arm64']);
  });

  it('maps a source folder outside cwd away too', () => {
    const args = clangArgs({
      target: bpfel!,
      source: '/elsewhere/x/p.c',
      output: 'p.o',
      cwd: '/project',
      systemDirsAfter: [],
    });
    expect(args).toContain('-ffile-prefix-map=/project/=');
    expect(args).toContain('-ffile-prefix-map=/elsewhere/x/=');
  });

  it('orders include dirs: project, tsbpf headers, vmlinux dir', () => {
    expect(defaultIncludeDirs({ projectDirs: ['/p/include'], vmlinuxDir: '/p/vmlinux' })).toEqual([
      '/p/include',
      tsbpfHeadersDir(),
      '/p/vmlinux',
    ]);
    expect(tsbpfHeadersDir()).toMatch(/\/headers$/);
  });
});

describe('parseDepfile', () => {
  it('reads clang depfiles with continuations and escapes', () => {
    const text =
      'out/probe_bpfel.o: src/probe.c /usr/include/linux/bpf.h \\\n' +
      '  /work/my\\ dir/vmlinux.h /x/cost$$.h \\\n' +
      '  /x/hash\\#.h\n';
    expect(parseDepfile(text)).toEqual({
      targets: ['out/probe_bpfel.o'],
      dependencies: [
        'src/probe.c',
        '/usr/include/linux/bpf.h',
        '/work/my dir/vmlinux.h',
        '/x/cost$.h',
        '/x/hash#.h',
      ],
    });
  });

  it('returns empty lists for text without a rule', () => {
    expect(parseDepfile('')).toEqual({ targets: [], dependencies: [] });
  });
});

describe('hintFor', () => {
  it('names the package for missing headers', () => {
    expect(hintFor("p.c:2:10: fatal error: 'bpf/bpf_helpers.h' file not found")).toContain('libbpf-dev');
    expect(hintFor("types.h:5:10: fatal error: 'asm/types.h' file not found")).toContain('linux-libc-dev');
    expect(hintFor("p.c:1:10: fatal error: 'vmlinux.h' file not found")).toContain('tsbpf vmlinux');
    expect(hintFor("p.c:7:19: error: expected ';' after return statement")).toBeUndefined();
  });
});
