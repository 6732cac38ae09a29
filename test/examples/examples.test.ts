// Every example in examples/, built with this repo's CLI and run for real as root: each test
// makes the events happen (starts a process, opens files, types into bash, connects, sends
// packets through a veth pair in a network namespace made for the test) and expects the example
// to print them, then stops it with Ctrl-C (SIGINT) and expects a clean exit.
import { execFileSync, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVethPair, type VethPair, vethNames } from '../helpers/netns.js';
import { repoRoot, tempDir } from '../helpers/paths.js';
import { buildExamples, escapeRegExp, exampleNames, examplesDir, runExample } from './run.js';

const { hostIf, hostIp, nsIp } = vethNames('tsbpfex', 150);
let veth: VethPair | undefined;
const inNs = (...args: string[]) => veth!.inNs(...args);

/** A C program the profiling examples find by name (test/fixtures/profile/workload.c). */
const workload = join(tempDir('tsbpf-workload-'), 'workload');

beforeAll(async () => {
  execFileSync('gcc', [
    '-O1',
    '-fno-omit-frame-pointer',
    '-o',
    workload,
    join(repoRoot, 'test/fixtures/profile/workload.c'),
  ]);
  await buildExamples();
  veth = createVethPair('tsbpfex', 150);
}, 180_000);
afterAll(() => veth?.destroy());

/** Sends n UDP datagrams of `size` bytes of payload from this process to host:port. */
async function sendUdp(host: string, port: number, n: number, size = 100, bindPort = 0): Promise<number> {
  const socket = createSocket('udp4');
  socket.bind(bindPort);
  await once(socket, 'listening');
  for (let i = 0; i < n; i++) {
    await new Promise<void>((resolve, reject) =>
      socket.send(Buffer.alloc(size, 0x61), port, host, (e) => (e ? reject(e) : resolve())),
    );
  }
  const { port: from } = socket.address();
  socket.close();
  return from;
}

/** A TCP listener on 127.0.0.1 that accepts and closes; its port. */
async function listener(): Promise<{ server: Server; port: number }> {
  const server = createServer((s) => s.end());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no listener address');
  return { server, port: address.port };
}

/** The last number printed after `label` in the output (counters print every interval). */
function lastCount(output: string, pattern: RegExp): bigint | undefined {
  const matches = [...output.matchAll(new RegExp(pattern.source, 'gm'))];
  const last = matches.at(-1)?.[1];
  return last === undefined ? undefined : BigInt(last);
}

/** The first (largest) stack of profile's or offcputime's text view: `value unit  comm [pid]`, then a frame a line. */
function firstStack(output: string, unit: string): { value: number; process: string; frames: string[] } {
  const lines = output.split('\n');
  const header = new RegExp(`^\\s*(\\d+) ${unit}  (.+)$`);
  const start = lines.findIndex((line) => header.test(line));
  if (start < 0) throw new Error(`no stack in the output:\n${output}`);
  const [, value, process] = header.exec(lines[start]!)!;
  const frames: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (header.test(line) || !/^\s{14}\S/.test(line)) break;
    frames.push(line.trim());
  }
  return { value: Number(value), process: process!, frames };
}

const clean = (result: { code: number | null; output: string; satisfied: boolean }) => {
  expect(result.satisfied, result.output).toBe(true);
  expect(result.code, result.output).toBe(0);
  expect(result.output).not.toMatch(/^error:/m);
};

describe('examples', () => {
  it('runs every example folder, and the README lists each one', () => {
    const folders = readdirSync(examplesDir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && e.name !== 'dist' && e.name !== 'node_modules')
      .map((e) => e.name)
      .sort();
    expect(folders).toEqual([...exampleNames].sort());
    const readme = readFileSync(join(examplesDir, 'README.md'), 'utf8');
    for (const name of exampleNames) expect(readme).toContain(`| [${name}](${name}) |`);
  });

  it('execsnoop prints the execve() of a process the test starts', async () => {
    let pid = 0;
    const result = await runExample('execsnoop', [], {
      trigger: async () => {
        const child = spawn('/bin/true', ['tsbpf-example'], { stdio: 'ignore' });
        pid = child.pid ?? 0;
        await once(child, 'exit');
      },
      until: (out) =>
        pid !== 0 &&
        new RegExp(`^\\s*${pid}\\s+${process.pid}\\s+0\\s.*/bin/true  /bin/true tsbpf-example$`, 'm').test(
          out,
        ),
    });
    clean(result);
  });

  it('execsnoop prints every argument of the argv the C packs NUL-separated into one char[]', async () => {
    // "fieldAs": { "exec_event.args": "strings" } in its config: decoded as a plain string, args
    // would show argv[0] alone.
    let pid = 0;
    const result = await runExample('execsnoop', [], {
      trigger: async () => {
        const child = spawn('/bin/echo', ['a', 'bb', 'ccc'], { stdio: 'ignore' });
        pid = child.pid ?? 0;
        await once(child, 'exit');
      },
      until: (out) =>
        pid !== 0 && new RegExp(`^\\s*${pid}\\s.*/bin/echo  /bin/echo a bb ccc$`, 'm').test(out),
    });
    clean(result);
  });

  it('execsnoop escapes the control characters of a hostile process name and file name', async () => {
    // Any user can do this: name their process (writing /proc/self/comm, as prctl(PR_SET_NAME)
    // does) and exec a file whose name holds escape sequences. Printed raw, they would recolour
    // and retitle the terminal of the root user watching.
    const hostile = '\x1b[31mevil\x1b]0;x\x07';
    const shown = '\\x1b[31mevil\\x1b]0;x\\x07'; // what printable() makes of it
    const dir = tempDir('tsbpf-execsnoop-');
    symlinkSync('/bin/true', join(dir, hostile));
    let pid = 0;
    const result = await runExample('execsnoop', [], {
      trigger: async () => {
        const script = 'printf %s "$1" > /proc/self/comm; exec "$0"';
        const child = spawn('sh', ['-c', script, join(dir, hostile), hostile], { stdio: 'ignore' });
        pid = child.pid ?? 0;
        await once(child, 'exit');
      },
      // The sh's execve of the symlink: its name (set above) and the file's, both escaped.
      until: (out) =>
        pid !== 0 &&
        new RegExp(
          `^\\s*${pid}\\s.*\\s${escapeRegExp(shown)}\\s+${escapeRegExp(join(dir, shown))}  ${escapeRegExp(join(dir, shown))}$`,
          'm',
        ).test(out),
    });
    clean(result);
    expect(result.output).not.toContain('\x1b');
    expect(result.output).not.toContain('\x07');
  });

  it('opensnoop prints the files cat opens, with the fd or the error', async () => {
    const dir = tempDir('tsbpf-opensnoop-');
    const present = join(dir, 'present.txt');
    const missing = join(dir, 'missing.txt');
    writeFileSync(present, 'hello\n');
    const result = await runExample('opensnoop', ['cat'], {
      trigger: async () => {
        const child = spawn('cat', [missing, present], { stdio: 'ignore' });
        await once(child, 'exit');
      },
      until: (out) =>
        new RegExp(`\\scat\\s+ENOENT\\s+${escapeRegExp(missing)}$`, 'm').test(out) &&
        new RegExp(`\\scat\\s+\\d+\\s+${escapeRegExp(present)}$`, 'm').test(out),
    });
    clean(result);
    // The comm filter given on the command line: only cat's opens are printed.
    const events = result.output.split('\n').filter((line) => /^\s*\d+\s/.test(line));
    expect(events.length).toBeGreaterThan(0);
    for (const line of events) expect(line).toMatch(/^\s*\d+ cat\s/);
  });

  it('bashreadline prints a line typed into an interactive bash', async () => {
    const line = `echo tsbpf-example-${process.pid}`;
    let shell: ReturnType<typeof spawn> | undefined;
    const result = await runExample('bashreadline', [], {
      trigger: () => {
        // script(1) gives bash a pseudo-terminal, so it is interactive and reads with readline().
        shell = spawn('script', ['-qfc', 'bash --norc --noprofile -i', '/dev/null'], {
          stdio: ['pipe', 'ignore', 'ignore'],
        });
        shell.stdin?.write(`${line}\n`);
      },
      until: (out) => new RegExp(`\\s\\d+\\s+0 ${escapeRegExp(line)}$`, 'm').test(out),
    });
    shell?.stdin?.end('exit\n');
    clean(result);
  });

  it('syscount counts the system calls of a dd the test runs', async () => {
    let pid = 0;
    const result = await runExample('syscount', ['1', '50'], {
      trigger: async () => {
        // bs=1 count=50000: one read and one write per byte, so at least 100000 system calls.
        const child = spawn('dd', ['if=/dev/zero', 'of=/dev/null', 'bs=1', 'count=50000'], {
          stdio: 'ignore',
        });
        pid = child.pid ?? 0;
        await once(child, 'exit');
      },
      until: (out) => (lastCount(out, new RegExp(`^\\s*${pid}\\s+.+?\\s+(\\d+)$`)) ?? 0n) >= 100_000n,
    });
    clean(result);
  });

  it('tcpconnect prints a connect() to a loopback listener', async () => {
    const { server, port } = await listener();
    try {
      const result = await runExample('tcpconnect', [], {
        trigger: async () => {
          const socket = createConnection(port, '127.0.0.1');
          await once(socket, 'connect');
          socket.destroy();
        },
        until: (out) => new RegExp(`^\\s*${process.pid}\\s+0\\s.*\\s127\\.0\\.0\\.1:${port}$`, 'm').test(out),
      });
      clean(result);
    } finally {
      server.close();
    }
  });

  it('xdpcount counts UDP packets arriving on a veth from a namespace', async () => {
    const result = await runExample('xdpcount', [hostIf, '1'], {
      trigger: () => {
        inNs('bash', '-c', `for i in $(seq 5); do echo hello > /dev/udp/${hostIp}/9; done`);
      },
      until: (out) => (lastCount(out, /^\s+udp\s+(\d+)$/) ?? 0n) >= 5n,
    });
    clean(result);
  });

  it('tcbytes counts the bytes of UDP packets sent out of a veth', async () => {
    const result = await runExample('tcbytes', [hostIf, '1'], {
      // 5 datagrams of 100 bytes: 14 Ethernet + 20 IPv4 + 8 UDP + 100 = 142 bytes each.
      trigger: async () => void (await sendUdp(nsIp, 9, 5, 100)),
      until: (out) => (lastCount(out, /^ipv4\/udp\s+(\d+)\s+\d+$/) ?? 0n) >= 5n,
    });
    clean(result);
    const bytes = lastCount(result.output, /^ipv4\/udp\s+\d+\s+(\d+)$/) ?? 0n;
    const packets = lastCount(result.output, /^ipv4\/udp\s+(\d+)\s+\d+$/) ?? 0n;
    expect(bytes).toBe(packets * 142n);
  });

  it('sockwatch prints the UDP frames on lo its socket filter passes, and not the TCP ones', async () => {
    const { server, port: tcpPort } = await listener();
    let udpLine: RegExp | undefined;
    try {
      const result = await runExample('sockwatch', ['lo', 'udp'], {
        trigger: async () => {
          const socket = createConnection(tcpPort, '127.0.0.1');
          await once(socket, 'connect');
          socket.destroy();
          const from = await sendUdp('127.0.0.1', 9, 1, 20);
          udpLine = new RegExp(`^127\\.0\\.0\\.1:${from} -> 127\\.0\\.0\\.1:9 62 bytes$`, 'm');
        },
        // The counts line comes every 3 s: wait for one, to see that the filter counted TCP too.
        until: (out) =>
          udpLine?.test(out) === true && (lastCount(out, /^frames seen.* tcp (\d+),/) ?? 0n) > 0n,
      });
      clean(result);
      expect(result.output).not.toContain(`:${tcpPort} `);
    } finally {
      server.close();
    }
  });

  it('syslat prints a latency histogram of one process', async () => {
    // The child waits for a line on stdin, then becomes dd: its pid is known before it starts work.
    const child = spawn('sh', ['-c', 'read go; exec dd if=/dev/zero of=/dev/null bs=1 count=5000'], {
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    const result = await runExample('syslat', ['3', String(child.pid)], {
      trigger: () => void child.stdin.write('go\n'),
      until: (out) => /^total: \d+/m.test(out),
      exitsByItself: true,
    });
    // If the example never got ready, end the child's wait (EOF) so it finishes on its own.
    child.stdin.end();
    if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
    clean(result);
    expect(result.output).toMatch(/^\s+usecs\s+: count\s+distribution$/m);
    expect(result.output).toMatch(/^\s+\d+ -> \d+\s+: \d+\s+\|\*+\s*\|$/m);
    // dd does one read and one write per byte; the pid filter keeps out the rest of the machine.
    const total = lastCount(result.output, /^total: (\d+)/) ?? 0n;
    expect(total).toBeGreaterThanOrEqual(10_000n);
    expect(total).toBeLessThan(20_000n);
  });

  it('profile names the C function a busy process spends its time in, as text and as folded stacks', async () => {
    // The workload outlives both runs however slowly a loaded machine starts them; it is killed below.
    const child = spawn(workload, ['spin', '120'], { stdio: 'ignore' });
    try {
      const pid = String(child.pid);
      const text = await runExample('profile', ['2', '--pid', pid, '--frequency', '99', '--top', '3'], {
        until: (out) => /frames named/.test(out),
        exitsByItself: true,
      });
      clean(text);
      const top = firstStack(text.output, 'samples');
      expect(top.process).toBe(`workload [${pid}]`);
      expect(top.frames[0]).toMatch(/^tsbpf_spin\+0x[0-9a-f]+ \[workload\]$/);
      const folded = await runExample('profile', ['2', '--pid', pid, '--folded'], {
        until: (out) => /frames named/.test(out),
        exitsByItself: true,
      });
      clean(folded);
      const lines = folded.output.split('\n').filter((line) => /^workload;/.test(line));
      expect(lines.length, folded.output).toBeGreaterThan(0);
      for (const line of lines) expect(line).toMatch(/^workload(;[^;\n]+)+ \d+$/);
      // The process never sleeps and spins in tsbpf_spin: most of its samples land there (the rest
      // are clock reads and timer interrupts), however much CPU a busy test machine leaves it.
      const samples = (filter: (line: string) => boolean) =>
        lines.filter(filter).reduce((n, line) => n + Number(line.split(' ').at(-1)), 0);
      const total = samples(() => true);
      expect(total).toBeGreaterThan(10);
      expect(samples((line) => line.includes(';tsbpf_spin')) / total).toBeGreaterThan(0.7);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('offcputime names the C function a sleeping process waits in, with the kernel path into schedule()', async () => {
    const child = spawn(workload, ['nap', '120'], { stdio: 'ignore' });
    try {
      const pid = String(child.pid);
      const result = await runExample('offcputime', ['2', '--pid', pid, '--top', '3'], {
        until: (out) => /frames named/.test(out),
        exitsByItself: true,
      });
      clean(result);
      const top = firstStack(result.output, 'us');
      // Sleeping 10 ms at a time for 2 s: well over a second off the CPU, all from one place.
      expect(top.process).toBe(`workload [${pid}]`);
      expect(top.value).toBeGreaterThan(1_000_000);
      expect(top.frames).toContainEqual(expect.stringMatching(/^schedule\+0x[0-9a-f]+$/));
      expect(top.frames).toContainEqual(expect.stringMatching(/^tsbpf_nap\+0x[0-9a-f]+ \[workload\]$/));
    } finally {
      child.kill('SIGKILL');
    }
  });
});
