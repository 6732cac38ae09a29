// Whether this bpftool can link big-endian (bpfeb) objects with `bpftool gen object`. libbpf's
// linker long refused the other byte order ("unsupported byte order"): Debian 12's bpftool 7.1
// (libbpf 1.1) and Debian 13's 7.5 (libbpf 1.5, from Linux 6.12) both do; Debian unstable's 7.8
// (libbpf 1.8) links it. Versions say little about backports, so the answer comes from trying:
// clang compiles a one-symbol bpfeb object and bpftool links it.
// The answer is kept per bpftool binary (path, size, mtime, inode) in the per-user cache, so a
// build pays for the probe once per bpftool.

import { statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { writeFileAtomic } from '../atomic.js';
import { debug } from '../output.js';
import { readTrustedCacheFile, trustedCacheDir } from './cache-trust.js';
import type { Tool } from './discover.js';

/** What gives a bpftool that links both byte orders, for notes and doctor's fix. */
export const bigEndianLinkFix =
  "use a newer bpftool (Debian 13's 7.5 cannot link them either; 7.8 with libbpf 1.8, as in Debian unstable, can)";

/** The bpftool's identity: a replaced or upgraded binary gets a fresh probe. */
function identity(bpftool: Tool): string {
  try {
    const s = statSync(bpftool.path);
    return `${bpftool.path}:${bpftool.version}:${s.size}:${s.mtimeMs}:${s.ino}`;
  } catch {
    return `${bpftool.path}:${bpftool.version}:missing`;
  }
}

const cacheFile = (create: boolean) => {
  const dir = trustedCacheDir(undefined, { create });
  return dir ? join(dir, 'bpftool-link.json') : undefined;
};

function readCache(): Record<string, boolean> {
  const file = cacheFile(false);
  const bytes = file ? readTrustedCacheFile(file) : undefined;
  if (!bytes) return {};
  try {
    const data = JSON.parse(bytes.toString('utf8')) as unknown;
    return data && typeof data === 'object' ? (data as Record<string, boolean>) : {};
  } catch {
    return {};
  }
}

function writeCache(key: string, value: boolean): void {
  const file = cacheFile(true);
  if (!file) return;
  try {
    writeFileAtomic(file, `${JSON.stringify({ ...readCache(), [key]: value })}\n`, 0o600);
  } catch (error) {
    debug(`could not save ${file}: ${(error as Error).message}`);
  }
}

/** Links a clang-made bpfeb object with bpftool; true when bpftool accepts it. */
async function probe(clang: Tool, bpftool: Tool): Promise<boolean> {
  const dir = await mkdtemp(join(tmpdir(), 'tsbpf-link-probe-'));
  try {
    const source = join(dir, 'probe.c');
    const object = join(dir, 'probe.o');
    await writeFile(source, 'int tsbpf_link_probe __attribute__((section(".data"))) = 1;\n');
    const compiled = await execa(clang.path, ['-g', '-O2', '-target', 'bpfeb', '-c', source, '-o', object], {
      reject: false,
      stdin: 'ignore',
    });
    if (compiled.failed) {
      debug(`bpfeb link probe: clang failed: ${compiled.stderr}`);
      return false;
    }
    const linked = await execa(bpftool.path, ['gen', 'object', join(dir, 'linked.o'), object], {
      reject: false,
      stdin: 'ignore',
    });
    debug(`bpfeb link probe: bpftool gen object ${linked.failed ? `failed: ${linked.stderr}` : 'ok'}`);
    return !linked.failed;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const memory = new Map<string, Promise<boolean>>();

/** Whether `bpftool gen object` can link bpfeb objects (probed once per bpftool, then cached). */
export function bpftoolLinksBigEndian(clang: Tool, bpftool: Tool): Promise<boolean> {
  const key = identity(bpftool);
  let answer = memory.get(key);
  if (!answer) {
    const cached = readCache()[key];
    answer =
      typeof cached === 'boolean'
        ? Promise.resolve(cached)
        : probe(clang, bpftool).then((value) => {
            writeCache(key, value);
            return value;
          });
    memory.set(key, answer);
  }
  return answer;
}

/** The libbpf a bpftool was built with ('1.1'), from `bpftool version`'s "using libbpf v1.1". */
export async function bpftoolLibbpfVersion(bpftool: Tool): Promise<string | undefined> {
  const result = await execa(bpftool.path, ['version'], { reject: false, stdin: 'ignore', all: true });
  return /libbpf v(\d+\.\d+(?:\.\d+)?)/.exec(String(result.all))?.[1];
}
