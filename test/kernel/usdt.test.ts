// USDT through a generated loader: attachUsdt() on a <sys/sdt.h> binary the test builds
// (usdt_target.c) with its arguments, cookie and pid filter checked, on python3's own
// function__entry probe, and the errors for a missing binary, a probe the binary lacks and a
// SEC("usdt") that attach() cannot place.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importLoader, tempProject, tsbpf, vmlinuxArgs } from '../fixtures/gen/helpers.js';
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
  programs: { onRequest: UsdtProgram; onPyEntry: UsdtProgram };
  maps: { requests: { reader(): Reader<Request> }; pyCalls: { reader(): Reader<PyCall> } };
  close(): void;
}

let objects: Objects;
let target = '';

beforeAll(async () => {
  const dir = tempProject();
  const source = join(repoRoot, 'test/fixtures/runtime/usdt.bpf.c');
  const result = await tsbpf(['gen', 'usdt', source, '--target', 'bpfel', ...vmlinuxArgs()], dir);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  const loader = await importLoader<{ loadUsdt(): Promise<Objects> }>(join(dir, 'usdt.ts'));
  objects = await loader.loadUsdt();
  // The runtime the loader imported ('tsbpf' is this package's dist/).
  const runtime = await import(pathToFileURL(join(repoRoot, 'dist/runtime/index.js')).href);
  const [major, minor] = runtime.libbpfVersion() as [number, number];
  if (major > 1 || minor >= 7) refusedBy = `${major}.${minor}`;
  // <sys/sdt.h> is Debian's systemtap-sdt-dev, which scripts/setup installs.
  target = join(tempDir('tsbpf-usdt-'), 'usdt_target');
  execFileSync('cc', ['-O2', '-o', target, join(repoRoot, 'test/fixtures/runtime/usdt_target.c')]);
});

afterAll(() => objects?.close());

/** The libbpf version under which attachUsdt refuses (1.7+, src/runtime/usdt.ts). */
let refusedBy: string | undefined;

/** Under such a libbpf, checks that the user gets the NotSupportedError, and says so. */
function refused(): boolean {
  if (refusedBy === undefined) return false;
  const error = errorOf(() =>
    objects.programs.onRequest.attachUsdt({ binary: target, provider: 'tsbpf_test', name: 'request' }),
  );
  expect(error.constructor.name).toBe('NotSupportedError');
  expect(error.message).toContain(`tsbpf's USDT attach does not work with libbpf ${refusedBy} yet`);
  return true;
}

/** Starts the target; it fires its probes once `go()` writes its line, and `done` resolves at exit. */
function startTarget(count: number): { child: ChildProcess; go(): void; done: Promise<number | null> } {
  const child = spawn(target, [String(count)], { stdio: ['pipe', 'ignore', 'inherit'] });
  const done = new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { child, go: () => child.stdin!.end('go\n'), done };
}

describe('attachUsdt()', () => {
  it("reads a probe's int, long and string arguments and the cookie", async () => {
    if (refused()) return;
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

  it('with pid, only that process is traced', async () => {
    if (refused()) return;
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

  it("python3's own probe: function__entry names the called function", async (ctx) => {
    if (refused()) return;
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
      objects.programs.onRequest.attachUsdt({
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

  it('a probe the binary lacks is a UsageError naming provider:name and the binary, with readelf', () => {
    if (refused()) return;
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
    const error = errorOf(() => objects.programs.onRequest.attach());
    expect(error.constructor.name).toBe('UsageError');
    expect(error.message).toBe(
      'program on_request: SEC("usdt") names no binary, so attach() cannot attach it',
    );
    expect(error.hint).toContain(
      "attachUsdt({ binary: '/path/to/binary', provider: 'provider', name: 'name' })",
    );
  });
});
