// BPF tokens (libbpf 1.4+, Linux 6.9+): a child in its own user namespace (unshare --user
// --map-root-user --mount: root there, no capability in the initial namespace) loads a socket
// filter with a map and attaches it to a UDP socket, and the filter counts real packets. The token
// comes from a bpffs whose context the child opens (fsopen) and this test, as the host, configures
// with delegate_* options and creates (fsconfig), as a container runtime would; the child mounts it
// (fsmount) and names it in bpfTokenPath or LIBBPF_BPF_TOKEN_PATH. Without a token the same load is
// a PermissionError. With libbpf 1.1 (the default suite) bpfTokenPath is a NotSupportedError naming
// libbpf 1.4 and the variable is ignored; the libbpf 1.5/1.7 runs (TSBPF_LIBBPF) load with the token.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import koffi from 'koffi';
import { describe, expect, it } from 'vitest';
import { libbpf } from '../../src/runtime/ffi/libbpf.js';
import { CollectionSpec } from '../../src/runtime/index.js';
import { repoRoot, tempDir } from '../helpers/paths.js';
import { fixture } from './helpers.js';

const [kmajor = 0, kminor = 0] = release().split('.').map(Number);
const kernelTokens = kmajor > 6 || (kmajor === 6 && kminor >= 9);
const libbpfTokens = libbpf().bpf_token_create !== undefined;
const unprivilegedBpf = readFileSync('/proc/sys/kernel/unprivileged_bpf_disabled', 'utf8').trim();

// x86_64 syscall numbers (arch/x86/entry/syscalls/syscall_64.tbl); fsconfig commands (linux/mount.h).
const SYS = { fsopen: 430, fsconfig: 431, fsmount: 432, pidfd_open: 434, pidfd_getfd: 438 };
const FSCONFIG_SET_STRING = 1;
const FSCONFIG_CMD_CREATE = 6;
const libc = koffi.load('libc.so.6');
const syscall = libc.func('long syscall(long nr, ...)') as (...args: unknown[]) => number | bigint;

type Mode = 'option' | 'env' | 'none';
interface Outcome {
  packets?: number;
  error?: { name: string; message: string; hint?: string };
}

// The child: opens a bpffs context in its user namespace (unless 'none'), waits for the host to
// configure it, mounts it, loads and attaches through tsbpf, and prints what happened as JSON.
const childScript = `
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { createSocket } from 'node:dgram';
import koffi from 'KOFFI';
import { ArrayMap, CollectionSpec, u64 } from 'RUNTIME';
process.noDeprecation = true; // socket._handle.fd
const mode = process.argv[2];
const syscall = koffi.load('libc.so.6').func('long syscall(long nr, ...)');
const options = {};
if (mode !== 'none') {
  const fsfd = Number(syscall(${SYS.fsopen}, 'str', 'bpf', 'uint', 0));
  console.log('fsfd ' + fsfd + ' pid ' + process.pid);
  for await (const line of createInterface({ input: process.stdin })) if (line === 'go') break;
  const mnt = Number(syscall(${SYS.fsmount}, 'int', fsfd, 'uint', 0, 'uint', 0));
  if (mnt < 0) throw new Error('fsmount: errno ' + koffi.errno());
  const path = '/proc/self/fd/' + mnt;
  if (mode === 'env') process.env.LIBBPF_BPF_TOKEN_PATH = path;
  else options.bpfTokenPath = path;
}
try {
  const coll = await CollectionSpec.fromBytes(readFileSync('OBJECT')).load(options);
  const sock = createSocket('udp4');
  await new Promise((r) => sock.bind(0, '127.0.0.1', r));
  coll.program('count_packets').attachSocket(sock._handle.fd);
  const sender = createSocket('udp4');
  for (let i = 0; i < 3; i++) await new Promise((r) => sender.send('hi', sock.address().port, '127.0.0.1', r));
  await new Promise((r) => setTimeout(r, 50));
  const packets = Number(new ArrayMap(coll.map('packets'), u64).get(0));
  console.log('result ' + JSON.stringify({ packets }));
} catch (e) {
  console.log('result ' + JSON.stringify({ error: { name: e.name, message: e.message, hint: e.hint } }));
}
process.exit(0);
`;

/** The host's part: delegate everything on the child's bpffs context and create the superblock. */
function delegate(childPid: number, childFd: number): void {
  const pidfd = Number(syscall(SYS.pidfd_open, 'int', childPid, 'uint', 0));
  expect(pidfd, `pidfd_open: errno ${koffi.errno()}`).toBeGreaterThanOrEqual(0);
  const fd = Number(syscall(SYS.pidfd_getfd, 'int', pidfd, 'int', childFd, 'uint', 0));
  expect(fd, `pidfd_getfd: errno ${koffi.errno()}`).toBeGreaterThanOrEqual(0);
  for (const key of ['delegate_cmds', 'delegate_maps', 'delegate_progs', 'delegate_attachs']) {
    const rc = Number(
      syscall(SYS.fsconfig, 'int', fd, 'uint', FSCONFIG_SET_STRING, 'str', key, 'str', 'any', 'int', 0),
    );
    expect(rc, `fsconfig ${key}: errno ${koffi.errno()}`).toBe(0);
  }
  const rc = Number(
    syscall(SYS.fsconfig, 'int', fd, 'uint', FSCONFIG_CMD_CREATE, 'void *', null, 'void *', null, 'int', 0),
  );
  expect(rc, `fsconfig create: errno ${koffi.errno()}`).toBe(0);
  libc.func('int close(int)')(fd);
  libc.func('int close(int)')(pidfd);
}

async function inUserNamespace(mode: Mode): Promise<Outcome> {
  const dir = tempDir();
  writeFileSync(join(dir, 'token.o'), fixture('token'));
  writeFileSync(
    join(dir, 'child.mjs'),
    childScript
      .replace('KOFFI', join(repoRoot, 'node_modules/koffi/index.js'))
      .replace('RUNTIME', join(repoRoot, 'dist/runtime/index.js'))
      .replace('OBJECT', join(dir, 'token.o')),
  );
  const proc = spawn(
    'unshare',
    ['--user', '--map-root-user', '--mount', process.execPath, join(dir, 'child.mjs'), mode],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  let delegated = false;
  proc.stderr.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
  proc.stdout.on('data', (c: Buffer) => {
    out += c.toString();
    const m = /fsfd (\d+) pid (\d+)/.exec(out);
    if (m && !delegated) {
      delegated = true;
      delegate(Number(m[2]), Number(m[1]));
      proc.stdin.write('go\n');
    }
  });
  await exited;
  const result = /^result (.*)$/m.exec(out);
  expect(result, `child output: ${out}\n${err}`).not.toBeNull();
  return JSON.parse(result![1]!) as Outcome;
}

describe('BPF tokens from a user namespace', () => {
  it(`bpfTokenPath that is not there: ${libbpfTokens ? 'UsageError naming it' : 'NotSupportedError (libbpf 1.4)'}`, async () => {
    const load = CollectionSpec.fromBytes(fixture('token')).load({ bpfTokenPath: '/nonexistent/bpffs' });
    if (libbpfTokens) {
      await expect(load).rejects.toMatchObject({
        name: 'UsageError',
        message: 'load option bpfTokenPath: /nonexistent/bpffs does not exist',
      });
    } else {
      await expect(load).rejects.toMatchObject({ name: 'NotSupportedError' });
    }
  });

  it('without a token, root of a user namespace cannot load: PermissionError', async (ctx) => {
    if (unprivilegedBpf === '0') {
      ctx.skip(
        'kernel.unprivileged_bpf_disabled=0 lets any user load socket filters: there is nothing for a token to grant',
      );
    }
    const { error } = await inUserNamespace('none');
    expect(error?.name).toBe('PermissionError');
    expect(error?.message).toContain('EPERM');
  });

  it(
    libbpfTokens
      ? 'bpfTokenPath: a delegated bpffs lets it load and attach; the filter counts real packets'
      : 'bpfTokenPath with libbpf older than 1.4 is a NotSupportedError naming it',
    async (ctx) => {
      if (!kernelTokens) ctx.skip(`kernel ${release()} has no BPF tokens (BPF_TOKEN_CREATE, Linux 6.9+)`);
      const outcome = await inUserNamespace('option');
      if (libbpfTokens) {
        expect(outcome).toEqual({ packets: 3 });
      } else {
        expect(outcome.error?.name).toBe('NotSupportedError');
        expect(outcome.error?.message).toMatch(
          /^load option bpfTokenPath needs libbpf >= 1\.4 \(BPF tokens: bpf_token_create\); this process loaded libbpf 1\.\d+$/,
        );
        expect(outcome.error?.hint).toContain('TSBPF_LIBBPF=');
      }
    },
  );

  it(
    libbpfTokens
      ? 'LIBBPF_BPF_TOKEN_PATH: libbpf takes the token from the environment too'
      : 'LIBBPF_BPF_TOKEN_PATH is not read by libbpf older than 1.4: the load is a PermissionError',
    async (ctx) => {
      if (!kernelTokens) ctx.skip(`kernel ${release()} has no BPF tokens (BPF_TOKEN_CREATE, Linux 6.9+)`);
      const outcome = await inUserNamespace('env');
      if (!libbpfTokens && unprivilegedBpf === '0') {
        ctx.skip('kernel.unprivileged_bpf_disabled=0 lets any user load socket filters: nothing to refuse');
      }
      if (libbpfTokens) expect(outcome).toEqual({ packets: 3 });
      else expect(outcome.error?.name).toBe('PermissionError');
    },
  );
});
