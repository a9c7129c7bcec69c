// Chronoverse's spans through @opentelemetry/api only: without the SDK (the default) every call here
// is a no-op of the API's, so instrumented code pays next to nothing when telemetry is off.
import {
  type Attributes,
  type Context,
  context,
  type Link,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { TELEMETRY_SHUTDOWN, TELEMETRY_STARTED } from './telemetry-state.ts';

export type { Attributes, Context, Link, Span };
export { SpanKind, SpanStatusCode };

// A proxy: it reports to whichever provider is registered when a span starts, and costs one
// allocation less per span than asking the API for the tracer each time.
const chronoverseTracer = trace.getTracer('chronoverse');

/** The tracer of Chronoverse's own spans (the instrumentation scope). */
export function tracer(): Tracer {
  return chronoverseTracer;
}

/** Whether the bootstrap started the SDK in this process. */
export function telemetryStarted(): boolean {
  return (globalThis as Record<symbol, unknown>)[TELEMETRY_STARTED] === true;
}

/** Flushes and stops the SDK, when the bootstrap started one: before the process exits. */
export async function shutdownTelemetry(): Promise<void> {
  const shutdown = (globalThis as Record<symbol, unknown>)[TELEMETRY_SHUTDOWN];
  if (typeof shutdown === 'function') await (shutdown as () => Promise<void>)().catch(() => {});
}

export interface SpanOptions {
  readonly kind?: SpanKind;
  readonly attributes?: Attributes;
  readonly links?: Link[];
  /** The parent; default the active context. ROOT_CONTEXT (or `root`) starts a new trace. */
  readonly parent?: Context;
  readonly root?: boolean;
}

/**
 * Runs `fn` inside a new active span and ends it when `fn` settles; a thrown error is recorded on
 * it (status ERROR) and rethrown.
 */
export function withSpan<T>(name: string, options: SpanOptions, fn: (span: Span) => Promise<T>): Promise<T> {
  return tracer().startActiveSpan(
    name,
    {
      kind: options.kind ?? SpanKind.INTERNAL,
      ...(options.attributes ? { attributes: options.attributes } : {}),
      ...(options.links?.length ? { links: options.links } : {}),
      ...(options.root ? { root: true } : {}),
    },
    options.parent ?? context.active(),
    async (span) => {
      try {
        return await fn(span);
      } catch (err) {
        failSpan(span, err);
        throw err;
      } finally {
        span.end();
      }
    },
  );
}

/** Marks a span failed by `err`: the exception as an event, status ERROR, `error.type`. */
export function failSpan(span: Span, err: unknown, type?: string): void {
  if (!span.isRecording()) return;
  if (err instanceof Error) span.recordException(err);
  span.setAttribute('error.type', type ?? (err instanceof Error ? err.name : 'error'));
  span.setStatus({
    code: SpanStatusCode.ERROR,
    ...(err instanceof Error ? { message: err.message } : {}),
  });
}

/**
 * The W3C trace context of the active span as `traceparent` / `tracestate` strings (empty when no
 * span is active or the SDK is off): stamped on the events a command appends, and passed to job
 * containers as TRACEPARENT.
 */
export function activeTraceContext(ctx: Context = context.active()): {
  traceparent?: string;
  tracestate?: string;
} {
  if (!trace.getSpanContext(ctx)) return {};
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return {
    ...(carrier.traceparent ? { traceparent: carrier.traceparent } : {}),
    ...(carrier.tracestate ? { tracestate: carrier.tracestate } : {}),
  };
}

/** The trace id of the active span, as `{ traceId }`, or `{}` when none is active. */
export function activeTraceId(): { traceId?: string } {
  const sc = trace.getSpanContext(context.active());
  return sc && trace.isSpanContextValid(sc) ? { traceId: sc.traceId } : {};
}

/** Runs `fn` with no active span: work started there is not part of the caller's trace. */
export function detached<T>(fn: () => T): T {
  return context.with(ROOT_CONTEXT, fn);
}
