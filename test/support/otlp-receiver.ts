// A small OTLP/HTTP receiver for tests: the real protocol (JSON encoding, `OTEL_EXPORTER_OTLP_PROTOCOL
// =http/json`) on a local port, collecting every span and metric the processes export to it. No part
// of the SDK is mocked: the roles run it as in production and export over HTTP.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedSpan {
  readonly service: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly name: string;
  /** OTLP span kind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  readonly kind: number;
  readonly attributes: Record<string, unknown>;
  readonly links: readonly { traceId: string; spanId: string }[];
  readonly startNanos: bigint;
  readonly endNanos: bigint;
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  readonly statusCode: number;
}

export interface ReceivedMetric {
  readonly service: string;
  readonly name: string;
  readonly unit: string;
  /** Each data point's attributes and value (sum, gauge value, or histogram count and sum). */
  readonly points: readonly {
    attributes: Record<string, unknown>;
    value?: number;
    count?: number;
    sum?: number;
  }[];
}

export const SpanKinds = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 } as const;

type AnyValue = {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
};
type KeyValue = { key: string; value: AnyValue };

function attributes(list: readonly KeyValue[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of list ?? []) {
    out[key] =
      value.stringValue ??
      (value.intValue !== undefined ? Number(value.intValue) : undefined) ??
      value.doubleValue ??
      value.boolValue;
  }
  return out;
}

export interface OtlpReceiver {
  readonly url: string;
  readonly spans: ReceivedSpan[];
  readonly metrics: ReceivedMetric[];
  close(): Promise<void>;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const metrics: ReceivedMetric[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
        if (req.url === '/v1/traces') collectSpans(body, spans);
        else if (req.url === '/v1/metrics') collectMetrics(body, metrics);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    metrics,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

function serviceOf(resource: { attributes?: KeyValue[] } | undefined): string {
  return String(attributes(resource?.attributes)['service.name'] ?? '');
}

function collectSpans(body: { resourceSpans?: unknown[] }, into: ReceivedSpan[]): void {
  for (const rs of (body.resourceSpans ?? []) as {
    resource?: { attributes?: KeyValue[] };
    scopeSpans?: { spans?: Record<string, unknown>[] }[];
  }[]) {
    const service = serviceOf(rs.resource);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        into.push({
          service,
          traceId: String(s.traceId),
          spanId: String(s.spanId),
          parentSpanId: String(s.parentSpanId ?? ''),
          name: String(s.name),
          kind: Number(s.kind),
          attributes: attributes(s.attributes as KeyValue[]),
          links: ((s.links ?? []) as { traceId: string; spanId: string }[]).map((l) => ({
            traceId: l.traceId,
            spanId: l.spanId,
          })),
          startNanos: BigInt(String(s.startTimeUnixNano)),
          endNanos: BigInt(String(s.endTimeUnixNano)),
          statusCode: Number((s.status as { code?: number } | undefined)?.code ?? 0),
        });
      }
    }
  }
}

function collectMetrics(body: { resourceMetrics?: unknown[] }, into: ReceivedMetric[]): void {
  for (const rm of (body.resourceMetrics ?? []) as {
    resource?: { attributes?: KeyValue[] };
    scopeMetrics?: { metrics?: Record<string, unknown>[] }[];
  }[]) {
    const service = serviceOf(rm.resource);
    for (const sm of rm.scopeMetrics ?? []) {
      for (const m of sm.metrics ?? []) {
        const data = (m.sum ?? m.gauge ?? m.histogram) as
          | { dataPoints?: Record<string, unknown>[] }
          | undefined;
        into.push({
          service,
          name: String(m.name),
          unit: String(m.unit ?? ''),
          points: (data?.dataPoints ?? []).map((p) => ({
            attributes: attributes(p.attributes as KeyValue[]),
            ...(p.asInt !== undefined ? { value: Number(p.asInt) } : {}),
            ...(p.asDouble !== undefined ? { value: Number(p.asDouble) } : {}),
            ...(p.count !== undefined ? { count: Number(p.count) } : {}),
            ...(p.sum !== undefined ? { sum: Number(p.sum) } : {}),
          })),
        });
      }
    }
  }
}
