// What the OTLP exports (metrics and logs) set up alike: the exporter's endpoint options and
// the resource that names the service.

import { importOptional } from './optional.js';

type Resources = typeof import('@opentelemetry/resources');

export interface OtlpEndpoint {
  /** The collector's OTLP/HTTP endpoint (default: the OTEL_EXPORTER_OTLP_* variables, else localhost:4318). */
  url?: string;
  headers?: Record<string, string>;
  /** The `service.name` resource attribute (default: OTEL_SERVICE_NAME, else the SDK's). */
  serviceName?: string;
}

/** The url and headers given, as an OTLP/HTTP exporter's options (absent ones left to the SDK). */
export function exporterOptions(endpoint: OtlpEndpoint): { url?: string; headers?: Record<string, string> } {
  return {
    ...(endpoint.url === undefined ? {} : { url: endpoint.url }),
    ...(endpoint.headers === undefined ? {} : { headers: endpoint.headers }),
  };
}

/** `{ resource }` naming the service for a MeterProvider or LoggerProvider, or nothing. */
export async function serviceResource(endpoint: OtlpEndpoint, usedFor: string) {
  if (endpoint.serviceName === undefined) return {};
  const { resourceFromAttributes } = await importOptional<Resources>('@opentelemetry/resources', usedFor);
  return { resource: resourceFromAttributes({ 'service.name': endpoint.serviceName }) };
}
