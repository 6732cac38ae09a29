// Shutdown: a process that attached a tracepoint, a uprobe, XDP on a veth and a tc filter, then ends
// by SIGINT, SIGTERM, SIGHUP, an uncaught exception, process.exit() or the end of its event loop,
// leaves none of its programs, links or attachments in the kernel. A pinned link stays (asked for).
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createNetns,
  deleteNetns,
  eventually,
  linksOf,
  programIds,
  reliabilityFixture,
  runNode,
  sharedDir,
  tcFilters,
  writeScript,
  xdpOn,
} from './helpers.js';

const ns = `tsbpf-sd-${process.pid}`;
const PREFIX = 'relsd_';
let dir: string;
let script: string;

const child = `
import { readFileSync } from 'node:fs';
import { CollectionSpec } from 'RUNTIME';
const [how, object, pin] = process.argv.slice(2);
const coll = await CollectionSpec.fromBytes(readFileSync(object)).load();
const tp = coll.program('relsd_tp').attach();
coll.program('relsd_uprobe').attachUprobe({ binary: '/bin/bash', symbol: 'readline' });
// ip netns exec mounts its own /sys, without bpffs: the pin case runs outside the netns.
if (pin) tp.pin(pin);
else {
  coll.program('relsd_xdp').attachXdp({ ifname: 'sd0' });
  coll.program('relsd_tc').attachTc({ ifname: 'sd1', direction: 'ingress' });
  coll.program('relsd_tc').attachTc({ ifname: 'sd0', direction: 'egress' });
}
if (how === 'exit') { console.log('ready'); process.exit(3); }
if (how === 'throw') { console.log('ready'); setTimeout(() => { throw new Error('boom'); }, 10); }
else if (how === 'drain') { console.log('ready'); /* nothing keeps the loop alive: it ends */ }
else { setInterval(() => {}, 1000); console.log('ready'); }
`;

function kernelState() {
  const progs = programIds(PREFIX);
  return {
    programs: progs.length,
    links: linksOf(progs).length,
    xdp: xdpOn(ns, 'sd0'),
    tcIngress: tcFilters(ns, 'sd1', 'ingress'),
    tcEgress: tcFilters(ns, 'sd0', 'egress'),
  };
}

const clean = { programs: 0, links: 0, xdp: '', tcIngress: '', tcEgress: '' };

beforeAll(() => {
  dir = sharedDir();
  writeFileSync(join(dir, 'shutdown.o'), reliabilityFixture('shutdown'));
  script = writeScript(dir, 'child.mjs', child);
  createNetns(ns, 'sd0', 'sd1');
});

afterAll(() => {
  deleteNetns(ns);
});

async function endsCleanly(how: string, signal?: NodeJS.Signals) {
  expect(kernelState()).toEqual(clean);
  let during: ReturnType<typeof kernelState> | undefined;
  const result = await runNode(script, {
    prefix: ['ip', 'netns', 'exec', ns],
    args: [how, join(dir, 'shutdown.o')],
    onReady: (pid) => {
      if (how === 'exit' || how === 'throw' || how === 'drain') return;
      during = kernelState();
      process.kill(pid, signal);
    },
  });
  const after = await eventually(kernelState, (s) => s.programs === 0);
  return { result, during, after };
}

describe('shutdown leaves nothing in the kernel', () => {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    it(`${signal}: exits by the signal, all four attachments gone`, async () => {
      const { result, during, after } = await endsCleanly('signal', signal);
      expect(result.stdout).toContain('ready');
      // While it ran, everything was really attached (4 programs; tracepoint, uprobe, XDP links).
      expect(during?.programs).toBe(4);
      expect(during?.xdp).not.toBe('');
      expect(during?.tcIngress).toContain('relsd_tc');
      expect(during?.tcEgress).toContain('relsd_tc');
      expect(result.signal).toBe(signal);
      expect(after).toEqual(clean);
    });
  }

  it('uncaught exception: exit code 1, nothing left', async () => {
    const { result, after } = await endsCleanly('throw');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('boom');
    expect(after).toEqual(clean);
  });

  it('process.exit(): its exit code, nothing left', async () => {
    const { result, after } = await endsCleanly('exit');
    expect(result.code).toBe(3);
    expect(after).toEqual(clean);
  });

  it('end of the event loop with links still open: nothing left', async () => {
    const { result, after } = await endsCleanly('drain');
    expect(result.code).toBe(0);
    expect(after).toEqual(clean);
  });

  it('a pinned link outlives the process, and only that one', async () => {
    const pin = `/sys/fs/bpf/tsbpf-sd-${process.pid}`;
    try {
      const result = await runNode(script, {
        args: ['signal', join(dir, 'shutdown.o'), pin],
        onReady: (pid) => process.kill(pid, 'SIGTERM'),
      });
      expect(result.stderr).toBe('');
      expect(result.signal).toBe('SIGTERM');
      const after = await eventually(kernelState, (s) => s.programs <= 1);
      expect(after).toEqual({ ...clean, programs: 1, links: 1 });
    } finally {
      rmSync(pin, { force: true });
    }
    expect(await eventually(kernelState, (s) => s.programs === 0)).toEqual(clean);
  });
});
