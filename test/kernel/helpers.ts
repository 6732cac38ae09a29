// Shared by the kernel tests: fixtures compiled once, a way to make the syscalls the fixtures
// trace, and tracefs mounted for tracepoint attaches.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import koffi from 'koffi';
import { compileFixture } from '../helpers/bpf.js';
import { repoRoot } from '../helpers/paths.js';

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
