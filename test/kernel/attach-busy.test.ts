// Two programs on one network hook: a second XDP attach says another program holds the interface
// (and how to see and replace it), and a second tc instance does not silently take the first one's
// traffic: without a priority it is refused, with another priority both run. Real attaches on a veth.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArrayMap, CollectionSpec, u64 } from '../../src/runtime/index.js';
import { createVethPair, sendUdp, type VethPair, vethNames } from '../helpers/netns.js';
import { fixture } from './helpers.js';

const { hostIf, nsIp } = vethNames('tsbus', 150);
let veth: VethPair | undefined;

beforeAll(() => {
  veth = createVethPair('tsbus', 150);
});
afterAll(() => veth?.destroy());

const udpToNs = (n: number) => sendUdp(nsIp, n);

describe('a second program on one hook', () => {
  for (const mode of [undefined, 'generic'] as const) {
    it(`XDP (${mode ?? 'default mode'}): says who holds the interface and how to replace it`, async () => {
      await using first = await CollectionSpec.fromBytes(fixture('net')).load();
      await using second = await CollectionSpec.fromBytes(fixture('net')).load();
      first.program('xdp_count').attachXdp({ ifname: hostIf, ...(mode ? { mode } : {}) });
      const error = (() => {
        try {
          second.program('xdp_count').attachXdp({ ifname: hostIf, ...(mode ? { mode } : {}) });
        } catch (e) {
          return e as Error & { hint?: string };
        }
      })();
      expect(error?.message).toMatch(new RegExp(`another XDP program is attached to ${hostIf}`));
      expect(error?.hint).toContain(`bpftool net show dev ${hostIf}`);
      expect(error?.hint).toContain(`ip link show dev ${hostIf}`);
    });
  }

  it('tc: a second instance at the default priority is refused, not put in front of the first', async () => {
    await using first = await CollectionSpec.fromBytes(fixture('net')).load();
    await using second = await CollectionSpec.fromBytes(fixture('net')).load();
    const firstCounts = new ArrayMap(first.map('tc_counts'), u64);
    const firstLink = first.program('tc_count').attachTc({ ifname: hostIf, direction: 'egress' });
    let error: (Error & { hint?: string }) | undefined;
    try {
      second.program('tc_count').attachTc({ ifname: hostIf, direction: 'egress' });
    } catch (e) {
      error = e as Error & { hint?: string };
    }
    // libbpf 1.1: netlink filters at priority 1; libbpf 1.3+ on kernel 6.6+: tcx links (tcx.test.ts).
    expect(error?.message).toMatch(
      new RegExp(
        `another tc program is attached to ${hostIf} egress ${firstLink.mechanism === 'tcx' ? 'as a tcx link' : 'at priority 1'}`,
      ),
    );
    expect(error?.hint).toContain(`tc filter show dev ${hostIf} egress`);
    expect(error?.hint).toContain('priority');
    // The first still sees the traffic.
    const before = firstCounts.get(17) ?? 0n;
    await udpToNs(3);
    expect((firstCounts.get(17) ?? 0n) - before).toBeGreaterThanOrEqual(3n);
  });

  it('tc: another priority, asked for, runs after the first (both attached)', async () => {
    await using first = await CollectionSpec.fromBytes(fixture('net')).load();
    await using second = await CollectionSpec.fromBytes(fixture('net')).load();
    first.program('tc_count').attachTc({ ifname: hostIf, direction: 'ingress' });
    const link = second.program('tc_count').attachTc({ ifname: hostIf, direction: 'ingress', priority: 2 });
    link.close();
  });
});
