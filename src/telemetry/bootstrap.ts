// The OpenTelemetry bootstrap, loaded before the application with `node --import tsx --import
// ./src/telemetry/bootstrap.ts` (bin/chronoverse, `npm start`, the Dockerfile and the tests' role
// processes all do). When the standard variables do not ask for telemetry (see otel-env.ts) it reads
// them and returns: no SDK, no exporter and no loader hook are loaded, and the application's calls of
// @opentelemetry/api stay no-ops. When they do, the SDK starts here, before the application's modules
// are imported, so that the ESM hook sees `pg` load.
import { isMainThread } from 'node:worker_threads';
import { sdkWanted } from './otel-env.ts';

if (isMainThread && sdkWanted(process.env)) {
  const { startSdk } = await import('./sdk.ts');
  await startSdk();
}
