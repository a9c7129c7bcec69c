import { describe, expect, it } from 'vitest';
import { answersFor, type Subscription, subscriptionsOwed } from './webhook-subscriptions.ts';

const sub = (id: string, over: Partial<Subscription> = {}): Subscription => ({
  id,
  userId: 'u1',
  eventTypes: new Set(['JobCompleted']),
  workflowId: null,
  createdAt: new Date('2026-12-06T12:00:00Z'),
  ...over,
});

describe('the subscriptions owed an event', () => {
  const snapshot = {
    readAt: new Date('2026-12-06T12:00:10Z'),
    byUser: new Map([
      [
        'u1',
        [
          sub('all'),
          sub('one-workflow', { workflowId: 'w1' }),
          sub('other-workflow', { workflowId: 'w2' }),
          sub('other-type', { eventTypes: new Set(['JobFailed']) }),
          sub('created-later', { createdAt: new Date('2026-12-06T12:00:05Z') }),
        ],
      ],
    ]),
  };
  const event = { userId: 'u1', type: 'JobCompleted', occurredAt: '2026-12-06T12:00:01.000Z' };

  it('are the user’s of its type, created by then, for its workflow or all', () => {
    expect(subscriptionsOwed(snapshot, event, 'w1').map((s) => s.id)).toEqual(['all', 'one-workflow']);
    expect(subscriptionsOwed(snapshot, { ...event, userId: 'u2' }, 'w1')).toEqual([]);
  });

  it('are known from a snapshot only for events that occurred before it was read', () => {
    expect(answersFor(undefined, event.occurredAt)).toBe(false);
    expect(answersFor(snapshot, event.occurredAt)).toBe(true);
    expect(answersFor(snapshot, '2026-12-06T12:00:10.000Z')).toBe(false);
    expect(answersFor(snapshot, '2026-12-06T12:00:11.000Z')).toBe(false);
  });
});
