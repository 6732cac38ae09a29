// Shared by the kernel tests: fixtures compiled once, a way to make the syscalls the fixtures
// trace, and tracefs mounted for tracepoint attaches.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import koffi from 'koffi';
import { compileFixture } from '../helpers/bpf.js';
import { repoRoot, tempDir } from '../helpers/paths.js';

export function fixture(name: string): Uint8Array {
  return compileFixture(join(repoRoot, 'test/fixtures/runtime', `${name}.bpf.c`));
}

const libc = koffi.load('libc.so.6');
/** getppid(2), uncached: the events fixture traces it. */
export const getppid = libc.func('int getppid(void)') as () => number;

/** Host-order u32 write into a data section. */
export function setU32(bytes: Uint8Array, offset: number, value: number): void {
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setUint32(offset, value, true);
}

export function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

/**
 * Ids of the BPF links process `pid` holds, from the kernel's side: its fds that are bpf_link anon
 * inodes (fdinfo's link_id), kept when `bpftool link` lists them too (bpftool 7.1 here is built
 * without the pid iterator, so it cannot name a link's holders itself).
 */
export function kernelLinksOf(pid: number): number[] {
  const ids: number[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target = '';
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed meanwhile
    }
    if (target !== 'anon_inode:bpf_link') continue;
    const id = /^link_id:\s*(\d+)$/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'));
    if (id) ids.push(Number(id[1]));
  }
  const listed = kernelLinkIds();
  return ids.filter((id) => listed.includes(id));
}

/** Ids of every BPF link in the kernel (`bpftool link show`). */
export function kernelLinkIds(): number[] {
  const listed = JSON.parse(execFileSync('bpftool', ['link', 'show', '-j'], { encoding: 'utf8' })) as Array<{
    id: number;
  }>;
  return listed.map((l) => l.id);
}

/** What `fn` threw (with its hint); fails the test when it throws nothing. */
export function errorOf(fn: () => unknown): Error & { hint?: string } {
  try {
    fn();
  } catch (error) {
    return error as Error & { hint?: string };
  }
  throw new Error('expected an error, and nothing was thrown');
}

/** What a load rejected with (with its hint); fails the test when it loads. */
export async function loadErrorOf(spec: {
  load(): Promise<{ close(): void }>;
}): Promise<Error & { hint?: string }> {
  let loaded: { close(): void };
  try {
    loaded = await spec.load();
  } catch (error) {
    return error as Error & { hint?: string };
  }
  loaded.close();
  throw new Error('expected the load to fail, and it loaded');
}

/** Writes and unlinks `n` files in `dir`: n calls of do_unlinkat from this thread. */
export function unlinkFiles(dir: string, n: number): void {
  for (let i = 0; i < n; i++) {
    writeFileSync(join(dir, `f${i}`), 'x');
    unlinkSync(join(dir, `f${i}`));
  }
}

/**
 * A shared library of `int name(int x)` functions with the given bodies, built with cc and loaded
 * into this process: uprobe targets with symbols of their own. Returns its path and the functions.
 */
export function intFunctions(
  name: string,
  bodies: Record<string, string>,
): { path: string; fns: Record<string, (x: number) => number> } {
  const dir = tempDir(`tsbpf-${name}-`);
  const source = join(dir, `${name}.c`);
  writeFileSync(
    source,
    Object.entries(bodies)
      .map(([fn, body]) => `int ${fn}(int x) { ${body} }\n`)
      .join(''),
  );
  const path = join(dir, `lib${name}.so`);
  execFileSync('cc', ['-shared', '-fPIC', '-O0', '-o', path, source]);
  const lib = koffi.load(path);
  const fns = Object.fromEntries(
    Object.keys(bodies).map((fn) => [fn, lib.func(`int ${fn}(int x)`) as (x: number) => number]),
  );
  return { path, fns };
}
