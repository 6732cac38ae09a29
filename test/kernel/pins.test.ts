// Maps pinned by name (LIBBPF_PIN_BY_NAME) on a bpffs that every user can write to, as the kernel
// mounts it by default (1777): our own pin is reused across loads, while a pin another user planted
// at the path, or a directory there, fails the load with a PinError naming the path and its owner
// (libbpf alone would reuse the planted map, or fail with a bare EACCES).
import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CollectionSpec, HashMap, u32, u64 } from '../../src/runtime/index.js';
import { PinError } from '../../src/runtime/pins.js';
import { tempDir } from '../helpers/paths.js';
import { fixture } from './helpers.js';

const NOBODY = 65534;
let root = '';

beforeAll(() => {
  root = tempDir('tsbpf-pins-');
  execFileSync('mount', ['-t', 'bpf', 'bpf', root]);
  expect(statSync(root).mode & 0o7777).toBe(0o1777);
});

afterAll(() => {
  if (!root) return;
  execFileSync('umount', [root]);
  rmSync(root, { recursive: true, force: true });
});

/** A fresh pin folder on the private bpffs (world-writable and sticky, like the mount's root). */
function pinRoot(name: string): string {
  const dir = join(root, name);
  mkdirSync(dir);
  execFileSync('chmod', ['1777', dir]);
  return dir;
}

async function load(dir: string) {
  return CollectionSpec.fromBytes(fixture('pinned'), { name: 'pinned' }).load({ pinRoot: dir });
}

describe('pinned maps', () => {
  it('reuses our own pin: a value written through one load is read by the next', async () => {
    const dir = pinRoot('own');
    const first = await load(dir);
    new HashMap(first.map('counts'), u32, u64).set(7, 4242n);
    first.close();
    expect(statSync(join(dir, 'counts')).uid).toBe(process.geteuid!());
    const second = await load(dir);
    try {
      expect(new HashMap(second.map('counts'), u32, u64).get(7)).toBe(4242n);
    } finally {
      second.close();
    }
  });

  it("refuses another user's pin at the path, naming the path and its owner", async () => {
    const dir = pinRoot('planted');
    // The planted map: made by a load, then given to nobody (bpffs supports chown), as a user with
    // CAP_BPF alone could have pinned it there.
    (await load(dir)).close();
    const path = join(dir, 'counts');
    chownSync(path, NOBODY, NOBODY);
    const error = await load(dir).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PinError);
    const pin = error as PinError;
    expect(pin.path).toBe(path);
    expect(pin.message).toContain(`the pin ${path} belongs to nobody (uid ${NOBODY})`);
    expect(pin.message).toContain(`its folder ${dir} is writable by every user`);
    expect(pin.hint).toContain(`rm ${path}`);
    expect(pin.hint).toContain('pinRoot');
  });

  it('refuses a directory planted at the path (libbpf: a bare EACCES)', async () => {
    const dir = pinRoot('squatted');
    const path = join(dir, 'counts');
    mkdirSync(path);
    chownSync(path, NOBODY, NOBODY);
    await expect(load(dir)).rejects.toMatchObject({
      name: 'PinError',
      path,
      message: expect.stringContaining(`belongs to nobody (uid ${NOBODY})`),
    });
    // Even one of our own: a directory is not a map pin.
    chownSync(path, 0, 0);
    await expect(load(dir)).rejects.toMatchObject({
      name: 'PinError',
      message: expect.stringContaining(`${path} is a directory`),
    });
  });
});
