// Run as `node --import tsx test/support/telemetry-probe.ts`: loads the telemetry bootstrap and then
// the application's modules as a role process does, and prints which OpenTelemetry SDK modules
// (SDK, exporters, instrumentations, the loader hook) were loaded, as JSON on stdout.
import { registerHooks } from 'node:module';

const loaded: string[] = [];
registerHooks({
  resolve(specifier, context, next) {
    const result = next(specifier, context);
    loaded.push(result.url);
    return result;
  },
});

await import('../../src/telemetry/bootstrap.ts');
await import('../../src/runtime/runtime.ts');
await import('../../src/roles/registry.ts');
const { telemetryStarted } = await import('../../src/telemetry/tracing.ts');
const sdk = [
  ...new Set(
    loaded
      .map((u) => /node_modules\/((?:@opentelemetry\/[^/]+)|import-in-the-middle)\//.exec(u)?.[1])
      .filter((m): m is string => m !== undefined && m !== '@opentelemetry/api'),
  ),
].sort();
process.stdout.write(`${JSON.stringify({ started: telemetryStarted(), sdk })}\n`);
const shutdown = (globalThis as Record<symbol, unknown>)[Symbol.for('chronoverse.telemetry.shutdown')];
if (typeof shutdown === 'function') await shutdown();
process.exit(0);
