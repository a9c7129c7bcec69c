// Correlated logs: a line written while a span is active names its trace and span; none otherwise.
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLogger } from './logger.ts';

const provider = new TracerProvider();
beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
});
afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  context.disable();
});

it('adds trace_id and span_id inside a span, and nothing outside', () => {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger('test', 'info', (l) => lines.push(JSON.parse(l)));
  log.info('outside');
  trace.getTracer('t').startActiveSpan('work', (span) => {
    log.child('inner').warn('inside', { n: 1 });
    span.end();
  });
  expect(lines[0]).not.toHaveProperty('trace_id');
  expect(lines[1]).toMatchObject({ msg: 'inside', component: 'test.inner', n: 1 });
  expect(lines[1]?.trace_id).toMatch(/^[0-9a-f]{32}$/);
  expect(lines[1]?.span_id).toMatch(/^[0-9a-f]{16}$/);
});
