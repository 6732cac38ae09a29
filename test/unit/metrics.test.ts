// tsbpf/metrics without a kernel: maps stand in as plain objects with entries() (the shape the
// typed maps have), read through prom-client's real registry and text format.

import { join } from 'node:path';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { cumulativeBuckets, estimatedSum, linearBuckets, log2Buckets } from '../../src/metrics/histogram.js';
import { type MapMetric, registerMapMetrics } from '../../src/metrics/index.js';
import { SeriesCap } from '../../src/metrics/series.js';

function fakeMap<K, V>(entries: Array<[K, V]>) {
  return { entries: () => entries[Symbol.iterator]() };
}

async function scrape(metrics: MapMetric[]): Promise<string> {
  return registerMapMetrics(new Registry(), metrics).metrics();
}

describe('slot buckets', () => {
  it('log2: slot n ends at 2^(n+1) in the exported unit', () => {
    expect(log2Buckets(4).bounds).toEqual([2, 4, 8, 16]);
    expect(log2Buckets(3, { unit: 1e-6 }).bounds).toEqual([2e-6, 4e-6, 8e-6]);
  });

  it('linear: slot n ends at min + (n+1)*step', () => {
    expect(linearBuckets(3, { min: 10, step: 5 })).toEqual({ bounds: [15, 20, 25], start: 10 });
    expect(() => linearBuckets(3, { step: 0 })).toThrow(/step must be positive/);
    expect(() => log2Buckets(0)).toThrow(UsageError);
  });

  it('cumulative counts end with +Inf = the total; midpoint sum', () => {
    const b = log2Buckets(3);
    expect(cumulativeBuckets([1, 0, 3], b)).toEqual([
      ['2', 1],
      ['4', 1],
      ['8', 4],
      ['+Inf', 4],
    ]);
    // 1 at (0+2)/2, 3 at (4+8)/2
    expect(estimatedSum([1, 0, 3], b)).toBe(1 + 18);
  });
});

describe('series cap', () => {
  it('keeps admitted sets while present, admits the largest new ones, frees absent ones', () => {
    const cap = new SeriesCap(2);
    const admit = (weights: Record<string, number>) => {
      const present = new Map(Object.entries(weights));
      return [...(cap.admit(present, (id) => present.get(id)!) ?? present.keys())].sort();
    };
    expect(admit({ a: 1, b: 5, c: 3 })).toEqual(['b', 'c']);
    // a grows past both, but b and c keep their places while present
    expect(admit({ a: 99, b: 5, c: 3 })).toEqual(['b', 'c']);
    // c left the map: its place goes to a
    expect(admit({ a: 99, b: 5 })).toEqual(['a', 'b']);
    // back under the cap: all of them
    expect(admit({ a: 1 })).toEqual(['a']);
  });
});

describe('Prometheus exposition', () => {
  it('a counter per label set: keys with equal labels are added, bigints become numbers', async () => {
    const text = await scrape([
      {
        kind: 'counter',
        name: 'probe_syscalls_total',
        help: 'System calls.',
        map: fakeMap<number, { syscalls: bigint; comm: string }>([
          [10, { syscalls: 5n, comm: 'bash' }],
          [11, { syscalls: 7n, comm: 'bash' }],
          [12, { syscalls: 1n, comm: 'sshd "x"' }],
        ]),
        labelNames: ['comm'],
        labels: (_pid, v) => ({ comm: v.comm }),
        value: (v) => v.syscalls,
      },
    ]);
    expect(text).toContain('# TYPE probe_syscalls_total counter');
    expect(text).toContain('probe_syscalls_total{comm="bash"} 12');
    expect(text).toContain('probe_syscalls_total{comm="sshd \\"x\\""} 1');
  });

  it('past maxSeries, the rest go into one series labelled "other"', async () => {
    const entries: Array<[number, bigint]> = Array.from({ length: 10 }, (_, i) => [i, BigInt(i + 1)]);
    const text = await scrape([
      {
        kind: 'gauge',
        name: 'probe_entries',
        help: 'x',
        map: fakeMap(entries),
        labelNames: ['pid'],
        labels: (pid) => ({ pid }),
        maxSeries: 3,
      },
    ]);
    const lines = text.split('\n').filter((l) => l.startsWith('probe_entries{'));
    // The three largest keep their series; 1+2+...+7 = 28 is "other".
    expect(lines.sort()).toEqual([
      'probe_entries{pid="7"} 8',
      'probe_entries{pid="8"} 9',
      'probe_entries{pid="9"} 10',
      'probe_entries{pid="other"} 28',
    ]);
  });

  it('a histogram from an array map (key = slot) and from slots[] in values, with labels', async () => {
    const text = await scrape([
      {
        kind: 'histogram',
        name: 'probe_latency_seconds',
        help: 'x',
        map: fakeMap<number, bigint>([
          [0, 2n],
          [1, 0n],
          [2, 5n],
        ]),
        buckets: log2Buckets(3, { unit: 1e-6 }),
      },
      {
        kind: 'histogram',
        name: 'probe_io_bytes',
        help: 'x',
        map: fakeMap<string, { slots: number[]; total: bigint }>([
          ['sda', { slots: [1, 2], total: 10n }],
          ['sdb', { slots: [0, 4], total: 20n }],
        ]),
        buckets: linearBuckets(2, { step: 4 }),
        labelNames: ['disk'],
        labels: (disk) => ({ disk }),
        slots: (v) => v.slots,
        sum: (v) => v.total,
      },
    ]);
    expect(text).toContain('# TYPE probe_latency_seconds histogram');
    expect(text).toContain('probe_latency_seconds_bucket{le="0.000002"} 2');
    expect(text).toContain('probe_latency_seconds_bucket{le="0.000004"} 2');
    expect(text).toContain('probe_latency_seconds_bucket{le="0.000008"} 7');
    expect(text).toContain('probe_latency_seconds_bucket{le="+Inf"} 7');
    expect(text).toContain('probe_latency_seconds_count 7');
    // No sum kept in the map: midpoints, 2 at 1e-6 and 5 at 6e-6.
    const sum = Number(/probe_latency_seconds_sum (\S+)/.exec(text)?.[1]);
    expect(sum).toBeCloseTo(32e-6, 12);
    expect(text).toContain('probe_io_bytes_bucket{disk="sda",le="4"} 1');
    expect(text).toContain('probe_io_bytes_bucket{disk="sda",le="8"} 3');
    expect(text).toContain('probe_io_bytes_bucket{disk="sdb",le="+Inf"} 4');
    expect(text).toContain('probe_io_bytes_sum{disk="sdb"} 20');
    expect(text).toContain('probe_io_bytes_count{disk="sda"} 3');
  });

  it('per-CPU maps (PerCpuHashMap/PerCpuArrayMap) are summed over CPUs', async () => {
    // The instanceof test needs the real classes: built over a stand-in BpfMap of the right type.
    const { PerCpuArrayMap } = await import('../../src/runtime/maps.js');
    const cpus = [3n, 4n];
    const fake = Object.create(PerCpuArrayMap.prototype) as InstanceType<typeof PerCpuArrayMap<bigint>>;
    Object.defineProperty(fake, 'length', { value: 2 });
    Object.defineProperty(fake, 'get', { value: (i: number) => cpus.map((c) => c * BigInt(i + 1)) });
    const text = await scrape([
      {
        kind: 'gauge',
        name: 'probe_slots',
        help: 'x',
        map: fake,
        labelNames: ['slot'],
        labels: (i) => ({ slot: i }),
      },
    ]);
    expect(text).toContain('probe_slots{slot="0"} 7');
    expect(text).toContain('probe_slots{slot="1"} 14');
  });

  it('refuses bad names and mismatched slot counts with UsageErrors that say the fix', async () => {
    const base = { kind: 'gauge' as const, help: 'x', map: fakeMap<number, number>([[0, 1]]) };
    expect(() => registerMapMetrics(new Registry(), [{ ...base, name: '9bad' }])).toThrow(
      /not a valid Prometheus name/,
    );
    expect(() =>
      registerMapMetrics(new Registry(), [
        { ...base, name: 'ok', labelNames: ['le'], labels: () => ({ le: 1 }) },
      ]),
    ).toThrow(/label name "le"/);
    const wide = registerMapMetrics(new Registry(), [
      {
        kind: 'histogram',
        name: 'h',
        help: 'x',
        map: fakeMap<number, number>([[5, 1]]),
        buckets: log2Buckets(2),
      },
    ]);
    await expect(wide.metrics()).rejects.toThrow(/holds 6 slots but the buckets declare 2/);
    const missing = registerMapMetrics(new Registry(), [
      { ...base, name: 'm', labelNames: ['comm'], labels: () => ({}) },
    ]);
    await expect(missing.metrics()).rejects.toThrow(/no value for label "comm"/);
  });
});

describe('optional libraries and the server', () => {
  it('a missing peer library is a ToolchainError that says what to install', async () => {
    const { importOptional } = await import('../../src/metrics/optional.js');
    const error = await importOptional('tsbpf-no-such-package', 'Prometheus metrics').catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ name: 'ToolchainError', hint: 'npm install tsbpf-no-such-package' });
    expect((error as Error).message).toBe(
      'Prometheus metrics needs the package tsbpf-no-such-package, which is not installed',
    );
  });

  it('serves /metrics and /ready, and a taken port is a UsageError naming it', async () => {
    const { serveMetrics } = await import('../../src/metrics/index.js');
    const registry = registerMapMetrics(new Registry(), [
      { kind: 'gauge', name: 'probe_up', help: 'x', map: fakeMap<number, number>([[0, 1]]) },
    ]);
    await using server = await serveMetrics({ registry, host: '127.0.0.1', port: 0, ready: true });
    const metrics = await fetch(`${server.url}/metrics`);
    expect(metrics.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    expect(await metrics.text()).toContain('probe_up 1');
    expect((await fetch(`${server.url}/ready`)).status).toBe(200);
    expect((await fetch(`${server.url}/nothing`)).status).toBe(404);
    const taken = await serveMetrics({ registry, host: '127.0.0.1', port: server.port }).catch(
      (e: unknown) => e,
    );
    expect(taken).toMatchObject({
      name: 'UsageError',
      message: `cannot serve metrics on 127.0.0.1:${server.port}: EADDRINUSE`,
    });
  });

  it('a bad port or a host name that resolves to nothing is a UsageError, not a resolver error', async () => {
    const { serveMetrics } = await import('../../src/metrics/index.js');
    const registry = new Registry();
    await expect(serveMetrics({ registry, port: Number('abc') })).rejects.toMatchObject({
      name: 'UsageError',
      message: 'metrics port NaN is not a TCP port',
    });
    // .invalid never resolves (RFC 6761); without a resolver the lookup fails with EAI_AGAIN.
    const error = await serveMetrics({ registry, host: 'tsbpf.invalid', port: 0 }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      name: 'UsageError',
      hint: expect.stringContaining('address or name of this host'),
    });
    expect((error as Error).message).toMatch(
      /^cannot serve metrics on tsbpf\.invalid:0: (ENOTFOUND|EAI_AGAIN)$/,
    );
  });
});

describe('events as log attributes', () => {
  it('flattens nested structs, keeps exact bigints as numbers and the rest as strings', async () => {
    const { eventAttributes } = await import('../../src/metrics/logs.js');
    expect(
      eventAttributes({
        pid: 7,
        ts: 5n,
        huge: 2n ** 63n,
        comm: 'sh',
        addr: { port: 80, ip: new Uint8Array([10, 0, 0, 1]) },
        stack: new BigUint64Array([1n, 2n ** 64n - 1n]),
      }),
    ).toEqual({
      pid: 7,
      ts: 5,
      huge: '9223372036854775808',
      comm: 'sh',
      'addr.port': 80,
      'addr.ip': new Uint8Array([10, 0, 0, 1]),
      stack: [1, '18446744073709551615'],
    });
    expect(eventAttributes(42n)).toEqual({ value: 42 });
  });
});

describe('label helpers', () => {
  it('names enum values by their enumerator, and unknown ones by number', async () => {
    const { enumLabel } = await import('../../src/metrics/index.js');
    const Syscall = { READ: 0, WRITE: 1, OPENAT: 257 } as const;
    expect(enumLabel(Syscall, 257)).toBe('OPENAT');
    expect(enumLabel(Syscall, 0n)).toBe('READ');
    expect(enumLabel(Syscall, 999)).toBe('999');
  });

  it('names a cgroup id (its folder inode) by its path, and rescans for new cgroups', async () => {
    const { CgroupPaths, cgroup2Root } = await import('../../src/metrics/index.js');
    const { mkdirSync, rmdirSync, statSync } = await import('node:fs');
    const root = cgroup2Root();
    expect(root, 'a cgroup2 mount').toBeDefined();
    const paths = new CgroupPaths({ rescanMs: 0 });
    expect(paths.path(statSync(root!, { bigint: true }).ino)).toBe('/');
    const name = `tsbpf-metrics-${process.pid}`;
    mkdirSync(join(root!, name, 'child'), { recursive: true });
    try {
      const id = statSync(join(root!, name, 'child'), { bigint: true }).ino;
      expect(paths.path(id)).toBe(`/${name}/child`);
      expect(paths.path(2n ** 62n)).toBe(`cgroup:${2n ** 62n}`);
    } finally {
      rmdirSync(join(root!, name, 'child'));
      rmdirSync(join(root!, name));
    }
  });
});
