// Writes of `tsbpf gen` (build and the scaffolder have their own tests in test/integration/build.test.ts
// and test/unit/scaffold.test.ts): a failed gen keeps the previous outputs, a gen killed at any
// moment leaves each output either whole-old or whole-new, and no temporary file stays behind.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tsbpf } from '../fixtures/gen/helpers.js';
import { cliPath, tempDir } from '../helpers/paths.js';
import { reliabilityFixture } from './helpers.js';

const outputs = ['probe.ts', 'probe_bpfel.o'];
const snapshot = (dir: string) =>
  Object.fromEntries(outputs.map((f) => [f, readFileSync(join(dir, f)).toString('base64')]));

describe('tsbpf gen writes', () => {
  let dir: string;
  let versionA: Record<string, string>;
  let versionB: Record<string, string>;

  beforeAll(async () => {
    dir = tempDir();
    writeFileSync(join(dir, 'a.o'), reliabilityFixture('kinds'));
    writeFileSync(join(dir, 'b.o'), reliabilityFixture('soak'));
    writeFileSync(join(dir, 'garbage.o'), new Uint8Array(1000).fill(7));
    expect((await tsbpf(['gen', 'probe', '--objfile', 'b.o'], dir)).code).toBe(0);
    versionB = snapshot(dir);
    expect((await tsbpf(['gen', 'probe', '--objfile', 'a.o'], dir)).code).toBe(0);
    versionA = snapshot(dir);
    expect(versionA['probe.ts']).not.toBe(versionB['probe.ts']);
  });

  it('a failed gen keeps the previous outputs byte for byte', async () => {
    const result = await tsbpf(['gen', 'probe', '--objfile', 'garbage.o'], dir);
    expect(result.code).toBe(1);
    expect(snapshot(dir)).toEqual(versionA);
  });

  it('a gen removes the temporaries a killed gen left, and keeps those a running one writes', async () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    const killed = [`.probe.ts.tsbpf-tmp-${dead}-1a2b`, `.probe_bpfel.o.tsbpf-tmp-${dead}-3c4d`];
    const running = `.probe.ts.tsbpf-tmp-${process.pid}-5e6f`;
    for (const name of [...killed, running]) writeFileSync(join(dir, name), 'partial');
    expect((await tsbpf(['gen', 'probe', '--objfile', 'a.o'], dir)).code).toBe(0);
    expect(readdirSync(dir).filter((n) => n.includes('tmp'))).toEqual([running]);
    rmSync(join(dir, running));
  });

  it('a gen killed at any moment leaves old or new files, never a mix of bytes, and no temporaries stay after the next run', async () => {
    for (let i = 0; i < 8; i++) {
      const before = snapshot(dir);
      const proc = spawn(process.execPath, [cliPath, 'gen', 'probe', '--objfile', i % 2 ? 'a.o' : 'b.o'], {
        cwd: dir,
        stdio: 'ignore',
      });
      const exited = new Promise((r) => proc.on('exit', r));
      // Kill it early, late, or in between (module loading, parsing, writing).
      await new Promise((r) => setTimeout(r, 40 + i * 45));
      proc.kill('SIGKILL');
      await exited;
      const after = snapshot(dir);
      for (const f of outputs) {
        expect([before[f], versionA[f], versionB[f]], `${f} after a kill at ${40 + i * 45} ms`).toContain(
          after[f],
        );
      }
    }
    expect((await tsbpf(['gen', 'probe', '--objfile', 'a.o'], dir)).code).toBe(0);
    expect(snapshot(dir)).toEqual(versionA);
    const left = readdirSync(dir).filter((n) => n.includes('tmp'));
    expect(left, 'temporaries left after the next gen').toEqual([]);
  });
});
