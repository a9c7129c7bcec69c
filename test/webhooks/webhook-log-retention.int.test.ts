// The delivery log keeps 30 days of finished deliveries: older delivered and failed rows go, pending
// ones stay at any age, and younger ones stay; a delivery of a deleted subscription goes.
import { describe, expect, it } from 'vitest';
import { pruneWebhookDeliveries, WEBHOOK_LOG_DAYS } from '../../src/reactors/webhook-log-retention.ts';
import { useTestEnvironment } from '../support/test-environment.ts';

const env = useTestEnvironment();
const DAY = 86_400_000;

describe('webhook delivery log retention', () => {
  it('deletes finished deliveries older than the retention and keeps the rest', async () => {
    const now = new Date('2026-12-06T12:00:00Z');
    const row = (id: string, status: 'pending' | 'delivered' | 'failed', ageDays: number) => ({
      id,
      webhook_id: 'w',
      user_id: 'u',
      event_id: id,
      event_type: 'JobCompleted',
      workflow_id: 'wf',
      sequence: 1,
      body: '{}',
      status,
      attempts: 0,
      created_at: new Date(now.getTime() - ageDays * DAY),
    });
    const old = WEBHOOK_LOG_DAYS + 1;
    await env.runtime.db
      .insertInto('webhooks')
      .values({
        id: 'w',
        user_id: 'u',
        url: 'https://example.com/',
        event_types: ['JobCompleted'],
        workflow_id: null,
        secret_sealed: 'x',
        enabled: true,
        disabled_reason: null,
        consecutive_failures: 0,
        created_at: now,
        updated_at: now,
      })
      .execute();
    await env.runtime.db
      .insertInto('webhook_deliveries')
      .values([
        row('old-delivered', 'delivered', old),
        row('old-failed', 'failed', old),
        row('old-pending', 'pending', old),
        row('young-delivered', 'delivered', WEBHOOK_LOG_DAYS - 1),
        { ...row('orphan-pending', 'pending', 0), webhook_id: 'deleted' },
      ])
      .execute();
    expect(await pruneWebhookDeliveries(env.runtime.db, now)).toBe(3);
    const left = await env.runtime.db.selectFrom('webhook_deliveries').select('id').orderBy('id').execute();
    expect(left.map((r) => r.id)).toEqual(['old-pending', 'young-delivered']);
  });
});
