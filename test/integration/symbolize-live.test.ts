// The symbolizer against live processes: C children (PIE, non-PIE, stripped) print the run-time
// addresses of their functions as the dynamic linker sees them (dlsym, &function), and the
// symbolizer must name them from /proc/PID/maps and the ELF files alone; exited processes give
// reasons; kernel addresses from /proc/kallsyms come back as their names.
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatFrame, Symbolizer } from '../../src/symbolize/index.js';
import { buildFixtures, nm, readelfBuildId, type SymbolizeFixtures } from '../fixtures/symbolize/build.js';
import { tempDir } from '../helpers/paths.js';

interface Child {
  process: ChildProcess;
  pid: number;
  sleeping: bigint;
  unsized: bigint;
  library: bigint;
  nanosleep: bigint;
}

const children: ChildProcess[] = [];

/** Starts a fixture and reads the line it prints: pid and four addresses. */
async function start(file: string, ...args: string[]): Promise<Child> {
  const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  const lines = createInterface({ input: child.stdout! });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('error', reject);
  });
  const [pid, sleeping, unsized, library, nanosleep] = first.trim().split(' ');
  return {
    process: child,
    pid: Number(pid),
    sleeping: BigInt(sleeping!),
    unsized: BigInt(unsized!),
    library: BigInt(library!),
    nanosleep: BigInt(nanosleep!),
  };
}

async function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise((resolve) => child.once('exit', resolve));
}

/** The libc the child maps, from its maps file. */
function libcOf(pid: number): string {
  const line = readFileSync(`/proc/${pid}/maps`, 'utf8')
    .split('\n')
    .find((l) => /\/libc\.so\.6$/.test(l));
  return line!.split(/\s+/).pop()!;
}

let fx: SymbolizeFixtures;
beforeAll(() => {
  fx = buildFixtures(tempDir('tsbpf-symbolize-live-'));
});
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(fx.dir, { recursive: true, force: true });
});

describe('Symbolizer.user on live processes', () => {
  for (const kind of ['pie', 'nonPie'] as const) {
    it(`names functions of a ${kind} executable, its shared library and libc`, async () => {
      const child = await start(fx[kind]);
      using s = new Symbolizer();
      const frames = s.user(child.pid, [
        child.sleeping + 4n,
        child.unsized + 1n,
        child.library + 2n,
        child.nanosleep + 3n,
      ]);
      expect(frames.map((f) => [f.symbol, f.offset])).toEqual([
        ['sleeping_function', 4],
        ['unsized_function', 1],
        ['fixture_library_function', 2],
        // glibc exports nanosleep as an alias of __nanosleep; either names the function.
        [expect.stringMatching(/^(__)?nanosleep$/), 3],
      ]);
      expect(frames[0]!.module).toBe(fx[kind]);
      expect(frames[0]!.buildId).toBe(readelfBuildId(fx[kind]));
      expect(frames[0]!.moduleAddress).toBe(nm(fx[kind]).get('sleeping_function')!.address + 4);
      expect(frames[2]!.module).toBe(fx.library);
      expect(frames[3]!.module).toBe(libcOf(child.pid));
      expect(frames.every((f) => f.reason === undefined)).toBe(true);
      expect(formatFrame(frames[0]!)).toBe(
        `sleeping_function+0x4 [${kind === 'pie' ? 'target-pie' : 'target-nopie'}]`,
      );
      child.process.kill('SIGKILL');
    });
  }

  it('gives a stripped executable’s frames its file and ELF address, saying why no name', async () => {
    const child = await start(fx.stripped);
    using s = new Symbolizer();
    const [frame, libc] = s.user(child.pid, [child.sleeping + 4n, child.nanosleep]);
    expect(frame!.symbol).toBeUndefined();
    expect(frame!.module).toBe(fx.stripped);
    expect(frame!.moduleAddress).toBe(nm(fx.pie).get('sleeping_function')!.address + 4);
    expect(frame!.reason).toMatch(/no symbol table \(stripped\)/);
    expect(formatFrame(frame!)).toMatch(/^0x[0-9a-f]+ \[target-stripped\+0x[0-9a-f]+\]$/);
    expect(libc!.symbol).toMatch(/nanosleep/);
    child.process.kill('SIGKILL');
  });

  it('names functions of an executable deleted after it started, through map_files', async () => {
    const copy = `${fx.dir}/target-deleted`;
    copyFileSync(fx.pie, copy);
    chmodSync(copy, 0o755);
    const child = await start(copy);
    rmSync(copy);
    expect(readFileSync(`/proc/${child.pid}/maps`, 'utf8')).toContain(`${copy} (deleted)`);
    using s = new Symbolizer();
    const [frame] = s.user(child.pid, [child.sleeping + 4n]);
    expect(frame).toMatchObject({ symbol: 'sleeping_function', offset: 4, module: copy });
    child.process.kill('SIGKILL');
  });

  it('names vDSO functions, read from the process’s memory', async () => {
    const child = await start(fx.pie);
    const vdso = readFileSync(`/proc/${child.pid}/maps`, 'utf8')
      .split('\n')
      .find((l) => l.endsWith('[vdso]'));
    expect(vdso).toBeDefined();
    const vdsoStart = BigInt(`0x${vdso!.split('-')[0]}`);
    using s = new Symbolizer();
    // Some address inside the vDSO's text names one of its exported clock functions.
    const named = s
      .user(
        child.pid,
        [...Array(0x800).keys()].map((i) => vdsoStart + BigInt(i * 2)),
      )
      .filter((f) => f.symbol !== undefined);
    expect(named.length).toBeGreaterThan(0);
    expect(named.map((f) => f.symbol)).toContainEqual(
      expect.stringMatching(/clock_gettime|gettimeofday|time|getcpu/),
    );
    expect(named[0]!.module).toBe('[vdso]');
    child.process.kill('SIGKILL');
  });

  it('keeps resolving a process after it exits, from what it read while it ran', async () => {
    const child = await start(fx.pie, 'wait-stdin');
    using s = new Symbolizer();
    expect(s.user(child.pid, [child.sleeping])[0]!.symbol).toBe('sleeping_function');
    child.process.stdin!.end();
    await exited(child.process);
    expect(s.user(child.pid, [child.sleeping + 1n])[0]).toMatchObject({
      symbol: 'sleeping_function',
      offset: 1,
    });
  });

  it('gives frames with a reason, never an exception, for a process that has exited', async () => {
    const child = await start(fx.pie, 'wait-stdin');
    child.process.stdin!.end();
    await exited(child.process);
    using s = new Symbolizer();
    const frames = s.user(child.pid, [child.sleeping, child.library]);
    expect(frames).toHaveLength(2);
    for (const f of frames) {
      expect(f.symbol).toBeUndefined();
      expect(f.reason).toMatch(new RegExp(`process ${child.pid} exited`));
    }
    expect(() => s.user(-1, [1n])).toThrow(/pid -1 is not a process id/);
  });

  it('names JIT code from the perf map node writes with --perf-basic-prof', async () => {
    const script =
      'function tsbpfHotLoop(n){let x=0;for(let i=0;i<n;i++)x+=i%7;return x}' +
      'for(let i=0;i<200;i++)tsbpfHotLoop(1e5);console.log(process.pid);setInterval(()=>tsbpfHotLoop(1e5),50);';
    const child = spawn(process.execPath, ['--perf-basic-prof', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    const pid = Number(
      await new Promise<string>((r) => createInterface({ input: child.stdout! }).once('line', r)),
    );
    // The map's own line for the function gives an address inside it (the JIT placed it, not tsbpf).
    const line = readFileSync(`/tmp/perf-${pid}.map`, 'utf8')
      .split('\n')
      .find((l) => l.includes('tsbpfHotLoop'));
    expect(line).toBeDefined();
    const [startHex, sizeHex] = line!.split(' ');
    const address = BigInt(`0x${startHex}`) + BigInt(`0x${sizeHex}`) / 2n;
    using s = new Symbolizer();
    const [frame] = s.user(pid, [address]);
    expect(frame!.symbol).toContain('tsbpfHotLoop');
    expect(frame!.module).toBe(`/tmp/perf-${pid}.map`);
    child.kill('SIGKILL');
    rmSync(`/tmp/perf-${pid}.map`, { force: true });
  });
});

describe('Symbolizer.kernel', () => {
  it('names a kernel function from /proc/kallsyms, with its offset', () => {
    const line = readFileSync('/proc/kallsyms', 'latin1')
      .split('\n')
      .find((l) => / [tT] (schedule|do_sys_openat2)$/.test(l));
    expect(line, 'kallsyms lists schedule or do_sys_openat2').toBeDefined();
    const [hex, , name] = line!.split(' ');
    using s = new Symbolizer();
    expect(s.kernelProblem()).toBeUndefined();
    const [frame, unknown] = s.kernel([BigInt(`0x${hex}`) + 0x10n, 0x10n]);
    expect(frame).toEqual({ address: BigInt(`0x${hex}`) + 0x10n, symbol: name, offset: 0x10 });
    expect(formatFrame(frame!)).toBe(`${name}+0x10`);
    expect(unknown!.symbol).toBeUndefined();
    expect(unknown!.reason).toMatch(/no kernel function/);
  });

  it('says kptr_restrict hides addresses, on every frame, for kallsyms read without privilege', async () => {
    // kallsyms as the nobody user sees it (perf_event_paranoid >= 2 or kptr_restrict >= 1 zero it).
    const dir = tempDir('tsbpf-kallsyms-');
    const copy = `${dir}/kallsyms`;
    const reader = spawn('setpriv', [
      '--reuid=65534',
      '--regid=65534',
      '--clear-groups',
      'cat',
      '/proc/kallsyms',
    ]);
    const chunks: Buffer[] = [];
    reader.stdout.on('data', (c: Buffer) => chunks.push(c));
    await new Promise((r) => reader.once('close', r));
    const text = Buffer.concat(chunks).toString('latin1');
    const paranoid = Number(readFileSync('/proc/sys/kernel/perf_event_paranoid', 'utf8'));
    const restrict = Number(readFileSync('/proc/sys/kernel/kptr_restrict', 'utf8'));
    expect(
      paranoid >= 2 || restrict >= 1,
      'this machine hides kernel addresses from unprivileged users',
    ).toBe(true);
    expect(text.startsWith('0000000000000000 ')).toBe(true);
    writeFileSync(copy, text);
    using s = new Symbolizer({ kallsyms: copy });
    expect(s.kernelProblem()).toMatch(
      /kernel addresses are hidden: .* shows every address as 0 \(kernel\.kptr_restrict=\d\); run as root or with CAP_SYSLOG/,
    );
    const frames = s.kernel([0xffffffff81000010n, 0xffffffff81000020n]);
    expect(frames.map((f) => f.reason)).toEqual([s.kernelProblem(), s.kernelProblem()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses use after close', () => {
    const s = new Symbolizer();
    s.close();
    expect(() => s.kernel([1n])).toThrow(/the symbolizer is closed/);
  });
});
