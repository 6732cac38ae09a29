// tc programs as tcx links or netlink filters, on a veth with real traffic. Which one a run takes
// depends on the libbpf tsbpf loaded: libbpf 1.3+ (bpf_program__attach_tcx) on a 6.6+ kernel
// gives a tcx link, which goes with its process even after SIGKILL; libbpf 1.1 (Debian 12) gives a
// netlink filter, which stays. The default suite runs the netlink cases; the libbpf 1.5/1.7 runs
// (TSBPF_LIBBPF or LD_LIBRARY_PATH) run the tcx ones. Each run asserts what its libbpf gives.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotSupportedError } from '../../src/errors.js';
import { libbpf, libbpfVersion } from '../../src/runtime/ffi/libbpf.js';
import { ArrayMap, CollectionSpec, u64 } from '../../src/runtime/index.js';
import { createVethPair, sendUdp, type VethPair, vethNames } from '../helpers/netns.js';
import { repoRoot, tempDir } from '../helpers/paths.js';
import { fixture, kernelLinkIds, loadErrorOf } from './helpers.js';

const { hostIf, hostIp, nsIp } = vethNames('tstcx', 100);
let veth: VethPair | undefined;
beforeAll(() => {
  veth = createVethPair('tstcx', 100);
});
afterAll(() => veth?.destroy());

const [kmajor = 0, kminor = 0] = release().split('.').map(Number);
const kernelTcx = kmajor > 6 || (kmajor === 6 && kminor >= 6);
const libbpfTcx = libbpf().bpf_program__attach_tcx !== undefined;
const expected = libbpfTcx && kernelTcx ? 'tcx' : 'netlink';

const udpToNs = (n: number) => sendUdp(nsIp, n);

/** The tc filters on the hook, as `tc filter show` lists them (netlink ones only). */
function netlinkFilters(direction: 'ingress' | 'egress'): string {
  return execFileSync('tc', ['filter', 'show', 'dev', hostIf, direction], { encoding: 'utf8' }).trim();
}

/** Link id of a link fd, from its fdinfo. */
function linkId(fd: number): number {
  return Number(/^link_id:\s*(\d+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1]);
}

/**
 * A child process that loads `object`, attaches `program` with attachTc and prints the link's
 * mechanism and (tcx) link id, then is killed with SIGKILL: what it attached is then looked at.
 */
async function attachThenKill(
  object: Uint8Array,
  program: string,
  direction: 'ingress' | 'egress',
): Promise<{ mechanism: string; linkId: number }> {
  const dir = tempDir();
  writeFileSync(join(dir, 'prog.o'), object);
  writeFileSync(
    join(dir, 'child.mjs'),
    `import { readFileSync } from 'node:fs';
import { CollectionSpec } from '${join(repoRoot, 'dist/runtime/index.js')}';
const coll = await CollectionSpec.fromBytes(readFileSync('${join(dir, 'prog.o')}')).load();
const link = coll.program('${program}').attachTc({ ifname: '${hostIf}', direction: '${direction}' });
const id = link.mechanism === 'tcx' ? /link_id:\\s*(\\d+)/.exec(readFileSync('/proc/self/fdinfo/' + link.fd, 'utf8'))[1] : 0;
console.log('ready ' + link.mechanism + ' ' + id);
setInterval(() => {}, 1000);
`,
  );
  const proc = spawn(process.execPath, [join(dir, 'child.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
  await new Promise<void>((resolve) => {
    proc.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (/ready \w+ \d+/.test(out)) resolve();
    });
    proc.on('exit', () => resolve());
  });
  proc.kill('SIGKILL');
  await exited;
  const m = /ready (\w+) (\d+)/.exec(out);
  expect(m, `child output: ${out}`).not.toBeNull();
  return { mechanism: m![1]!, linkId: Number(m![2]) };
}

/** The kernel frees a killed process's files after it is reaped; a link may take a moment. */
async function eventually(check: () => boolean): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}

describe(`SEC("tc") programs (this run: ${expected})`, () => {
  it(`attach as ${expected}, see the traffic, and leave nothing after close`, async () => {
    await using coll = await CollectionSpec.fromBytes(fixture('net')).load();
    const counts = new ArrayMap(coll.map('tc_counts'), u64);
    const link = coll.program('tc_count').attachTc({ ifname: hostIf, direction: 'egress' });
    expect(link.mechanism).toBe(expected);
    const id = link.mechanism === 'tcx' ? linkId((link as unknown as { fd: number }).fd) : 0;
    if (link.mechanism === 'tcx') {
      expect(kernelLinkIds()).toContain(id);
      expect(netlinkFilters('egress')).toBe(''); // not a filter
    } else {
      expect(netlinkFilters('egress')).toContain('tc_count');
    }
    await udpToNs(5);
    expect(counts.get(17) ?? 0n).toBeGreaterThanOrEqual(5n);
    link.close();
    expect(netlinkFilters('egress')).toBe('');
    if (id) expect(kernelLinkIds()).not.toContain(id);
    // Closed: traffic no longer counted.
    const after = counts.get(17) ?? 0n;
    await udpToNs(3);
    expect(counts.get(17) ?? 0n).toBe(after);
  });

  it(`kill -9 of the process that attached: ${expected === 'tcx' ? 'nothing is left' : 'the netlink filter stays (removed here)'}`, async () => {
    const { mechanism, linkId: id } = await attachThenKill(fixture('net'), 'tc_count', 'egress');
    expect(mechanism).toBe(expected);
    if (mechanism === 'tcx') {
      expect(await eventually(() => !kernelLinkIds().includes(id))).toBe(true);
      expect(netlinkFilters('egress')).toBe('');
    } else {
      // What tcx fixes: SIGKILL cannot be caught, and a netlink filter is not an fd.
      expect(netlinkFilters('egress')).toContain('tc_count');
      execFileSync('tc', ['filter', 'del', 'dev', hostIf, 'egress']);
      expect(netlinkFilters('egress')).toBe('');
    }
  });

  it('a priority asks for a netlink filter, with tcx or without', async () => {
    await using coll = await CollectionSpec.fromBytes(fixture('net')).load();
    const link = coll.program('tc_count').attachTc({ ifname: hostIf, direction: 'ingress', priority: 3 });
    expect(link.mechanism).toBe('netlink');
    expect(netlinkFilters('ingress')).toContain('pref 3');
    link.close();
    expect(netlinkFilters('ingress')).toBe('');
  });
});

describe('tcx links (libbpf 1.3+, kernel 6.6+)', () => {
  // These run in the libbpf 1.5/1.7 runs; the default run (libbpf 1.1) shows the netlink side above.
  const needTcx = (ctx: { skip: (note: string) => void }) => {
    if (!kernelTcx) ctx.skip(`kernel ${release()} has no tcx (BPF_TCX_INGRESS links, Linux 6.6+)`);
    if (!libbpfTcx)
      ctx.skip('this libbpf has no tcx (bpf_program__attach_tcx, libbpf 1.3+); run with TSBPF_LIBBPF');
  };

  it('a second SEC("tc") program on a hook a tcx link holds is refused, and the first still counts', async (ctx) => {
    needTcx(ctx);
    await using first = await CollectionSpec.fromBytes(fixture('net')).load();
    await using second = await CollectionSpec.fromBytes(fixture('net')).load();
    const counts = new ArrayMap(first.map('tc_counts'), u64);
    first.program('tc_count').attachTc({ ifname: hostIf, direction: 'egress' });
    let error: (Error & { hint?: string; errno?: number }) | undefined;
    try {
      second.program('tc_count').attachTc({ ifname: hostIf, direction: 'egress' });
    } catch (e) {
      error = e as typeof error;
    }
    expect(error?.name).toBe('SystemCallError');
    expect(error?.errno).toBe(17);
    expect(error?.message).toBe(
      `program tc_count: another tc program is attached to ${hostIf} egress as a tcx link (EEXIST)`,
    );
    expect(error?.hint).toContain(`bpftool net show dev ${hostIf}`);
    expect(error?.hint).toContain('priority: 1');
    await udpToNs(3);
    expect(counts.get(17) ?? 0n).toBeGreaterThanOrEqual(3n);
  });

  it('SEC("tcx/ingress") and SEC("tcx/egress"): real traffic both ways; SIGKILL leaves nothing', async (ctx) => {
    needTcx(ctx);
    await using coll = await CollectionSpec.fromBytes(fixture('tcx')).load();
    const bss = coll.dataSection('.bss')!;
    const view = () => new DataView(bss.buffer, bss.byteOffset, 16);
    const inLink = coll.program('tcx_in').attachTc({ ifname: hostIf, direction: 'ingress' });
    const outLink = coll.program('tcx_out').attachTc({ ifname: hostIf, direction: 'egress' });
    expect([inLink.mechanism, outLink.mechanism]).toEqual(['tcx', 'tcx']);
    await udpToNs(4); // out through the host end
    veth!.inNs('ping', '-c', '2', '-i', '0.2', '-W', '1', hostIp); // in: echo requests arrive, replies leave
    expect(view().getBigUint64(8, true)).toBeGreaterThanOrEqual(4n);
    expect(view().getBigUint64(0, true)).toBeGreaterThanOrEqual(2n);
    inLink.close();
    outLink.close();

    const { mechanism, linkId: id } = await attachThenKill(fixture('tcx'), 'tcx_in', 'ingress');
    expect(mechanism).toBe('tcx');
    expect(await eventually(() => !kernelLinkIds().includes(id))).toBe(true);
    expect(netlinkFilters('ingress')).toBe('');
  });

  it.skipIf(libbpfTcx)(
    'with libbpf < 1.3, loading SEC("tcx/ingress") is a NotSupportedError naming libbpf 1.3',
    async () => {
      const error = await loadErrorOf(CollectionSpec.fromBytes(fixture('tcx')));
      expect(error).toBeInstanceOf(NotSupportedError);
      expect(error.message).toBe(
        `load program tcx_in: SEC("tcx/ingress") needs libbpf >= 1.3 (older ones do not know the section); this process loaded libbpf ${libbpfVersion().join('.')}`,
      );
      expect(error.hint).toContain(
        'install libbpf 1.3 or newer and point tsbpf at it: TSBPF_LIBBPF=/path/to/libbpf.so.1; or write SEC("tc") and attach it with attachTc({ ifname, direction: \'ingress\' })',
      );
    },
  );

  it('a tcx section attached the other way is a UsageError naming the direction', async (ctx) => {
    needTcx(ctx);
    await using coll = await CollectionSpec.fromBytes(fixture('tcx')).load();
    expect(() => coll.program('tcx_in').attachTc({ ifname: hostIf, direction: 'egress' })).toThrow(
      /SEC\("tcx\/ingress"\) attaches at ingress, not egress/,
    );
  });
});
