// Starts the OpenTelemetry Node SDK (the 3.x line) from the standard OTEL_* variables: exporters
// (OTLP over HTTP or gRPC, Prometheus, console), sampler, resource, propagators (W3C trace context and
// baggage). Only bootstrap.ts imports this module, and only when telemetry is wanted: it is the one
// place of src/ that knows the SDK (the dependency rules say so); everything else uses
// @opentelemetry/api. Instrumented libraries: `pg` (through the ESM loader hook, registered here for
// the modules the instrumentations name and no other) and undici (Node's fetch, by diagnostics
// channel). Chronoverse's own spans and metrics come from the application through the API.
import { register } from 'node:module';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { createAddHookMessageChannel } from 'import-in-the-middle';
import { TELEMETRY_SHUTDOWN, TELEMETRY_STARTED } from './telemetry-state.ts';

export async function startSdk(): Promise<void> {
  // Chronoverse's logs are its own JSON lines on stdout; the SDK exports no log records unless asked.
  process.env.OTEL_LOGS_EXPORTER ??= 'none';
  process.env.OTEL_SERVICE_NAME ??= 'chronoverse';
  const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
  register('import-in-the-middle/hook.mjs', import.meta.url, registerOptions);
  const sdk = new NodeSDK({
    instrumentations: [
      // A span per query, under whatever span is active; none for a query with no span above it
      // (the scheduler's refresh every 2 s, the projections' checkpoints) unless it is part of a trace.
      new PgInstrumentation({ requireParentSpan: true, enhancedDatabaseReporting: false }),
      new UndiciInstrumentation({ requireParentforSpans: true }),
    ],
  });
  sdk.start();
  await waitForAllMessagesAcknowledged();
  const state = globalThis as Record<symbol, unknown>;
  state[TELEMETRY_STARTED] = true;
  state[TELEMETRY_SHUTDOWN] = () => sdk.shutdown();
}
