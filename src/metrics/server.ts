// The HTTP side of an exporter: GET /metrics renders the registry (reading the maps), GET /ready
// answers 200 once the probe says it is attached and 503 before and while it stops, for a
// Kubernetes readinessProbe. Nothing else is served.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { UsageError } from '../errors.js';

export interface MetricsServerOptions {
  registry: Registry;
  /** TCP port (default 9464, the exporter port OpenTelemetry's Prometheus exporter uses; 0: any free one). */
  port?: number;
  /** Address to listen on (default every interface: Prometheus scrapes from another host or pod). */
  host?: string;
  /** Start ready (default false: call setReady(true) once the programs are attached). */
  ready?: boolean;
}

export interface MetricsServer {
  /** Where it listens, e.g. http://127.0.0.1:9464 (host as given, or 127.0.0.1 for every interface). */
  readonly url: string;
  readonly port: number;
  setReady(ready: boolean): void;
  /** Stops listening and ends open connections. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Why listen() failed, by errno: each a mistake in the host or port given. */
const listenHints: Record<string, string> = {
  EADDRINUSE: 'another process listens there; choose another port (port: 0 picks a free one)',
  EACCES: 'ports below 1024 need root or CAP_NET_BIND_SERVICE; choose a port from 1024 up',
  EADDRNOTAVAIL: 'choose an address of this host (0.0.0.0: every interface)',
  // getaddrinfo() found no address for the host name (EAI_AGAIN: the resolver did not answer).
  ENOTFOUND: 'choose an address or name of this host (0.0.0.0: every interface)',
  EAI_AGAIN: 'choose an address or name of this host (0.0.0.0: every interface)',
};

/** Serves /metrics and /ready; resolves once listening, fails clearly when the port is taken. */
export async function serveMetrics(options: MetricsServerOptions): Promise<MetricsServer> {
  const { registry } = options;
  let ready = options.ready ?? false;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/metrics') {
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (error: unknown) =>
          res
            .writeHead(500, { 'content-type': 'text/plain; charset=utf-8' })
            .end(`reading the maps failed: ${error instanceof Error ? error.message : String(error)}\n`),
      );
    } else if (path === '/ready') {
      res
        .writeHead(ready ? 200 : 503, { 'content-type': 'text/plain; charset=utf-8' })
        .end(ready ? 'ready\n' : 'not ready\n');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('try /metrics or /ready\n');
    }
  });
  const port = options.port ?? 9464;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`metrics port ${String(options.port)} is not a TCP port`, {
      hint: 'pass a whole number from 1 to 65535 (0 picks a free one)',
    });
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const hint = listenHints[error.code ?? ''];
      if (hint === undefined) reject(error);
      else {
        reject(
          new UsageError(`cannot serve metrics on ${options.host ?? '*'}:${port}: ${error.code}`, {
            cause: error,
            hint,
          }),
        );
      }
    });
    server.listen(port, options.host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  const shownHost =
    options.host === undefined || options.host === '0.0.0.0' || options.host === '::'
      ? '127.0.0.1'
      : options.host;
  const close = () =>
    new Promise<void>((resolve) => {
      ready = false;
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return {
    url: `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${bound}`,
    port: bound,
    setReady(value: boolean) {
      ready = value;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
