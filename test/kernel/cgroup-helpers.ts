// For the cgroup and special-map kernel tests: a cgroup v2 of the test's own (under the machine's
// cgroup2 mount, or one mounted for the test), and child processes driven line by line that move
// themselves into it by writing their pid to cgroup.procs.
import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import koffi from 'koffi';

let mounted: string | undefined;

/** Where cgroup v2 is mounted (/sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid systems); mounts it when nowhere. */
export function cgroup2Root(): string {
  for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
    const [, dir, type] = line.split(' ');
    if (type === 'cgroup2' && dir) return dir;
  }
  mounted = '/tmp/tsbpf-cgroup2';
  mkdirSync(mounted, { recursive: true });
  execFileSync('mount', ['-t', 'cgroup2', 'none', mounted]);
  return mounted;
}

/** Unmounts the cgroup2 mount cgroup2Root made, if it made one. */
export function unmountCgroup2(): void {
  if (mounted) execFileSync('umount', [mounted]);
  mounted = undefined;
}

/** A fresh cgroup v2 directory; remove() kills what is left in it and deletes it. */
export function createCgroup(name: string): { path: string; remove(): void } {
  const path = `${cgroup2Root()}/tsbpf-${name}-${process.pid}`;
  if (!existsSync(path)) mkdirSync(path);
  return {
    path,
    remove() {
      if (!existsSync(path)) return;
      for (const pid of readFileSync(`${path}/cgroup.procs`, 'utf8').split('\n').filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {}
      }
      for (let i = 0; i < 50; i++) {
        try {
          rmdirSync(path);
          return;
        } catch {
          execFileSync('sleep', ['0.1']);
        }
      }
    },
  };
}

/** Python run by a child: each stdin line is JSON of code to exec; it answers `result` (or the error) as JSON. */
const loop = `
import json, os, socket, sys
env = {'os': os, 'socket': socket}
for line in sys.stdin:
    env['result'] = None
    try:
        exec(json.loads(line), env)
        print(json.dumps({'result': env['result']}), flush=True)
    except OSError as e:
        print(json.dumps({'error': type(e).__name__, 'errno': e.errno}), flush=True)
    except Exception as e:
        print(json.dumps({'error': type(e).__name__ + ': ' + str(e)}), flush=True)
`;

export interface Answer {
  result?: unknown;
  error?: string;
  errno?: number;
}

/** A python3 child that runs code on request (it stays alive between requests, so its fds do too). */
export class Child {
  readonly process: ChildProcessWithoutNullStreams;
  readonly #answers: Answer[] = [];
  readonly #waiting: Array<(a: Answer) => void> = [];

  constructor() {
    this.process = spawn('/usr/bin/python3', ['-u', '-c', loop], { stdio: 'pipe' });
    createInterface({ input: this.process.stdout }).on('line', (line) => {
      const answer = JSON.parse(line) as Answer;
      const waiter = this.#waiting.shift();
      if (waiter) waiter(answer);
      else this.#answers.push(answer);
    });
  }

  get pid(): number {
    return this.process.pid!;
  }

  /** Runs code (statements; set `result` to answer something) and resolves with the answer. */
  run(code: string): Promise<Answer> {
    this.process.stdin.write(`${JSON.stringify(code)}\n`);
    const ready = this.#answers.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** Runs code and returns `result`, failing on an error answer. */
  async value(code: string): Promise<unknown> {
    const answer = await this.run(code);
    if (answer.error) throw new Error(`child: ${code}: ${answer.error} (errno ${answer.errno})`);
    return answer.result;
  }

  /** Moves the child into the cgroup at path (writes its pid to cgroup.procs, from inside). */
  async enter(path: string): Promise<void> {
    await this.value(`open(${JSON.stringify(`${path}/cgroup.procs`)}, 'w').write(str(os.getpid()))`);
  }

  kill(): void {
    this.process.kill('SIGKILL');
  }
}

const libc = koffi.load('libc.so.6');
const syscall = libc.func('long syscall(long number, ...)');

/** pidfd_getfd(2): a copy of the child's fd `fd` in this process (Linux 5.6; the test runs as root). */
export function stealFd(pidfd: number, fd: number): number {
  const copy = Number(syscall(438, 'int', pidfd, 'int', fd, 'uint', 0));
  if (copy < 0) throw new Error(`pidfd_getfd: errno ${koffi.errno()}`);
  return copy;
}
