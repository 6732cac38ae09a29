// `tsbpf trace`: bpf_printk() lines from trace_pipe, filtered, and a clean stop on Ctrl-C (SIGINT).
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CollectionSpec } from '../../src/runtime/index.js';
import { parseTraceLine } from '../../src/runtime/trace.js';
import { cliPath } from '../helpers/paths.js';
import { fixture, getppid, setU32 } from './helpers.js';

describe('trace_pipe lines', () => {
  it('parses the default trace format', () => {
    const line = parseTraceLine(
      '           <...>-4711    [003] ...21  1234.567890: bpf_trace_printk: hello world',
    );
    expect(line).toMatchObject({
      task: '<...>',
      pid: 4711,
      cpu: 3,
      timestamp: 1234.56789,
      event: 'bpf_trace_printk',
      message: 'hello world',
    });
    expect(parseTraceLine('node-1-2 [000] d.h1. 5.000001: bpf_trace_printk: x')).toMatchObject({
      task: 'node-1',
      pid: 2,
    });
    expect(parseTraceLine('garbage')).toBeUndefined();
  });
});

describe('tsbpf trace', () => {
  it('streams matching bpf_printk output and stops cleanly on SIGINT', async () => {
    const spec = CollectionSpec.fromBytes(fixture('printk'));
    setU32(spec.dataSection('.rodata')!, 0, process.pid);
    await using coll = await spec.load();
    coll.program('say_hello').attach();
    const child = spawn(
      process.execPath,
      [cliPath, 'trace', '--json', '--match', `tsbpf-trace ${process.pid}`],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    const firstLine = new Promise<string>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0]!);
      });
    });
    const poke = setInterval(() => getppid(), 50);
    const line = JSON.parse(await firstLine) as { message: string; pid: number };
    clearInterval(poke);
    expect(line.message).toBe(`tsbpf-trace ${process.pid}`);
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await exit).toBe(0);
  });
});
