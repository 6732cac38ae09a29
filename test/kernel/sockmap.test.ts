// Socket maps with live TCP on 127.0.0.1: an sk_skb stream verdict sends what one connection's
// server side receives out of another connection's server side, and an sk_msg verdict puts what a
// client sends into another socket's receive queue. Both attach to their map with attachToMap().
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ArrayMap,
  CollectionSpec,
  SockHash,
  SockMap,
  UsageError,
  u32,
  u64,
} from '../../src/runtime/index.js';
import { fixture } from './helpers.js';

let server: Server;
const accepted: Socket[] = [];
const opened: Socket[] = [];

beforeAll(async () => {
  server = createServer((s) => accepted.push(s));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
});
afterAll(() => {
  for (const s of [...opened, ...accepted]) s.destroy();
  server.close();
});

/** A connection to the server: [client, server side]. */
async function pair(): Promise<[Socket, Socket]> {
  const before = accepted.length;
  const client = connect((server.address() as { port: number }).port, '127.0.0.1');
  opened.push(client);
  await once(client, 'connect');
  while (accepted.length === before) await new Promise((r) => setTimeout(r, 5));
  return [client, accepted[before]!];
}

/** Everything `socket` receives, as text. */
function collect(socket: Socket): { text: () => string } {
  const chunks: Buffer[] = [];
  socket.on('data', (d) => chunks.push(d));
  return { text: () => Buffer.concat(chunks).toString() };
}

async function until(check: () => boolean): Promise<boolean> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  return check();
}

describe('socket maps', () => {
  it('redirects received stream data to another socket with sk_skb parser and verdict', async () => {
    await using coll = await CollectionSpec.fromBytes(fixture('sockmap')).load();
    const map = new SockMap(coll.map('sock_map'));
    const counts = new ArrayMap(coll.map('redirected'), u64);
    // Programs first: a socket takes the map's programs when it is added.
    const parser = coll.program('parse').attachToMap(map);
    const verdict = coll.program('verdict').attachToMap(map);

    const [c1, s1] = await pair();
    const [c2, s2] = await pair();
    const atS1 = collect(s1);
    const atC2 = collect(c2);
    map.set(0, s1);
    map.set(1, s2);
    expect(map.cookie(0)).toBeGreaterThan(0n);
    expect(map.cookie(0)).not.toBe(map.cookie(1));

    const message = 'sent by c1, delivered to c2';
    c1.write(message);
    // s1 received it; the verdict sent it out of s2 (index `target` = 1), so c2 reads it.
    expect(await until(() => atC2.text() === message)).toBe(true);
    expect(atS1.text()).toBe('');
    expect(counts.get(0)).toBe(BigInt(message.length));

    // Detached, and the sockets taken out and put back: they no longer take the programs.
    parser.close();
    verdict.close();
    expect(map.delete(0)).toBe(true);
    expect(map.delete(1)).toBe(true);
    expect(map.delete(1)).toBe(false);
    map.set(0, s1);
    map.set(1, s2);
    c1.write('direct');
    expect(await until(() => atS1.text() === 'direct')).toBe(true);
    expect(atC2.text()).toBe(message);
  });

  it('redirects sent messages into another socket with an sk_msg verdict on a sockhash', async () => {
    await using coll = await CollectionSpec.fromBytes(fixture('sockmap')).load();
    const hash = new SockHash(coll.map('msg_hash'), u32);
    const counts = new ArrayMap(coll.map('redirected'), u64);
    coll.program('msg_verdict').attachToMap(hash);

    const [c3, s3] = await pair();
    const [, s4] = await pair();
    const atS3 = collect(s3);
    const atS4 = collect(s4);
    hash.set(1, c3);
    hash.set(2, s4);
    expect([...hash.keys()].sort()).toEqual([1, 2]);

    const message = 'written by c3, read by s4';
    c3.write(message);
    // The sk_msg program put c3's bytes in s4's receive queue (key `msg_target` = 2, BPF_F_INGRESS).
    expect(await until(() => atS4.text() === message)).toBe(true);
    expect(atS3.text()).toBe('');
    expect(counts.get(1)).toBe(BigInt(message.length));
  });

  it('names the mistakes: attach() without a map, a program or map of another kind, no fd', async () => {
    await using coll = await CollectionSpec.fromBytes(fixture('sockmap')).load();
    expect(() => coll.program('verdict').attach()).toThrow(
      expect.objectContaining({
        name: 'UsageError',
        message: expect.stringContaining('SEC("sk_skb/stream_verdict") runs on the sockets of a sockmap'),
        hint: expect.stringContaining('attachToMap(map)'),
      }),
    );

    expect(() => coll.program('verdict').attachToMap(coll.map('redirected'))).toThrow(
      /program verdict: map redirected \(array\) is not a sockmap or sockhash/,
    );
    expect(() =>
      coll.program('msg_verdict').attachToMap(coll.map('sock_map'), { attachType: 'streamVerdict' }),
    ).toThrow(UsageError);
    expect(() => new SockHash(coll.map('msg_hash'), u64)).toThrow(
      /map msg_hash: the key codec is 8 bytes, the map's keys are 4/,
    );
    expect(() => new SockMap(coll.map('msg_hash'))).toThrow(/map msg_hash \(sockhash\) does not fit SockMap/);
    expect(() => new SockHash(coll.map('msg_hash'), u32).cookie(1)).toThrow(
      /socket cookies only with 8-byte values/,
    );
    const unconnected = new (await import('node:net')).Socket();
    expect(() => new SockMap(coll.map('sock_map')).set(0, unconnected)).toThrow(/has no file descriptor/);
  });
});
