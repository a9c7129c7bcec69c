// A separate OS process that takes an executor id lease and holds it, refreshing, until it is killed:
// the holder the lease tests SIGKILL (test/executor/executor-id-lease.int.test.ts). Arguments: the
// NATS URL, the id, the lease's timing and the holder it names, as JSON.
import { ExecutorIdLease } from '../../src/executor/executor-id-lease.ts';
import { connectNats } from '../../src/infra/nats-connection.ts';
import { createLogger } from '../../src/telemetry/logger.ts';

const [url, id, options] = process.argv.slice(2) as [string, string, string];
const nats = await connectNats(url, 'lease-holder');
await new ExecutorIdLease(nats.nc, id, createLogger('lease-holder', 'error'), JSON.parse(options)).acquire();
process.stdout.write('held\n');
