import { describe, expect, it } from 'vitest';
import { ValidationError } from '../errors.ts';
import {
  dispatchSubject,
  eventSubject,
  logSubject,
  parseEventSubject,
  subjectMatches,
  userEventsFilter,
} from './subjects.ts';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof ValidationError ? error.code : 'not a ValidationError';
  }
  return undefined;
}

describe('subjects', () => {
  it('names event, dispatch and log subjects with the owner first', () => {
    expect(eventSubject('u1', 'workflow', 'wf1')).toBe('cv.evt.u1.workflow.wf1');
    expect(userEventsFilter('u1')).toBe('cv.evt.u1.>');
    expect(dispatchSubject('default')).toBe('cv.dispatch.default');
    expect(logSubject('u1', 'job1')).toBe('cv.logs.u1.job1');
  });

  it.each(['', 'a.b', 'a*', '>', 'a b', 'tab\t'])('refuses the token %j', (bad) => {
    expect(codeOf(() => eventSubject(bad, 'job', 'j1'))).toBe('invalid_subject_token');
    expect(codeOf(() => eventSubject('u1', 'job', bad))).toBe('invalid_subject_token');
    expect(codeOf(() => userEventsFilter(bad))).toBe('invalid_subject_token');
    expect(codeOf(() => dispatchSubject(bad))).toBe('invalid_subject_token');
    expect(codeOf(() => logSubject('u1', bad))).toBe('invalid_subject_token');
  });

  it('parses what eventSubject builds', () => {
    expect(parseEventSubject(eventSubject('u1', 'job', 'j-1'))).toEqual({
      userId: 'u1',
      aggregate: 'job',
      aggregateId: 'j-1',
    });
  });

  it.each([
    'cv.evt.u1.workflow',
    'cv.evt.u1.workflow.wf1.extra',
    'cv.evt.u1.team.t1',
    'cv.logs.u1.workflow.wf1',
    'cv.evt..workflow.wf1',
    'cv.evt.u1.workflow.*',
    'cv.evt.u1.>',
  ])('refuses to parse %s', (subject) => {
    expect(codeOf(() => parseEventSubject(subject))).toBe('invalid_subject');
  });
});

describe('subjectMatches', () => {
  it('follows the NATS wildcards', () => {
    expect(subjectMatches('cv.evt.>', 'cv.evt.u1.job.j1')).toBe(true);
    expect(subjectMatches('cv.evt.>', 'cv.evt')).toBe(false);
    expect(subjectMatches('cv.evt.*.job.*', 'cv.evt.u1.job.j1')).toBe(true);
    expect(subjectMatches('cv.evt.*.job.*', 'cv.evt.u1.workflow.w1')).toBe(false);
    expect(subjectMatches('cv.evt.*.job', 'cv.evt.u1.job.j1')).toBe(false);
    expect(subjectMatches('cv.evt.u1.job.j1', 'cv.evt.u1.job.j1')).toBe(true);
    expect(subjectMatches('cv.evt.u1.job.j1', 'cv.evt.u1.job.j2')).toBe(false);
  });
});
