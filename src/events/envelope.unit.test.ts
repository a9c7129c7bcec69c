import { describe, expect, it } from 'vitest';
import { ValidationError } from '../errors.ts';
import { CURRENT_EVENT_VERSIONS, createUpcast, EVENT_AGGREGATES, toEnvelopes, upcast } from './envelope.ts';

const now = new Date('2026-01-02T03:04:05.000Z');

function counterIds(): () => string {
  let n = 0;
  return () => `evt-${++n}`;
}

const stored = {
  id: 'evt-1',
  type: 'UserRegistered',
  version: 1,
  aggregate: 'user',
  aggregateId: 'u1',
  userId: 'u1',
  occurredAt: now.toISOString(),
  correlationId: 'corr',
  causationId: 'cause',
  data: { user_id: 'u1', email: 'a@example.com' },
};

describe('toEnvelopes', () => {
  it('wraps events in order with fresh ids, the decision time and the current version', () => {
    const envelopes = toEnvelopes(
      'workflow',
      'wf1',
      'u1',
      [
        { type: 'WorkflowPaused', data: {} },
        { type: 'WorkflowResumed', data: {} },
      ],
      { newId: counterIds(), now, correlationId: 'corr', causationId: 'cmd-1', traceparent: '00-abc-def-01' },
    );
    expect(envelopes).toEqual([
      {
        id: 'evt-1',
        type: 'WorkflowPaused',
        version: 1,
        aggregate: 'workflow',
        aggregateId: 'wf1',
        userId: 'u1',
        occurredAt: '2026-01-02T03:04:05.000Z',
        correlationId: 'corr',
        causationId: 'cmd-1',
        traceparent: '00-abc-def-01',
        data: {},
      },
      expect.objectContaining({ id: 'evt-2', type: 'WorkflowResumed' }),
    ]);
    expect(envelopes[0]).not.toHaveProperty('tracestate');
  });
});

describe('upcast', () => {
  it('returns a current-version envelope unchanged', () => {
    expect(upcast(stored)).toEqual(stored);
  });

  it('knows every event type at version 1 and the aggregate it belongs to', () => {
    expect(Object.values(CURRENT_EVENT_VERSIONS).every((v) => v === 1)).toBe(true);
    expect(Object.keys(EVENT_AGGREGATES).sort()).toEqual(Object.keys(CURRENT_EVENT_VERSIONS).sort());
  });

  it.each([
    ['not an object', 'nope'],
    ['an array', []],
    ['a missing id', { ...stored, id: undefined }],
    ['an empty type', { ...stored, type: '' }],
    ['an unknown type', { ...stored, type: 'UserExploded' }],
    ['a version from the future', { ...stored, version: 2 }],
    ['a version of zero', { ...stored, version: 0 }],
    ['a fractional version', { ...stored, version: 1.5 }],
    ['an unknown aggregate', { ...stored, aggregate: 'team' }],
    ['the wrong aggregate for the type', { ...stored, aggregate: 'job' }],
    ['a bad occurredAt', { ...stored, occurredAt: 'yesterday' }],
    ['data that is not an object', { ...stored, data: 'x' }],
    ['a non-string traceparent', { ...stored, traceparent: 7 }],
  ])('refuses %s with invalid_event', (_name, value) => {
    expect(() => upcast(value)).toThrowError(ValidationError);
    try {
      upcast(value);
    } catch (error) {
      expect((error as ValidationError).code).toBe('invalid_event');
    }
  });

  describe('given UserRegistered is at version 3 and versions 1 and 2 are stored', () => {
    // v1 stored `mail`; v2 renamed it to `email`; v3 lower-cased it.
    const upcastV3 = createUpcast({
      currentVersions: { ...CURRENT_EVENT_VERSIONS, UserRegistered: 3 },
      upcasters: {
        'UserRegistered@1': (data) => {
          const { mail, ...rest } = data as { mail: string; user_id: string };
          return { ...rest, email: mail };
        },
        'UserRegistered@2': (data) => {
          const v2 = data as { email: string; user_id: string };
          return { ...v2, email: v2.email.toLowerCase() };
        },
      },
    });

    it('upgrades a v1 event through every step to v3', () => {
      const v1 = { ...stored, data: { user_id: 'u1', mail: 'A@Example.com' } };
      expect(upcastV3(v1)).toEqual({
        ...stored,
        version: 3,
        data: { user_id: 'u1', email: 'a@example.com' },
      });
    });

    it('upgrades a v2 event by the last step only', () => {
      const v2 = { ...stored, version: 2, data: { user_id: 'u1', email: 'B@Example.com' } };
      expect(upcastV3(v2)).toMatchObject({ version: 3, data: { email: 'b@example.com' } });
    });

    it('refuses a version with no upcaster', () => {
      const upcastMissing = createUpcast({
        currentVersions: { ...CURRENT_EVENT_VERSIONS, UserRegistered: 2 },
        upcasters: {},
      });
      expect(() => upcastMissing(stored)).toThrowError(/no upcaster for UserRegistered@1/);
    });
  });
});
