// USDT through a generated loader: attachUsdt() on a <sys/sdt.h> binary the test builds
// (usdt_target.c) with its arguments, cookie and pid filter checked, on python3's own
// function__entry probe, and the errors for a missing binary, a probe the binary lacks and a
// SEC("usdt") that attach() cannot place. The program is compiled twice: with the system's
// <bpf/usdt.bpf.h> (libbpf 1.1) and with libbpf 1.7's (from test/platforms/libbpf-build's cache),
// whose USDT specs have another layout (src/runtime/usdt.ts). Under each libbpf the copy of its
// own side of 1.7 delivers the events and the other is the NotSupportedError before attach.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importLoader, tempProject, tsbpf, vmlinuxArgs } from '../fixtures/gen/helpers.js';
import { compileSource } from '../helpers/bpf.js';
import { repoRoot, tempDir } from '../helpers/paths.js';
import { errorOf } from './helpers.js';

interface Request {
  pid: number;
  id: number;
  value: bigint;
  cookie: bigint;
  argc: number;
  name: string;
}
interface PyCall {
  pid: number;
  lineno: number;
  func: string;
}
interface Link {
  close(): void;
}
interface UsdtProgram {
  attach(): Link;
  attachUsdt(options: {
    binary: string;
    provider: string;
    name: string;
    pid?: number;
    cookie?: bigint;
  }): Link;
}
interface Reader<E> {
  readAvailable(max?: number): E[];
  close(): void;
}
interface Objects {
  programs: { onRequest: UsdtProgram; onIndexed: UsdtProgram; onPyEntry: UsdtProgram };
  maps: {
    requests: { reader(): Reader<Request> };
    pyCalls: { reader(): Reader<PyCall> };
    bpfUsdtSpecs: { map: { valueSize: number } };
  };
  close(): void;
}

/** The runtime the loaders import ('tsbpf' is this package's dist/): one libbpf binding per process. */
let runtime: typeof import('../../src/runtime/index.js');
/** The loaded libbpf's version, and whether it writes 1.7's USDT spec layout. */
let version = '';
let since17 = false;
/** libbpf 1.7's headers: beside TSBPF_LIBBPF when that is a 1.7, else the matrix's sid build. */
let headers17 = '';
/** Compiled with the system's <bpf/usdt.bpf.h> (1.1), and with 1.7's when it is here. */
let system: Objects;
let with17: Objects | undefined;
/** The one of the loaded libbpf's side of 1.7, and the other one. */
let objects: Objects | undefined;
let mismatched: Objects | undefined;
let target = '';

/** Generates the fixture's loader (compiled with `includes` first) and loads it. */
async function loadWith(includes: string[]): Promise<Objects> {
  const dir = tempProject();
  const source = join(repoRoot, 'test/fixtures/runtime/usdt.bpf.c');
  const args = ['gen', 'usdt', source, '--target', 'bpfel', ...includes, ...vmlinuxArgs()];
  const result = await tsbpf(args, dir);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  const loader = await importLoader<{ loadUsdt(): Promise<Objects> }>(join(dir, 'usdt.ts'));
  return loader.loadUsdt();
}

beforeAll(async () => {
  runtime = await import(pathToFileURL(join(repoRoot, 'dist/runtime/index.js')).href);
  const [major, minor] = runtime.libbpfVersion() as [number, number];
  version = `${major}.${minor}`;
  since17 = major > 1 || minor >= 7;
  const cache = process.env.TSBPF_LIBBPF_CACHE ?? '/var/cache/tsbpf-libbpf';
  const lib = process.env.TSBPF_LIBBPF;
  headers17 = since17 && lib ? join(dirname(lib), 'include') : join(cache, 'sid', 'include');
  const has17 = existsSync(join(headers17, 'bpf', 'usdt.bpf.h'));
  [system, with17] = await Promise.all([
    loadWith([]),
    has17 ? loadWith(['-I', headers17]) : Promise.resolve(undefined),
  ]);
  // sizeof(struct __bpf_usdt_spec) of each header: 1.1's, and 1.7's wider argument specs.
  expect(system.maps.bpfUsdtSpecs.map.valueSize).toBe(208);
  if (with17) expect(with17.maps.bpfUsdtSpecs.map.valueSize).toBe(304);
  [objects, mismatched] = since17 ? [with17, system] : [system, with17];
  // <sys/sdt.h> is Debian's systemtap-sdt-dev, which scripts/setup installs.
  target = join(tempDir('tsbpf-usdt-'), 'usdt_target');
  execFileSync('cc', ['-O2', '-o', target, join(repoRoot, 'test/fixtures/runtime/usdt_target.c')]);
});

afterAll(() => {
  system?.close();
  with17?.close();
});

/** The objects to attach, or a skip naming the libbpf 1.7 headers this machine lacks. */
function loaded(ctx: { skip(note: string): void }): Objects {
  if (!objects) {
    ctx.skip(
      `libbpf ${version} needs objects built with libbpf 1.7's <bpf/usdt.bpf.h>, not found in ${headers17} (bash test/platforms/libbpf-build sid installs it)`,
    );
  }
  return objects!;
}

/** Starts the target; it fires its probes once `go()` writes its line, and `done` resolves at exit. */
function startTarget(count: number): { child: ChildProcess; go(): void; done: Promise<number | null> } {
  const child = spawn(target, [String(count)], { stdio: ['pipe', 'ignore', 'inherit'] });
  const done = new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { child, go: () => child.stdin!.end('go\n'), done };
}

describe('attachUsdt()', () => {
  it("reads a probe's int, long and string arguments and the cookie", async (ctx) => {
    const objects = loaded(ctx);
    const reader = objects.maps.requests.reader();
    const link = objects.programs.onRequest.attachUsdt({
      binary: target,
      provider: 'tsbpf_test',
      name: 'request',
      cookie: 0xfeedn,
    });
    try {
      const run = startTarget(5);
      run.go();
      expect(await run.done).toBe(0);
      const events = reader.readAvailable().filter((e) => e.pid === run.child.pid);
      expect(events).toEqual(
        [0, 1, 2, 3, 4].map((i) => ({
          pid: run.child.pid,
          id: i,
          value: BigInt(i * 1000 + 7),
          cookie: 0xfeedn,
          argc: 3,
          name: `req${i}`,
        })),
      );
    } finally {
      link.close();
      reader.close();
    }
  });

  it('with pid, only that process is traced', async (ctx) => {
    const objects = loaded(ctx);
    const reader = objects.maps.requests.reader();
    const traced = startTarget(2);
    const other = startTarget(2);
    const link = objects.programs.onRequest.attachUsdt({
      binary: target,
      provider: 'tsbpf_test',
      name: 'request',
      pid: traced.child.pid!,
    });
    try {
      traced.go();
      other.go();
      expect(await traced.done).toBe(0);
      expect(await other.done).toBe(0);
      const pids = reader.readAvailable().map((e) => e.pid);
      expect(pids).toEqual([traced.child.pid, traced.child.pid]);
    } finally {
      link.close();
      reader.close();
    }
  });

  it('an argument addressed base + index * scale (x86 SIB) reads right from libbpf 1.7 on, and is a NotSupportedError before', async (ctx) => {
    // The fixture stays a SIB test: gcc -O2 addresses sizes[i % 4] on the stack through an index.
    const notes = execFileSync('readelf', ['-n', target], { encoding: 'utf8' });
    const operand = /Name: indexed\n.*\n\s*Arguments: \S+ -8@-?\d*\((%\w+,%\w+,8)\)/.exec(notes)?.[1];
    expect(operand, notes).toBeDefined();
    const objects = loaded(ctx);
    const attach = () =>
      objects.programs.onIndexed.attachUsdt({ binary: target, provider: 'tsbpf_test', name: 'indexed' });
    if (!since17) {
      const error = errorOf(attach);
      expect(error.constructor.name).toBe('NotSupportedError');
      expect(error.message).toBe(
        `program on_indexed: USDT tsbpf_test:indexed: an argument is addressed base + index * scale (${operand}), which libbpf reads from 1.7 on, not the loaded libbpf ${version}`,
      );
      expect(error.hint).toContain('load it with libbpf 1.7 or newer');
      return;
    }
    const reader = objects.maps.requests.reader();
    const link = attach();
    try {
      const run = startTarget(5);
      run.go();
      expect(await run.done).toBe(0);
      const events = reader.readAvailable().filter((e) => e.pid === run.child.pid);
      expect(events.map((e) => [e.id, e.value, e.argc])).toEqual(
        [0, 1, 2, 3, 4].map((i) => [i, BigInt(11 * ((i % 4) + 1)), 2]),
      );
    } finally {
      link.close();
      reader.close();
    }
  });

  it("python3's own probe (behind a semaphore): function__entry names the called function", async (ctx) => {
    const objects = loaded(ctx);
    // Debian's /usr/bin/python3 is built with --with-dtrace; a pyenv or self-built python often is not.
    const python = ['/usr/bin/python3', '/usr/local/bin/python3'].find(
      (p) =>
        existsSync(p) &&
        /Name: function__entry/.test(execFileSync('readelf', ['-n', p], { encoding: 'utf8' })),
    );
    if (!python) {
      ctx.skip('no python3 with USDT probes (python:function__entry stapsdt note) on this machine');
      return;
    }
    const reader = objects.maps.pyCalls.reader();
    const link = objects.programs.onPyEntry.attachUsdt({
      binary: realpathSync(python),
      provider: 'python',
      name: 'function__entry',
    });
    try {
      // Python 3.11's interpreter fires function__entry only while a trace or profile function is
      // set (its DO_TRACING path) or on generator.throw(): the script sets one that does nothing.
      const script = [
        'import sys',
        'sys.setprofile(lambda *args: None)',
        'def tsbpf_usdt_probe(x):',
        '    return x',
        'tsbpf_usdt_probe(1)',
        'tsbpf_usdt_probe(2)',
      ].join('\n');
      const child = spawn(python, ['-c', script], { stdio: 'ignore' });
      expect(await new Promise((resolve) => child.on('exit', resolve))).toBe(0);
      const calls = reader.readAvailable(4096).filter((e) => e.pid === child.pid);
      const ours = calls.filter((e) => e.func === 'tsbpf_usdt_probe');
      expect(ours).toHaveLength(2);
      expect(ours.every((e) => e.lineno === 3)).toBe(true);
    } finally {
      link.close();
      reader.close();
    }
  });

  it('a binary that does not exist is a UsageError naming the probe and the path', () => {
    const error = errorOf(() =>
      system.programs.onRequest.attachUsdt({
        binary: '/nonexistent/app',
        provider: 'tsbpf_test',
        name: 'request',
      }),
    );
    expect(error.constructor.name).toBe('UsageError');
    expect(error.message).toBe(
      'program on_request: USDT tsbpf_test:request: /nonexistent/app does not exist',
    );
  });

  it('a probe the binary lacks is a UsageError naming provider:name and the binary, with readelf', (ctx) => {
    const objects = loaded(ctx);
    const error = errorOf(() =>
      objects.programs.onRequest.attachUsdt({
        binary: target,
        provider: 'tsbpf_test',
        name: 'no_such_probe',
      }),
    );
    expect(error.constructor.name).toBe('UsageError');
    expect(error.message).toBe(
      `program on_request: USDT probe tsbpf_test:no_such_probe not found in ${target}`,
    );
    expect(error.hint).toContain(`readelf -n ${target}`);
  });

  it('SEC("usdt") without a binary: attach() names attachUsdt()', () => {
    const error = errorOf(() => system.programs.onRequest.attach());
    expect(error.constructor.name).toBe('UsageError');
    expect(error.message).toBe(
      'program on_request: SEC("usdt") names no binary, so attach() cannot attach it',
    );
    expect(error.hint).toContain(
      "attachUsdt({ binary: '/path/to/binary', provider: 'provider', name: 'name' })",
    );
  });
});

describe('<bpf/usdt.bpf.h> and the loaded libbpf', () => {
  it("an object built with the other side of 1.7's header is a NotSupportedError naming both, before attach", async (ctx) => {
    if (!mismatched) {
      ctx.skip(
        `libbpf 1.7's <bpf/usdt.bpf.h> is not in ${headers17} (bash test/platforms/libbpf-build sid installs it)`,
      );
      return;
    }
    const error = errorOf(() =>
      mismatched!.programs.onRequest.attachUsdt({ binary: target, provider: 'tsbpf_test', name: 'request' }),
    );
    expect(error.constructor.name).toBe('NotSupportedError');
    const [built, size, writes] = since17 ? ['1.6 or older', 208, 304] : ['1.7 or newer', 304, 208];
    expect(error.message).toBe(
      `program on_request: compiled with the <bpf/usdt.bpf.h> of libbpf ${built} (${size}-byte USDT specs), but the loaded libbpf ${version} writes ${writes}-byte ones: every probe argument and the cookie would read wrong`,
    );
    expect(error.hint).toContain(
      since17 ? "compile it against libbpf 1.7's headers (tsbpf gen -I" : 'load it with libbpf 1.7 or newer',
    );
    // Nothing was attached (libbpf would have, and delivered misread events): the probe fires unseen.
    const reader = mismatched.maps.requests.reader();
    try {
      const run = startTarget(1);
      run.go();
      expect(await run.done).toBe(0);
      expect(reader.readAvailable()).toEqual([]);
    } finally {
      reader.close();
    }
  });

  it('a SEC("usdt") program whose object lacks <bpf/usdt.bpf.h> is a UsageError naming the include', async () => {
    const bytes = compileSource(
      'usdt-no-header',
      '#include "vmlinux.h"\n#include <bpf/bpf_helpers.h>\nSEC("usdt")\nint on_probe(struct pt_regs *ctx) { return 0; }\nchar LICENSE[] SEC("license") = "GPL";\n',
    );
    await using collection = await runtime.CollectionSpec.fromBytes(bytes, { name: 'no_header' }).load();
    const error = errorOf(() =>
      collection.program('on_probe').attachUsdt({ binary: target, provider: 'tsbpf_test', name: 'request' }),
    );
    expect(error.constructor.name).toBe('UsageError');
    expect(error.message).toBe(
      'program on_probe: its object does not include <bpf/usdt.bpf.h>, which USDT programs need',
    );
    expect(error.hint).toContain('#include <bpf/usdt.bpf.h>');
  });
});
