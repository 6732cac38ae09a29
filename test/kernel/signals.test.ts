// On SIGINT/SIGTERM, links are closed before the process goes on: to its default exit by the signal,
// or, when the program listens for the signal itself, to its own handler.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, tempDir } from '../helpers/paths.js';
import { fixture } from './helpers.js';

const runtime = join(repoRoot, 'dist/runtime/index.js');

function child(script: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }> {
  const dir = tempDir();
  writeFileSync(join(dir, 'events.o'), fixture('events'));
  writeFileSync(
    join(dir, 'child.mjs'),
    script.replaceAll('RUNTIME', runtime).replaceAll('OBJECT', join(dir, 'events.o')),
  );
  const proc = spawn(process.execPath, [join(dir, 'child.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  return new Promise((resolve) => {
    proc.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('ready\n') && !out.includes('sent')) {
        out += 'sent\n';
        proc.kill('SIGINT');
      }
    });
    proc.on('exit', (code, signal) => resolve({ code, signal, out }));
  });
}

const prelude = `
import { readFileSync } from 'node:fs';
import { CollectionSpec } from 'RUNTIME';
const coll = await CollectionSpec.fromBytes(readFileSync('OBJECT')).load();
const link = coll.program('on_getppid').attach();
setInterval(() => {}, 1000);
`;

describe('signals', () => {
  it('exits by the signal when the program has no handler of its own', async () => {
    const result = await child(`${prelude}\nconsole.log('ready');`);
    expect(result.signal).toBe('SIGINT');
  });

  it("closes links, then leaves the exit to the program's own handler", async () => {
    const result = await child(
      `${prelude}\nprocess.on('SIGINT', () => { console.log('link closed: ' + link.closed); process.exit(0); });\nconsole.log('ready');`,
    );
    expect(result.code).toBe(0);
    expect(result.out).toContain('link closed: true');
  });
});
