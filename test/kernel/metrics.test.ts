// tsbpf/metrics against the real engines: the exporter template's C program counts system calls
// per process and histograms their latency in real maps; a real Prometheus scrapes /metrics and
// its HTTP API must hold the series, labels and buckets; an in-test OTLP/HTTP receiver must get
// the same data as OTLP JSON.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { symlinkSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  exportEventsAsLogs,
  log2Buckets,
  type MapMetric,
  registerMapMetrics,
  serveMetrics,
  startOtlpMetrics,
} from '../../src/metrics/index.js';
import {
  type Codec,
  CollectionSpec,
  cstring,
  HashMap,
  type Link,
  PerCpuArrayMap,
  RingBuf,
  typedArray,
  u32,
  u64,
} from '../../src/runtime/index.js';
import { compileFixture } from '../helpers/bpf.js';
import { repoRoot, tempDir } from '../helpers/paths.js';
import { type RunningPrometheus, startPrometheus } from '../helpers/prometheus.js';
import { fixture, getppid, setU32 } from './helpers.js';

/** The parts of an OTLP/HTTP JSON metrics export this test reads (opentelemetry-proto's metrics.proto). */
interface OtlpAttribute {
  key: string;
  value: { stringValue?: string };
}
interface OtlpMetric {
  name: string;
  sum?: { isMonotonic: boolean; dataPoints: Array<{ attributes: OtlpAttribute[]; asDouble: number }> };
  histogram?: {
    dataPoints: Array<{
      explicitBounds: number[];
      bucketCounts: Array<string | number>;
      count: string | number;
      sum: number;
    }>;
  };
}
interface OtlpExport {
  resourceMetrics: Array<{
    resource: { attributes: OtlpAttribute[] };
    scopeMetrics: Array<{ metrics: OtlpMetric[] }>;
  }>;
}

interface ProcStats {
  syscalls: bigint;
  comm: string;
}
interface LatencyHist {
  slots: BigUint64Array;
  sumNs: bigint;
}

/** Read-only codecs for the two C structs (a generated loader would provide them). */
function readOnly<T>(size: number, decode: (b: Uint8Array, o: number) => T): Codec<T> {
  const refuse = () => {
    throw new Error('read-only codec');
  };
  return { size, decode: (b, o = 0) => decode(b, o), encode: refuse, encodeInto: refuse };
}
const procStats = readOnly<ProcStats>(24, (b, o) => ({
  syscalls: u64.decode(b, o),
  comm: cstring(16).decode(b, o + 8),
}));
const slots32 = typedArray(BigUint64Array, 32);
const latencyHist = readOnly<LatencyHist>(33 * 8, (b, o) => ({
  slots: slots32.decode(b, o),
  sumNs: u64.decode(b, o + 256),
}));

interface RingEvent {
  pid: number;
  seq: number;
  value: bigint;
  comm: string;
}
// struct event { __u32 pid; __u32 seq; __u64 value; char comm[16]; } from test/fixtures/runtime/events.bpf.c
const eventCodec = readOnly<RingEvent>(32, (b, o) => ({
  pid: u32.decode(b, o),
  seq: u32.decode(b, o + 4),
  value: u64.decode(b, o + 8),
  comm: cstring(16).decode(b, o + 16),
}));

const trigger = 'tsbpfmetricstr'; // the comm a symlink named so gives /bin/sh

/** Runs a shell under the trigger name making ~2000 system calls (open/dup/close per redirection). */
async function makeSyscalls(dir: string): Promise<number> {
  const child = spawn(
    join(dir, trigger),
    ['-c', 'i=0; while [ $i -lt 500 ]; do read x < /dev/null; i=$((i+1)); done'],
    {
      stdio: 'ignore',
    },
  );
  await once(child, 'exit');
  return child.pid ?? 0;
}

let coll: Awaited<ReturnType<CollectionSpec['load']>>;
const links: Link[] = [];
let metrics: MapMetric[];
let dir = '';

beforeAll(async () => {
  dir = tempDir('tsbpf-metrics-');
  symlinkSync('/bin/sh', join(dir, trigger));
  const object = compileFixture(join(repoRoot, 'templates/exporter/src/sysstats.bpf.c'));
  coll = await CollectionSpec.fromBytes(object, { name: 'sysstats' }).load();
  links.push(
    coll.program('sys_enter').attach(),
    coll.program('sys_exit').attach(),
    coll.program('sched_exec').attach(),
  );
  metrics = [
    {
      kind: 'counter',
      name: 'sysstats_syscalls_total',
      help: 'System calls, per process name.',
      map: new HashMap(coll.map('counts'), u32, procStats),
      labelNames: ['comm'],
      labels: (_pid, stats) => ({ comm: stats.comm }),
      value: (stats) => stats.syscalls,
    },
    {
      kind: 'histogram',
      name: 'sysstats_syscall_latency_seconds',
      help: 'System call latency.',
      map: new PerCpuArrayMap(coll.map('latency'), latencyHist),
      buckets: log2Buckets(32, { unit: 1e-6 }),
      slots: (h) => h.slots,
      sum: (h) => Number(h.sumNs) / 1e9,
    },
  ];
});

afterAll(async () => {
  for (const link of links) link.close();
  await coll?.close();
});

describe('Prometheus', () => {
  let prometheus: RunningPrometheus | undefined;
  afterAll(async () => prometheus?.close());

  it('scrapes per-process counters and a latency histogram from the maps', async () => {
    await using server = await serveMetrics({
      registry: registerMapMetrics(new Registry(), metrics),
      host: '127.0.0.1',
      port: 0,
    });
    expect((await fetch(`${server.url}/ready`)).status).toBe(503);
    server.setReady(true);
    expect((await fetch(`${server.url}/ready`)).status).toBe(200);

    prometheus = await startPrometheus([server.url.replace('http://', '')]);
    await makeSyscalls(dir);
    await makeSyscalls(dir);

    // The two shells each made >= 1500 calls (500 redirections: open, dup2, close).
    const [counter] = await prometheus.waitFor(
      `sysstats_syscalls_total{comm="${trigger}"}`,
      (r) => Number(r[0]?.value[1] ?? 0) >= 3000,
    );
    expect(counter!.metric).toMatchObject({
      __name__: 'sysstats_syscalls_total',
      comm: trigger,
      job: 'tsbpf',
    });

    // Buckets, count and sum in one instant query: one evaluation, so all from the same scrape
    // (separate queries can straddle a scrape and see different totals).
    const series = await prometheus.waitFor(
      '{__name__=~"sysstats_syscall_latency_seconds_(bucket|count|sum)"}',
      (r) => r.filter((s) => s.metric.__name__ === 'sysstats_syscall_latency_seconds_bucket').length === 33,
    );
    const named = (name: string) =>
      series.filter((s) => s.metric.__name__ === `sysstats_syscall_latency_seconds_${name}`);
    const buckets = named('bucket');
    const byLe = new Map(buckets.map((s) => [s.metric.le, Number(s.value[1])]));
    const les = [...byLe.keys()];
    expect(les).toContain('+Inf');
    // Prometheus keeps the bounds as written: 2^(n+1) microseconds in seconds.
    expect(les).toContain('0.000002');
    expect(les).toContain('4294.967296');
    const finite = [...byLe].filter(([le]) => le !== '+Inf').sort(([a], [b]) => Number(a) - Number(b));
    for (let i = 1; i < finite.length; i++) expect(finite[i]![1]).toBeGreaterThanOrEqual(finite[i - 1]![1]);
    const [count] = named('count');
    const [sum] = named('sum');
    expect(Number(count!.value[1])).toBe(byLe.get('+Inf'));
    expect(Number(count!.value[1])).toBeGreaterThan(3000);
    expect(Number(sum!.value[1])).toBeGreaterThan(0);
    // The quantile function works on the stored buckets: the median system call is under a second.
    const [median] = await prometheus.query(
      'histogram_quantile(0.5, sysstats_syscall_latency_seconds_bucket)',
    );
    expect(Number(median!.value[1])).toBeGreaterThan(0);
    expect(Number(median!.value[1])).toBeLessThan(1);
  }, 120_000);
});

describe('OpenTelemetry', () => {
  it('exports the same metrics as OTLP/HTTP JSON to a receiver', async () => {
    const bodies: Array<{ url: string; type: string; json: OtlpExport }> = [];
    const receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        bodies.push({
          url: req.url ?? '',
          type: String(req.headers['content-type']),
          json: JSON.parse(Buffer.concat(chunks).toString('utf8')),
        });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/v1/metrics`;
    try {
      await makeSyscalls(dir);
      const exporter = await startOtlpMetrics({
        metrics,
        url,
        intervalMs: 3_600_000,
        serviceName: 'sysstats-test',
      });
      await exporter.flush();
      await exporter.close();
    } finally {
      receiver.close();
    }
    expect(bodies.length).toBeGreaterThan(0);
    expect(bodies[0]!.url).toBe('/v1/metrics');
    expect(bodies[0]!.type).toContain('application/json');
    const resourceMetrics = bodies[0]!.json.resourceMetrics[0]!;
    expect(resourceMetrics.resource.attributes).toContainEqual({
      key: 'service.name',
      value: { stringValue: 'sysstats-test' },
    });
    const all = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
    const counter = all.find((m) => m.name === 'sysstats_syscalls_total');
    expect(counter?.sum?.isMonotonic).toBe(true);
    const point = counter?.sum?.dataPoints.find((p) =>
      p.attributes.some((a) => a.key === 'comm' && a.value.stringValue === trigger),
    );
    expect(point?.asDouble).toBeGreaterThanOrEqual(1500);
    const histogram = all.find((m) => m.name === 'sysstats_syscall_latency_seconds')!.histogram!
      .dataPoints[0]!;
    expect(histogram.explicitBounds).toHaveLength(32);
    expect(histogram.explicitBounds[0]).toBeCloseTo(2e-6, 12);
    expect(histogram.bucketCounts).toHaveLength(33);
    const total = histogram.bucketCounts.reduce((a: number, c) => a + Number(c), 0);
    expect(Number(histogram.count)).toBe(total);
    expect(total).toBeGreaterThan(1500);
    expect(histogram.sum).toBeGreaterThan(0);
  }, 60_000);
});

/** An OTLP/HTTP receiver on a free port of 127.0.0.1 that keeps every JSON body posted to it. */
async function otlpReceiver(): Promise<{
  url: string;
  bodies: Array<{ path: string; json: unknown }>;
  close(): void;
}> {
  const bodies: Array<{ path: string; json: unknown }> = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push({ path: req.url ?? '', json: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bodies,
    close: () => server.close(),
  };
}

interface OtlpLogs {
  resourceLogs: Array<{
    scopeLogs: Array<{
      logRecords: Array<{ eventName?: string; body?: { stringValue: string }; attributes: OtlpAttribute[] }>;
    }>;
  }>;
}

describe('OpenTelemetry logs', () => {
  it('sends ring buffer events as batched log records with the decoded fields as attributes', async () => {
    const spec = CollectionSpec.fromBytes(fixture('events'), { name: 'events' });
    setU32(spec.dataSection('.rodata')!, 0, process.pid);
    await using events = await spec.load();
    using _link = events.program('on_getppid').attach();
    const reader = new RingBuf(events.map('events'), eventCodec).reader();
    const receiver = await otlpReceiver();
    try {
      await using logs = await exportEventsAsLogs(reader, {
        url: `${receiver.url}/v1/logs`,
        eventName: 'test.getppid',
        body: (e) => `getppid from ${e.pid}`,
        delayMs: 100,
      });
      for (let i = 0; i < 5; i++) getppid();
      const deadline = Date.now() + 10_000;
      const records = () =>
        receiver.bodies.flatMap((b) =>
          (b.json as OtlpLogs).resourceLogs.flatMap((r) => r.scopeLogs.flatMap((s) => s.logRecords)),
        );
      while (records().length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      reader.close();
      expect(await logs.done).toBe(5);
      await logs.flush();
      expect(receiver.bodies.every((b) => b.path === '/v1/logs')).toBe(true);
      // Fewer requests than records: batched.
      expect(receiver.bodies.length).toBeLessThan(5);
      const got = records();
      expect(got).toHaveLength(5);
      const attrs = (i: number) => Object.fromEntries(got[i]!.attributes.map((a) => [a.key, a.value]));
      expect(got[0]).toMatchObject({
        eventName: 'test.getppid',
        body: { stringValue: `getppid from ${process.pid}` },
      });
      expect(attrs(0)).toMatchObject({
        pid: { intValue: process.pid },
        seq: { intValue: 0 },
        value: { intValue: 1 },
      });
      expect(Object.keys(attrs(0)).sort()).toEqual(['comm', 'pid', 'seq', 'value']);
      expect(got.map((_, i) => Number((attrs(i).seq as { intValue: number }).intValue))).toEqual([
        0, 1, 2, 3, 4,
      ]);
    } finally {
      receiver.close();
    }
  }, 60_000);
});
