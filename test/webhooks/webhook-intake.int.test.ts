// The webhook intake as a projection (real NATS and PostgreSQL): a batch records the deliveries its
// events owe, in the batch's transaction, and nothing for users without a subscription; the first
// start after the intake was a durable consumer of its own takes over that consumer's position and
// removes it.
import { randomUUID } from 'node:crypto';
import { AckPolicy } from '@nats-io/jetstream';
import { describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../src/events/envelope.ts';
import type { StoredCommit } from '../../src/events/event-store.ts';
import { streamNames } from '../../src/events/stream-definitions.ts';
import { readCheckpoint } from '../../src/projections/checkpoint.ts';
import { applyBatch } from '../../src/projections/projection-batch.ts';
import { adoptIntakeConsumer, WEBHOOK_INTAKE, webhookIntake } from '../../src/projections/webhook-intake.ts';
import { jobCreated } from '../support/job-fixtures.ts';
import { useTestEnvironment } from '../support/test-environment.ts';

const env = useTestEnvironment();

function envelope(
  userId: string,
  aggregate: 'job' | 'workflow',
  aggregateId: string,
  event: { type: string; data: unknown },
  occurredAt: Date,
): EventEnvelope {
  return {
    id: randomUUID(),
    version: 1,
    aggregate,
    aggregateId,
    userId,
    occurredAt: occurredAt.toISOString(),
    correlationId: randomUUID(),
    causationId: randomUUID(),
    ...event,
  } as EventEnvelope;
}

describe('webhook intake', () => {
  it('records the deliveries a batch owes in its transaction, finding a job’s workflow in the batch', async () => {
    const db = env.runtime.db;
    const subscribed = randomUUID();
    const other = randomUUID();
    const created = new Date(Date.now() - 60_000);
    await db
      .insertInto('webhooks')
      .values({
        id: 'wh-intake',
        user_id: subscribed,
        url: 'https://example.com/hook',
        event_types: ['JobCompleted'],
        workflow_id: null,
        secret_sealed: 'x',
        enabled: true,
        disabled_reason: null,
        consecutive_failures: 0,
        created_at: created,
        updated_at: created,
      })
      .execute();
    const at = new Date(Date.now() - 1000);
    const commit = (sequence: number, userId: string, events: EventEnvelope[]): StoredCommit => ({
      sequence,
      subject: `cv.evt.${userId}.job.${events[0]!.aggregateId}`,
      events,
    });
    const job = (userId: string, jobId: string) => [
      commit(1, userId, [
        envelope(
          userId,
          'job',
          jobId,
          {
            ...jobCreated,
            data: { ...jobCreated.data, job_id: jobId, user_id: userId, workflow_id: 'wf-of-job' },
          },
          at,
        ),
      ]),
      commit(2, userId, [
        envelope(userId, 'job', jobId, { type: 'JobCompleted', data: { attempt: 1, exit_code: 0 } }, at),
      ]),
    ];
    const mine = job(subscribed, 'job-mine');
    const theirs = job(other, 'job-theirs').map((c) => ({ ...c, sequence: c.sequence + 2 }));
    // The job subjects are not in the log (a read finds no job, no workflow): 'wf-of-job' can only come
    // from the batch's JobCreated.
    const intake = webhookIntake({ db, commands: env.runtime.commands, now: () => new Date() });
    expect(await applyBatch(db, intake, [...mine, ...theirs], 4)).toBe(4);
    const rows = await db
      .selectFrom('webhook_deliveries')
      .select(['webhook_id', 'user_id', 'event_type', 'workflow_id', 'sequence', 'status'])
      .execute();
    expect(rows).toEqual([
      {
        webhook_id: 'wh-intake',
        user_id: subscribed,
        event_type: 'JobCompleted',
        workflow_id: 'wf-of-job',
        sequence: 2,
        status: 'pending',
      },
    ]);
    expect(await readCheckpoint(db, WEBHOOK_INTAKE)).toBe(4);
    // The same commits again (a redelivery after a crash) record nothing twice.
    await db.deleteFrom('projection_checkpoints').where('projection', '=', WEBHOOK_INTAKE).execute();
    await applyBatch(db, intake, mine, 2);
    expect(await db.selectFrom('webhook_deliveries').select('id').execute()).toHaveLength(1);
  });

  it('takes over the position of the durable consumer it used to be, once, and deletes that consumer', async () => {
    const { nats, db } = env.runtime;
    await db.deleteFrom('projection_checkpoints').where('projection', '=', WEBHOOK_INTAKE).execute();
    const userId = randomUUID();
    for (let i = 0; i < 3; i++) {
      await nats.js.publish(`cv.evt.${userId}.workflow.wf-${i}`, new TextEncoder().encode('[]'));
    }
    await nats.jsm.consumers.add(streamNames.events, {
      durable_name: WEBHOOK_INTAKE,
      ack_policy: AckPolicy.Explicit,
      filter_subjects: [`cv.evt.${userId}.workflow.>`],
    });
    const consumer = await nats.js.consumers.get(streamNames.events, WEBHOOK_INTAKE);
    const acked: number[] = [];
    for (let i = 0; i < 2; i++) {
      const m = await consumer.next({ expires: 5000 });
      if (!m) throw new Error('no message');
      await m.ackAck();
      acked.push(m.seq);
    }
    const floor = (await nats.jsm.consumers.info(streamNames.events, WEBHOOK_INTAKE)).ack_floor.stream_seq;
    expect(floor).toBe(acked[1]);

    await adoptIntakeConsumer(nats, db);
    expect(await readCheckpoint(db, WEBHOOK_INTAKE)).toBe(floor);
    await expect(nats.jsm.consumers.info(streamNames.events, WEBHOOK_INTAKE)).rejects.toThrow(
      /consumer not found/,
    );
    // Started again: nothing to adopt, the checkpoint stays where the intake has taken it since.
    await db
      .updateTable('projection_checkpoints')
      .set({ last_sequence: floor + 1 })
      .where('projection', '=', WEBHOOK_INTAKE)
      .execute();
    await adoptIntakeConsumer(nats, db);
    expect(await readCheckpoint(db, WEBHOOK_INTAKE)).toBe(floor + 1);
  });
});
