// A veth pair between this host and a network namespace of the test's own, with addresses on a
// subnet derived from the pid (so concurrent test files don't collide), and its removal.
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';

export interface VethPair {
  ns: string;
  hostIf: string;
  nsIf: string;
  hostIp: string;
  nsIp: string;
  /** Runs a command inside the namespace and returns its stdout. */
  inNs(...args: string[]): string;
  /** Deletes the pair and the namespace (safe to call when creation failed half-way). */
  destroy(): void;
}

const sh = (...args: string[]) => execFileSync(args[0]!, args.slice(1), { stdio: 'pipe' }).toString();

/** Names and a /24 for prefix (e.g. 'tsbpf', 'ts'), unique to this process. */
export function vethNames(prefix: string, subnetBase: number): Omit<VethPair, 'inNs' | 'destroy'> {
  const tag = process.pid % 100000;
  const subnet = `10.${subnetBase + (tag % 50)}.${tag % 250}`;
  return {
    ns: `${prefix}-${tag}`,
    hostIf: `${prefix.slice(0, 2)}a${tag}`,
    nsIf: `${prefix.slice(0, 2)}b${tag}`,
    hostIp: `${subnet}.1`,
    nsIp: `${subnet}.2`,
  };
}

/** Creates the namespace and an up veth pair with both addresses (and lo up inside). */
export function createVethPair(prefix: string, subnetBase: number): VethPair {
  const names = vethNames(prefix, subnetBase);
  const inNs = (...args: string[]) => sh('ip', 'netns', 'exec', names.ns, ...args);
  const destroy = () => {
    for (const args of [
      ['ip', 'link', 'del', names.hostIf],
      ['ip', 'netns', 'del', names.ns],
    ]) {
      try {
        sh(...args);
      } catch {
        // gone with the namespace already, or never made
      }
    }
  };
  try {
    sh('ip', 'netns', 'add', names.ns);
    sh('ip', 'link', 'add', names.hostIf, 'type', 'veth', 'peer', 'name', names.nsIf, 'netns', names.ns);
    sh('ip', 'addr', 'add', `${names.hostIp}/24`, 'dev', names.hostIf);
    sh('ip', 'link', 'set', names.hostIf, 'up');
    inNs('ip', 'addr', 'add', `${names.nsIp}/24`, 'dev', names.nsIf);
    inNs('ip', 'link', 'set', names.nsIf, 'up');
    inNs('ip', 'link', 'set', 'lo', 'up');
  } catch (error) {
    destroy();
    throw error;
  }
  return { ...names, inNs, destroy };
}

/** Sends `n` UDP datagrams of 32 bytes to ip, port 9 (discard), one after another. */
export async function sendUdp(ip: string, n: number): Promise<void> {
  const socket = createSocket('udp4');
  for (let i = 0; i < n; i++) {
    await new Promise<void>((resolve, reject) =>
      socket.send(Buffer.alloc(32), 9, ip, (e) => (e ? reject(e) : resolve())),
    );
  }
  socket.close();
}
