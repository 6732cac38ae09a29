// Bad input everywhere: each case ends in one clear line and exit 1 from the CLI, or a typed error
// from the API — never a stack trace, a bare errno or a crash. docs/errors.md lists these messages.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Collection,
  CollectionSpec,
  FormatError,
  NotSupportedError,
  ToolchainError,
  TsbpfError,
  VerifierError,
} from '../../src/runtime/index.js';
import { tsbpf } from '../fixtures/gen/helpers.js';
import { cliPath, repoRoot, tempDir } from '../helpers/paths.js';
import { reliabilityFixture, runtimeFixture } from './helpers.js';

const good = reliabilityFixture('kinds');
const garbage = Uint8Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24);
const truncated = good.slice(0, 200);
// Any host executable is an ELF object for another machine (x86-64, aarch64, ...).
const x86 = new Uint8Array(readFileSync('/bin/true'));

describe('CLI: one clear line and exit 1', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir();
    writeFileSync(join(dir, 'garbage.o'), garbage);
    writeFileSync(join(dir, 'truncated.o'), truncated);
    writeFileSync(join(dir, 'x86.o'), x86);
    writeFileSync(join(dir, 'good.o'), good);
    writeFileSync(join(dir, 'broken.c'), 'int f( {\n');
    copyFileSync(join(repoRoot, 'test/fixtures/toolchain/minimal.c'), join(dir, 'minimal.c'));
  });

  const cases: { name: string; args: string[]; env?: NodeJS.ProcessEnv; first: RegExp }[] = [
    {
      name: 'garbage object',
      args: ['gen', 'p', '--objfile', 'garbage.o'],
      first: /not a valid ELF64 object: bad magic/,
    },
    {
      name: 'truncated object',
      args: ['gen', 'p', '--objfile', 'truncated.o'],
      first: /not a valid ELF64 object: .*past the end of the file/,
    },
    {
      name: 'object for another machine',
      args: ['gen', 'p', '--objfile', 'x86.o'],
      first: /not an eBPF object \(ELF machine \d+, expected 247\)/,
    },
    { name: 'C that does not compile', args: ['gen', 'p', 'broken.c'], first: /broken\.c: clang failed/ },
    {
      name: 'missing clang',
      args: ['gen', 'p', 'minimal.c'],
      env: { TSBPF_CLANG: '/nonexistent/clang' },
      first: /clang '\/nonexistent\/clang' was not found/,
    },
    {
      name: 'kernel without BTF (--btf to a missing file)',
      args: ['vmlinux', '--btf', '/nonexistent/vmlinux', '--out', 'vmlinux.h'],
      first: /BTF file \/nonexistent\/vmlinux does not exist/,
    },
    // Ordinary mistakes on paths and values the user gave: never "internal error".
    {
      name: 'btfgen without a kernel',
      args: ['btfgen', '--object', 'garbage.o'],
      first: /^error: btfgen needs the kernels to make BTF for: give at least one --btf or --kernel$/,
    },
    {
      name: 'vmlinux --out a folder',
      args: ['vmlinux', '--out', '.'],
      first: /^error: \/tmp\/\S+: is a folder, where a file was expected \(EISDIR\)$/,
    },
    {
      name: 'an output folder under a file',
      args: ['gen', 'p', '--objfile', 'good.o', '--out-dir', 'minimal.c/out'],
      first: /^error: .*minimal\.c\/out: a part of the path is not a folder \(ENOTDIR\)$/,
    },
    {
      name: 'vmlinux --out under a file',
      args: ['vmlinux', '--out', 'minimal.c/vmlinux.h'],
      first: /^error: .*minimal\.c: is a file, where a folder was expected \(EEXIST\)$/,
    },
    {
      // Node 20's recursive mkdir spun forever here (procfs answers ENOENT for a new folder).
      name: 'an output folder where no folder can be made (procfs)',
      args: ['vmlinux', '--out', '/proc/tsbpf-nope/vmlinux.h'],
      first: /^error: \/proc\/tsbpf-nope: no such file or folder \(ENOENT\)$/,
    },
    {
      name: 'trace --pid that is not a number',
      args: ['trace', '--pid', 'abc'],
      first: /^error: --pid abc: expected a process id \(a whole number\)$/,
    },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const result = await tsbpf(c.args, dir, c.env);
      expect(result.code).toBe(1);
      const lines = result.stderr.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^error: /);
      expect(lines[0]).toMatch(c.first);
      expect(result.stderr).not.toMatch(/^\s+at /m); // no stack trace
      // One line (plus its hint); clang's own diagnostics follow only for C that does not compile.
      if (c.name !== 'C that does not compile') expect(lines.length).toBeLessThanOrEqual(2);
    });
  }
});

describe('CLI: a reader that closes the pipe early (tsbpf … | head -1)', () => {
  for (const args of [['--help'], ['doctor']]) {
    it(`tsbpf ${args.join(' ')} stops quietly with status 0`, async () => {
      const child = spawn(process.execPath, [cliPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.destroy(); // the reader is gone before the first write
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(stderr).toBe('');
      expect(code).toBe(0);
    });
  }
});

type Case = { name: string; run: () => unknown; type: new (...args: never[]) => TsbpfError; message: RegExp };

describe('API: a typed error', () => {
  let coll: Collection;
  beforeAll(async () => {
    coll = await CollectionSpec.fromBytes(good).load();
  });
  afterAll(() => coll.close());

  const cases: Case[] = [
    {
      name: 'garbage object',
      run: () => CollectionSpec.fromBytes(garbage),
      type: FormatError,
      message: /bad magic/,
    },
    {
      name: 'truncated object',
      run: () => CollectionSpec.fromBytes(truncated),
      type: FormatError,
      message: /past the end of the file/,
    },
    {
      name: 'object for another machine',
      run: () => CollectionSpec.fromBytes(x86),
      type: FormatError,
      message: /an ELF object for machine \d+, not eBPF \(247\)/,
    },
    {
      name: 'empty buffer',
      run: () => CollectionSpec.fromBytes(new Uint8Array(0)),
      type: FormatError,
      message: /ELF/,
    },
    {
      name: 'verifier rejection',
      run: () => CollectionSpec.fromBytes(runtimeFixture('bad')).load(),
      type: VerifierError,
      message: /unchecked_lookup/,
    },
    {
      name: 'kernel without BTF (kernelBtf to a missing file)',
      run: () => CollectionSpec.fromBytes(good).load({ kernelBtf: '/nonexistent/vmlinux' }),
      type: NotSupportedError,
      message: /kernel BTF \/nonexistent\/vmlinux does not exist/,
    },
    {
      name: 'XDP on an interface that does not exist',
      run: () => coll.program('relk_xdp').attachXdp({ ifname: 'tsbpf-nope0' }),
      type: TsbpfError,
      message: /network interface tsbpf-nope0 does not exist/,
    },
    {
      name: 'tc on an interface that does not exist',
      run: () => coll.program('relk_tc').attachTc({ ifname: 'tsbpf-nope0', direction: 'ingress' }),
      type: TsbpfError,
      message: /network interface tsbpf-nope0 does not exist/,
    },
    {
      name: 'a binary without the uprobe symbol',
      run: () =>
        coll.program('relk_uprobe').attachUprobe({ binary: '/bin/true', symbol: 'tsbpf_no_such_fn' }),
      type: TsbpfError,
      message: /symbol tsbpf_no_such_fn not found in \/bin\/true/,
    },
    {
      name: 'a uprobe binary that does not exist',
      run: () => coll.program('relk_uprobe').attachUprobe({ binary: '/nonexistent/bin', symbol: 'main' }),
      type: TsbpfError,
      message: /\/nonexistent\/bin does not exist/,
    },
    {
      name: 'a tracepoint that does not exist',
      run: () => coll.program('relk_tp').attachTracepoint('tsbpf_nope', 'nope'),
      type: TsbpfError,
      message: /tracepoint tsbpf_nope\/nope does not exist/,
    },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const error = await (async () => c.run())().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(c.type);
      const e = error as TsbpfError;
      expect(e.message.split('\n')[0]).toMatch(c.message);
      expect(e.hint).toBeTruthy();
    });
  }

  it('the missing-tool error is a ToolchainError', async () => {
    const { findToolchain } = await import('../../src/toolchain/index.js');
    const error = await findToolchain({ clang: '/nonexistent/clang' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolchainError);
  });
});
