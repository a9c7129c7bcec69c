// A separate OS process that fires a run of ticks on one workflow, as a scheduler replica would, and
// prints what it saw as JSON: used to race two processes on one actor.
import { CommandHandler } from '../../src/actors/command-handler.ts';
import { workflowDecider } from '../../src/actors/workflow-decider.ts';
import { EventStore } from '../../src/events/event-store.ts';
import { connectNats } from '../../src/infra/nats-connection.ts';
import { newId } from './fixtures.ts';

const [natsUrl, userId, workflowId, count, startAt] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
];
const nats = await connectNats(natsUrl, 'fire-ticks');
let conflicts = 0;
const handler = new CommandHandler(new EventStore(nats.js, nats.jsm), {
  onConflict: () => conflicts++,
  maxAttempts: 50,
});
// Wait for the go signal (a line on stdin) so that both processes start at the same instant.
await new Promise((r) => process.stdin.once('data', r));
let appended = 0;
let unchanged = 0;
for (let i = 0; i < Number(count); i++) {
  const nominal_at = new Date(Date.parse(startAt) + i * 60_000).toISOString();
  const r = await handler.handle(workflowDecider, {
    commandId: newId(),
    userId,
    aggregateId: workflowId,
    command: { type: 'FireTick', data: { nominal_at, job_id: newId(), overlap: 'allow' } },
  });
  if (r.events.length) appended++;
  else unchanged++;
}
process.stdout.write(`${JSON.stringify({ appended, unchanged, conflicts })}\n`);
await nats.nc.close();
