// NATS subject names. The owner comes first in event subjects so that a permission on
// `cv.evt.<userId>.>` gives an integrator exactly their own events.
import { ValidationError } from '../errors.ts';
import type { AggregateKind } from './domain-event.ts';

const AGGREGATES: readonly AggregateKind[] = ['user', 'workflow', 'job'];

/** A token may not be empty, nor hold the separator, a wildcard or whitespace. */
function token(name: string, value: string): string {
  if (value === '' || /[.*>\s]/.test(value)) {
    throw new ValidationError(
      'invalid_subject_token',
      `${name} cannot be used in a NATS subject: "${value}"`,
      {
        field: name,
      },
    );
  }
  return value;
}

export function eventSubject(userId: string, aggregate: AggregateKind, aggregateId: string): string {
  return `cv.evt.${token('userId', userId)}.${token('aggregate', aggregate)}.${token('aggregateId', aggregateId)}`;
}

/** Every event owned by one user, all aggregates. */
export function userEventsFilter(userId: string): string {
  return `cv.evt.${token('userId', userId)}.>`;
}

export function dispatchSubject(pool: string): string {
  return `cv.dispatch.${token('pool', pool)}`;
}

/**
 * A workflow's build requests to the executors of a pool (work queue, one subject per workflow so
 * that one workflow's builds run in order and different workflows' side by side).
 */
export function buildQueueSubject(pool: string, workflowId: string): string {
  return `cv.dispatch.builds.${token('pool', pool)}.${token('workflowId', workflowId)}`;
}

/** Every build request to a pool's executors. */
export function buildQueueFilter(pool: string): string {
  return `cv.dispatch.builds.${token('pool', pool)}.>`;
}

/**
 * Core NATS, never stored: a reader waiting for the read models to hold its write asks the projector
 * to apply what it has without gathering more (src/projections/projection-applier.ts). Not one of the
 * subjects an integrator may publish to.
 */
export const PROJECTIONS_HURRY_SUBJECT = 'cv.ctl.projections.hurry';

export function logSubject(userId: string, jobId: string): string {
  return `cv.logs.${token('userId', userId)}.${token('jobId', jobId)}`;
}

/** Every job log line of one user, all jobs. */
export function userLogsFilter(userId: string): string {
  return `cv.logs.${token('userId', userId)}.>`;
}

export type EventSubject = {
  readonly userId: string;
  readonly aggregate: AggregateKind;
  readonly aggregateId: string;
};

/** The inverse of `eventSubject`; throws ValidationError `invalid_subject` for anything else. */
export function parseEventSubject(subject: string): EventSubject {
  const parts = subject.split('.');
  const [cv, evt, userId, aggregate, aggregateId] = parts;
  const known = AGGREGATES.find((kind) => kind === aggregate);
  if (
    parts.length !== 5 ||
    cv !== 'cv' ||
    evt !== 'evt' ||
    known === undefined ||
    !userId ||
    !aggregateId ||
    /[*>\s]/.test(subject)
  ) {
    throw new ValidationError('invalid_subject', `Not an event subject: "${subject}"`);
  }
  return { userId, aggregate: known, aggregateId };
}

/**
 * A subject with its ids replaced by placeholders (`cv.evt.{user_id}.job.{job_id}`): the name of a
 * messaging span and a low-cardinality attribute. A subject of no known shape is returned as it is.
 */
export function subjectTemplate(subject: string): string {
  const p = subject.split('.');
  if (p[0] !== 'cv') return subject;
  if (p[1] === 'evt' && p.length === 5) return `cv.evt.{user_id}.${p[3]}.{${p[3]}_id}`;
  if (p[1] === 'logs' && p.length === 4) return 'cv.logs.{user_id}.{job_id}';
  if (p[1] === 'dispatch' && p[2] === 'builds' && p.length === 5)
    return `cv.dispatch.builds.${p[3]}.{workflow_id}`;
  return subject;
}

/** Whether `subject` matches the NATS filter `filter` (`*` one token, `>` one or more at the end). */
export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '>') return s.length > i;
    if (i >= s.length || (f[i] !== '*' && f[i] !== s[i])) return false;
  }
  return f.length === s.length;
}
