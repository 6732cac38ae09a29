// Links and signals: a signal that would end the process (no listener of the program's own) closes
// every link first, then the process dies by it; a signal the program listens for is the program's
// business (a daemon that reloads on SIGHUP keeps tracing), whichever of the program and tsbpf
// registered its listener first. Each case is a child process with a real tracepoint link.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, tempDir } from '../helpers/paths.js';
import { fixture, kernelLinksOf } from './helpers.js';

const runtime = join(repoRoot, 'dist/runtime/index.js');

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
}

/**
 * Runs `script` in a child; each time its output first contains a step's `after` text, `atSend` runs
 * (it gets the child's pid) and the step's signal is sent.
 */
function child(
  script: string,
  steps: Array<{ after: string; send: NodeJS.Signals; atSend?: (pid: number) => void }>,
): Promise<Outcome> {
  const dir = tempDir();
  writeFileSync(join(dir, 'events.o'), fixture('events'));
  writeFileSync(
    join(dir, 'child.mjs'),
    script.replaceAll('RUNTIME', runtime).replaceAll('OBJECT', join(dir, 'events.o')),
  );
  const proc = spawn(process.execPath, [join(dir, 'child.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  let next = 0;
  return new Promise((resolve) => {
    proc.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      while (next < steps.length && out.includes(steps[next]!.after)) {
        const step = steps[next++]!;
        step.atSend?.(proc.pid!);
        proc.kill(step.send);
      }
    });
    proc.on('exit', (code, signal) => resolve({ code, signal, out }));
  });
}

// The child: the events fixture counts its own getppid() calls in .bss (process.ppid calls
// getppid(2) each time); link.close is wrapped so the output shows when tsbpf closes the link.
const prelude = `
import { readFileSync, writeSync } from 'node:fs';
import { CollectionSpec } from 'RUNTIME';
HANDLER_BEFORE
const spec = CollectionSpec.fromBytes(readFileSync('OBJECT'));
new DataView(spec.dataSection('.rodata').buffer).setUint32(0, process.pid, true);
const coll = await spec.load();
const link = coll.program('on_getppid').attach();
const close = link.close.bind(link);
link.close = () => { writeSync(1, 'closing link\\n'); close(); };
const bss = coll.dataSection('.bss');
const calls = () => new DataView(bss.buffer, bss.byteOffset, 8).getBigUint64(0, true);
const events = () => { const before = calls(); process.ppid; process.ppid; return calls() - before; };
HANDLER_AFTER
setInterval(() => {}, 1000);
console.log('ready: events=' + events());
`;

function script(handler: string, where: 'before' | 'after'): string {
  return prelude
    .replace('HANDLER_BEFORE', where === 'before' ? handler : '')
    .replace('HANDLER_AFTER', where === 'after' ? handler : '');
}

describe('signals', () => {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    it(`${signal} without a handler of the program's: closes the links, then the process dies by it`, async () => {
      const result = await child(script('', 'after'), [{ after: 'ready', send: signal }]);
      expect(result.out).toContain('ready: events=2');
      expect(result.out).toContain('closing link');
      expect(result.signal).toBe(signal);
    });
  }

  for (const where of ['before', 'after'] as const) {
    it(`a SIGHUP handler registered ${where} tsbpf's keeps the link attached and tracing; SIGTERM then closes it`, async () => {
      let attached: number[] = [];
      const handler = `process.on('SIGHUP', () => console.log('hup: closed=' + link.closed + ' events=' + events()));`;
      const result = await child(script(handler, where), [
        { after: 'ready', send: 'SIGHUP' },
        {
          after: 'hup:',
          send: 'SIGTERM',
          atSend: (pid) => {
            attached = kernelLinksOf(pid);
          },
        },
      ]);
      expect(result.out).toContain('hup: closed=false events=2');
      // Checked from the kernel's side too: the child still holds its link after SIGHUP.
      expect(attached).toHaveLength(1);
      // SIGTERM has no handler of the program's: the link is closed before the process dies by it.
      expect(result.out.indexOf('closing link')).toBeGreaterThan(result.out.indexOf('hup:'));
      expect(result.signal).toBe('SIGTERM');
    });
  }

  it("a handler that calls process.exit() owns the exit; the 'exit' listener closes the links", async () => {
    const handler = `
process.on('SIGINT', () => { console.log('int: closed=' + link.closed); process.exit(0); });
process.on('exit', () => writeSync(1, 'exit: closed=' + link.closed + '\\n'));`;
    const result = await child(script(handler, 'after'), [{ after: 'ready', send: 'SIGINT' }]);
    expect(result.code).toBe(0);
    expect(result.out).toContain('int: closed=false');
    expect(result.out).toContain('exit: closed=true');
  });
});
