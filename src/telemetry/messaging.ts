// Trace context across NATS, which has no official instrumentation for nats.js v3: W3C `traceparent`
// and `tracestate` in message headers, read whatever their case (NATS headers are case-sensitive and
// another client may write `Traceparent`), and the spans of the messaging semantic conventions
// (PRODUCER `send <subject template>`, CONSUMER `process <subject template>`) with
// `messaging.system=nats`. Header access goes through a minimal interface that nats.js's MsgHdrs
// satisfies, so the carrier logic is pure and tested without a server.
import {
  type Context,
  context,
  type Link,
  propagation,
  ROOT_CONTEXT,
  type SpanContext,
  SpanKind,
  type TextMapGetter,
  type TextMapSetter,
  trace,
} from '@opentelemetry/api';
import { type Span, withSpan } from './tracing.ts';

/** What a carrier needs of NATS headers (MsgHdrs has all of it). */
export interface HeaderReader {
  get(key: string): string;
  keys(): string[];
}
export interface HeaderWriter {
  set(key: string, value: string): void;
}

/** A header's value by name, in any case; `undefined` when absent or empty. */
export function headerValue(headers: HeaderReader | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const exact = headers.get(name);
  if (exact) return exact;
  const lower = name.toLowerCase();
  for (const key of headers.keys()) {
    if (key.toLowerCase() === lower) {
      const v = headers.get(key);
      if (v) return v;
    }
  }
  return undefined;
}

export const natsHeaderGetter: TextMapGetter<HeaderReader | undefined> = {
  keys: (headers) => headers?.keys() ?? [],
  get: (headers, key) => headerValue(headers, key),
};

export const natsHeaderSetter: TextMapSetter<HeaderWriter> = {
  set: (headers, key, value) => headers.set(key, value),
};

/** Writes the trace context of `ctx` (default: the active one) into the headers; nothing when there is none. */
export function injectTraceHeaders(headers: HeaderWriter, ctx: Context = context.active()): void {
  propagation.inject(ctx, headers, natsHeaderSetter);
}

/**
 * The context a message's headers carry, on top of an empty context: never the receiver's active
 * span, so a message without headers starts a new trace rather than joining an unrelated one.
 */
export function extractTraceContext(headers: HeaderReader | undefined): Context {
  return propagation.extract(ROOT_CONTEXT, headers, natsHeaderGetter);
}

/** The span context a message's headers carry, when it carries a valid one. */
export function messageSpanContext(headers: HeaderReader | undefined): SpanContext | undefined {
  if (!headers) return undefined;
  const sc = trace.getSpanContext(extractTraceContext(headers));
  return sc && trace.isSpanContextValid(sc) ? sc : undefined;
}

export interface PublishSpan {
  /** The subject with its ids replaced by placeholders: the span's name and a low-cardinality attribute. */
  readonly template: string;
  readonly subject: string;
  readonly messageId?: string;
  readonly attributes?: Record<string, string | number | boolean>;
}

/**
 * A PRODUCER span `send <template>` around one publish; `publish` gets the headers' writer run
 * inside the span, so the message carries the span's own context.
 */
export function tracedPublish<T>(
  p: PublishSpan,
  headers: HeaderWriter,
  publish: (span: Span) => Promise<T>,
): Promise<T> {
  return withSpan(
    `send ${p.template}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': 'nats',
        'messaging.operation.type': 'send',
        'messaging.operation.name': 'publish',
        'messaging.destination.name': p.subject,
        'messaging.destination.template': p.template,
        ...(p.messageId ? { 'messaging.message.id': p.messageId } : {}),
        ...p.attributes,
      },
    },
    (span) => {
      injectTraceHeaders(headers);
      return publish(span);
    },
  );
}

export interface ConsumeSpan {
  readonly template: string;
  /** The durable consumer (reactor, executor pool, projection): `messaging.consumer.group.name`. */
  readonly consumer: string;
  readonly attributes?: Record<string, string | number | boolean>;
}

/**
 * A CONSUMER span `process <template>` for one message, parented to the context the message
 * carries (so a trace goes on across the hop) and linked to it, as the conventions ask of a span
 * that processes a single message. Only for messages delivered live: a replay never calls this.
 */
export function processMessage<T>(
  c: ConsumeSpan & { readonly subject: string; readonly messageId?: string },
  headers: HeaderReader | undefined,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = extractTraceContext(headers);
  const sc = trace.getSpanContext(parent);
  const links: Link[] = sc && trace.isSpanContextValid(sc) ? [{ context: sc }] : [];
  return withSpan(
    `process ${c.template}`,
    {
      kind: SpanKind.CONSUMER,
      parent,
      links,
      attributes: {
        'messaging.system': 'nats',
        'messaging.operation.type': 'process',
        'messaging.destination.name': c.subject,
        'messaging.destination.template': c.template,
        'messaging.consumer.group.name': c.consumer,
        ...(c.messageId ? { 'messaging.message.id': c.messageId } : {}),
        ...c.attributes,
      },
    },
    fn,
  );
}

/**
 * A CONSUMER span for a batch of messages: a new trace (never a child of the messages' contexts),
 * with one link per message that carried a context (the SDK keeps the first 128).
 */
export function processBatch<T>(
  c: ConsumeSpan & { readonly count: number; readonly links: readonly SpanContext[] },
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  return withSpan(
    `process ${c.template}`,
    {
      kind: SpanKind.CONSUMER,
      root: true,
      links: c.links.map((l) => ({ context: l })),
      attributes: {
        'messaging.system': 'nats',
        'messaging.operation.type': 'process',
        'messaging.destination.template': c.template,
        'messaging.consumer.group.name': c.consumer,
        'messaging.batch.message_count': c.count,
        ...c.attributes,
      },
    },
    fn,
  );
}
