// Ring buffer or perf buffer events as OpenTelemetry log records, sent in batches by the OTLP/HTTP
// log exporter: each decoded event becomes one record whose attributes are its fields (nested
// structs flattened to `a.b`), for a collector that indexes them (Loki, Elasticsearch, ...).

import type { AnyValue, LogAttributes } from '@opentelemetry/api-logs';
import { importOptional } from './optional.js';
import { exporterOptions, type OtlpEndpoint, serviceResource } from './otlp.js';

type SdkLogs = typeof import('@opentelemetry/sdk-logs');
type OtlpLogs = typeof import('@opentelemetry/exporter-logs-otlp-http');

const usedFor = 'OpenTelemetry logs (tsbpf/metrics)';

/**
 * An event's fields as log attributes: numbers, strings and booleans as they are; bigints as
 * numbers when exact, else decimal strings (OTLP's int is 64-bit signed, JSON loses past 2^53);
 * typed arrays as arrays; nested objects flattened with dots.
 */
export function eventAttributes(event: unknown, prefix = '', into: LogAttributes = {}): LogAttributes {
  if (event === null || typeof event !== 'object' || Array.isArray(event) || ArrayBuffer.isView(event)) {
    into[prefix === '' ? 'value' : prefix] = attributeValue(event);
    return into;
  }
  for (const [name, value] of Object.entries(event)) {
    const key = prefix === '' ? name : `${prefix}.${name}`;
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && !ArrayBuffer.isView(value)) {
      eventAttributes(value, key, into);
    } else into[key] = attributeValue(value);
  }
  return into;
}

function attributeValue(value: unknown): AnyValue {
  if (typeof value === 'bigint')
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value instanceof Uint8Array) return value;
  if (ArrayBuffer.isView(value))
    return Array.from(value as unknown as ArrayLike<number | bigint>, attributeValue);
  if (Array.isArray(value)) return value.map(attributeValue);
  if (value === undefined) return null;
  return value as AnyValue;
}

/** `url` is the logs endpoint, e.g. http://collector:4318/v1/logs. */
export interface EventLogsOptions<T> extends OtlpEndpoint {
  /** The record's body (default: the event name, or none). */
  body?: (event: T) => string;
  /** Names the records (OpenTelemetry's event name), e.g. "process.exec". */
  eventName?: string;
  /** Attributes of an event (default: every field, see eventAttributes). */
  attributes?: (event: T) => LogAttributes;
  /** Longest wait before a batch is sent, in ms (default 1000), and largest batch (default 512). */
  delayMs?: number;
  maxBatch?: number;
}

export interface EventLogs {
  /** Resolves once the events ran out (the reader was closed), with how many were sent on. */
  readonly done: Promise<number>;
  /** Sends what is batched now. */
  flush(): Promise<void>;
  /** Sends what is batched and stops the exporter (close the reader first to end `done`). */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Reads `events` (a reader) until it ends and sends each as a log record, in batches. */
export async function exportEventsAsLogs<T>(
  events: AsyncIterable<T>,
  options: EventLogsOptions<T> = {},
): Promise<EventLogs> {
  const sdk = await importOptional<SdkLogs>('@opentelemetry/sdk-logs', usedFor);
  const { OTLPLogExporter } = await importOptional<OtlpLogs>(
    '@opentelemetry/exporter-logs-otlp-http',
    usedFor,
  );
  const exporter = new OTLPLogExporter(exporterOptions(options));
  const processor = new sdk.BatchLogRecordProcessor({
    exporter,
    scheduledDelayMillis: options.delayMs ?? 1000,
    maxExportBatchSize: options.maxBatch ?? 512,
  });
  const provider = new sdk.LoggerProvider({
    processors: [processor],
    ...(await serviceResource(options, usedFor)),
  });
  const logger = provider.getLogger('tsbpf/metrics');
  const attributes = options.attributes ?? ((event: T) => eventAttributes(event));
  const done = (async () => {
    let sent = 0;
    for await (const event of events) {
      logger.emit({
        ...(options.eventName === undefined ? {} : { eventName: options.eventName }),
        ...(options.body === undefined ? {} : { body: options.body(event) }),
        attributes: attributes(event),
      });
      sent++;
    }
    return sent;
  })();
  const close = () => provider.shutdown();
  return { done, flush: () => provider.forceFlush(), close, [Symbol.asyncDispose]: close };
}
