// Trace context across NATS headers, and the shapes of the messaging spans, with the real SDK's
// in-memory exporter (no mock of the API): headers are read whatever their case, a message without
// them starts a new trace, a PRODUCER span's own context is what travels, a CONSUMER span of one
// message is its child and links to it, and a batch span is a root with one link per message.
import { context, propagation, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  extractTraceContext,
  headerValue,
  injectTraceHeaders,
  messageSpanContext,
  processBatch,
  processMessage,
  tracedPublish,
} from './messaging.ts';
import { activeTraceContext } from './tracing.ts';

/** Headers as nats.js keeps them: case-sensitive keys, "" for an absent one. */
class FakeHeaders {
  readonly map = new Map<string, string>();
  get(k: string): string {
    return this.map.get(k) ?? '';
  }
  set(k: string, v: string): void {
    this.map.set(k, v);
  }
  keys(): string[] {
    return [...this.map.keys()];
  }
}

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${SPAN_ID}-01`;

describe('header propagation without an SDK', () => {
  it('injects nothing and extracts nothing: the API is a no-op', () => {
    const h = new FakeHeaders();
    injectTraceHeaders(h);
    expect(h.keys()).toEqual([]);
    const incoming = new FakeHeaders();
    incoming.set('traceparent', TRACEPARENT);
    expect(messageSpanContext(incoming)).toBeUndefined();
    expect(activeTraceContext()).toEqual({});
  });

  it('reads a header in any case', () => {
    const h = new FakeHeaders();
    h.set('TraceParent', TRACEPARENT);
    expect(headerValue(h, 'traceparent')).toBe(TRACEPARENT);
    expect(headerValue(h, 'TRACEPARENT')).toBe(TRACEPARENT);
    expect(headerValue(h, 'tracestate')).toBeUndefined();
    expect(headerValue(undefined, 'traceparent')).toBeUndefined();
  });
});

describe('with the SDK', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const contextManager = new AsyncLocalStorageContextManager();

  beforeAll(() => {
    contextManager.enable();
    context.setGlobalContextManager(contextManager);
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(provider);
  });
  afterAll(async () => {
    await provider.shutdown();
    trace.disable();
    propagation.disable();
    context.disable();
  });
  beforeEach(() => exporter.reset());
  /** The SimpleSpanProcessor exports asynchronously: flush before reading. */
  const finished = async () => {
    await provider.forceFlush();
    return exporter.getFinishedSpans();
  };

  it('extracts traceparent and tracestate whatever the header case', () => {
    for (const [tp, ts] of [
      ['traceparent', 'tracestate'],
      ['Traceparent', 'Tracestate'],
      ['TRACEPARENT', 'TRACESTATE'],
    ] as const) {
      const h = new FakeHeaders();
      h.set(tp, TRACEPARENT);
      h.set(ts, 'vendor=value');
      const sc = messageSpanContext(h);
      expect(sc?.traceId).toBe(TRACE_ID);
      expect(sc?.spanId).toBe(SPAN_ID);
      expect(sc?.isRemote).toBe(true);
      expect(sc?.traceState?.get('vendor')).toBe('value');
    }
  });

  it('a message without (or with a malformed) traceparent has no context: it never joins the receiver’s span', async () => {
    await trace.getTracer('t').startActiveSpan('receiver', async (receiver) => {
      expect(trace.getSpanContext(extractTraceContext(new FakeHeaders()))).toBeUndefined();
      expect(trace.getSpanContext(extractTraceContext(undefined))).toBeUndefined();
      const bad = new FakeHeaders();
      bad.set('traceparent', '00-zz-yy-01');
      expect(messageSpanContext(bad)).toBeUndefined();
      receiver.end();
    });
  });

  it('round-trips the active context through headers', async () => {
    await trace.getTracer('t').startActiveSpan('parent', async (parent) => {
      const h = new FakeHeaders();
      injectTraceHeaders(h);
      expect(h.get('traceparent')).toBe(
        `00-${parent.spanContext().traceId}-${parent.spanContext().spanId}-01`,
      );
      expect(messageSpanContext(h)?.spanId).toBe(parent.spanContext().spanId);
      expect(activeTraceContext().traceparent).toBe(h.get('traceparent'));
      parent.end();
    });
  });

  it('a PRODUCER span per publish, whose own context the message carries', async () => {
    const h = new FakeHeaders();
    await trace.getTracer('t').startActiveSpan('request', async (request) => {
      await tracedPublish(
        { template: 'cv.evt.{user_id}.job.{job_id}', subject: 'cv.evt.u1.job.j1', messageId: 'cmd-1' },
        h,
        async () => 7,
      );
      request.end();
    });
    const [send, request] = await finished();
    expect(send?.name).toBe('send cv.evt.{user_id}.job.{job_id}');
    expect(send?.kind).toBe(SpanKind.PRODUCER);
    expect(send?.parentSpanContext?.spanId).toBe(request?.spanContext().spanId);
    expect(send?.attributes).toMatchObject({
      'messaging.system': 'nats',
      'messaging.operation.type': 'send',
      'messaging.destination.name': 'cv.evt.u1.job.j1',
      'messaging.message.id': 'cmd-1',
    });
    expect(h.get('traceparent')).toContain(send?.spanContext().spanId);
  });

  it('a failed publish marks its span ERROR and rethrows', async () => {
    await expect(
      tracedPublish({ template: 's', subject: 's' }, new FakeHeaders(), async () => {
        throw new TypeError('boom');
      }),
    ).rejects.toThrow('boom');
    const [send] = await finished();
    expect(send?.status.code).toBe(2);
    expect(send?.attributes['error.type']).toBe('TypeError');
  });

  it('a CONSUMER span per message: the child of the message’s context, linked to it, not of the active span', async () => {
    const h = new FakeHeaders();
    h.set('traceparent', TRACEPARENT);
    await trace.getTracer('t').startActiveSpan('unrelated', async (unrelated) => {
      await processMessage(
        { template: 'cv.evt.{user_id}.job.{job_id}', subject: 'cv.evt.u.job.j', consumer: 'reactor_x' },
        h,
        async () => {
          // Inside, the processing span is active: what it sends continues the message's trace.
          expect(trace.getActiveSpan()?.spanContext().traceId).toBe(TRACE_ID);
        },
      );
      unrelated.end();
    });
    const process = (await finished()).find((s) => s.name.startsWith('process'));
    expect(process?.kind).toBe(SpanKind.CONSUMER);
    expect(process?.spanContext().traceId).toBe(TRACE_ID);
    expect(process?.parentSpanContext?.spanId).toBe(SPAN_ID);
    expect(process?.links.map((l) => l.context.spanId)).toEqual([SPAN_ID]);
    expect(process?.attributes['messaging.consumer.group.name']).toBe('reactor_x');
  });

  it('a message without context gets a CONSUMER span in a new trace', async () => {
    await processMessage({ template: 't', subject: 't', consumer: 'c' }, new FakeHeaders(), async () => {});
    const [process] = await finished();
    expect(process?.parentSpanContext).toBeUndefined();
    expect(process?.links).toEqual([]);
  });

  it('a batch span is a root of its own trace with one link per message', async () => {
    const links = ['00f067aa0ba902b1', '00f067aa0ba902b2'].map((spanId) => ({
      traceId: TRACE_ID,
      spanId,
      traceFlags: 1,
      isRemote: true,
    }));
    await context.with(trace.setSpanContext(ROOT_CONTEXT, links[0]!), () =>
      processBatch({ template: 'cv.evt.>', consumer: 'read_models', count: 3, links }, async () => {}),
    );
    const [batch] = await finished();
    expect(batch?.parentSpanContext).toBeUndefined();
    expect(batch?.spanContext().traceId).not.toBe(TRACE_ID);
    expect(batch?.links.map((l) => l.context.spanId)).toEqual(links.map((l) => l.spanId));
    expect(batch?.attributes['messaging.batch.message_count']).toBe(3);
  });
});
