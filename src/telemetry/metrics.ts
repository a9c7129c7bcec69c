// Chronoverse's metrics through @opentelemetry/api: the instruments an operator of a scheduler reads
// (is it firing on time, where is a job stuck, why did it fail). Names follow the semantic
// conventions' style (dotted, `.duration` in seconds, counts with a `{unit}` annotation); attributes
// are low-cardinality only: never a user, workflow or job id. Without the SDK every instrument is the
// API's no-op. Created on first use, so that the meter provider the bootstrap (or a test) registers
// is the one they report to.
import { type Attributes, metrics, type ObservableResult, ValueType } from '@opentelemetry/api';

/** Buckets for latencies of a scheduler: milliseconds to minutes. */
const LATENESS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
/** Buckets for job runs: a HEARTBEAT's milliseconds to a container's hour. */
const DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];
const FLUSH_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

function create() {
  const meter = metrics.getMeter('chronoverse');
  return {
    tickLateness: meter.createHistogram('chronoverse.tick.lateness', {
      description: 'Time from a tick’s nominal instant to the start of its job',
      unit: 's',
      advice: { explicitBucketBoundaries: LATENESS_BUCKETS },
    }),
    ticks: meter.createCounter('chronoverse.ticks', {
      description: 'Ticks decided, by outcome (fired, skipped) and skip reason',
      unit: '{tick}',
      valueType: ValueType.INT,
    }),
    overdueTicks: meter.createCounter('chronoverse.ticks.overdue', {
      description: 'Ticks decided after their nominal instant plus the grace period (a scheduler outage)',
      unit: '{tick}',
      valueType: ValueType.INT,
    }),
    jobQueueDuration: meter.createHistogram('chronoverse.job.queue.duration', {
      description: 'Time a job attempt waited in dispatch, from when it could run to its start',
      unit: 's',
      advice: { explicitBucketBoundaries: LATENESS_BUCKETS },
    }),
    jobDuration: meter.createHistogram('chronoverse.job.duration', {
      description: 'Run time of a job attempt on an executor, by kind and outcome',
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    }),
    slotUsage: meter.createUpDownCounter('chronoverse.executor.slot.usage', {
      description: 'Job slots of executors in use',
      unit: '{slot}',
      valueType: ValueType.INT,
    }),
    slotLimit: meter.createUpDownCounter('chronoverse.executor.slot.limit', {
      description: 'Job slots of executors (their CV_EXECUTOR_CONCURRENCY)',
      unit: '{slot}',
      valueType: ValueType.INT,
    }),
    dispatchPending: meter.createObservableGauge('chronoverse.dispatch.pending', {
      description: 'Job attempts waiting in a pool’s dispatch queue, not yet delivered to an executor',
      unit: '{job}',
      valueType: ValueType.INT,
    }),
    projectionLag: meter.createObservableGauge('chronoverse.projection.lag', {
      description: 'Commits of the event log a projection has yet to apply',
      unit: '{commit}',
      valueType: ValueType.INT,
    }),
    logLinesIngested: meter.createCounter('chronoverse.log.lines.ingested', {
      description: 'Job output lines written to ClickHouse by the log processor',
      unit: '{line}',
      valueType: ValueType.INT,
    }),
    logFlushDuration: meter.createHistogram('chronoverse.log.flush.duration', {
      description: 'Time of one insert of job output lines into ClickHouse',
      unit: 's',
      advice: { explicitBucketBoundaries: FLUSH_BUCKETS },
    }),
    commandConflicts: meter.createCounter('chronoverse.command.conflicts', {
      description:
        'Optimistic-concurrency conflicts of commands, by aggregate and whether the command retried or gave up',
      unit: '{conflict}',
      valueType: ValueType.INT,
    }),
  };
}

let instruments: ReturnType<typeof create> | undefined;

/** The instruments, created on first use. */
export function meters(): ReturnType<typeof create> {
  instruments ??= create();
  return instruments;
}

/** Forgets the instruments (tests that register a fresh meter provider). */
export function resetMeters(): void {
  instruments = undefined;
}

/** Reports a gauge per projection from `read` at each collection; returns the unregister function. */
export function observeProjectionLag(read: () => readonly { name: string; lag: number }[]): () => void {
  const gauge = meters().projectionLag;
  const callback = (result: ObservableResult<Attributes>) => {
    for (const p of read()) result.observe(p.lag, { 'chronoverse.projection.name': p.name });
  };
  gauge.addCallback(callback);
  return () => gauge.removeCallback(callback);
}

/**
 * Reports the pool's dispatch backlog at each collection (one consumer-info request per export
 * interval, not per job); a failed read reports nothing rather than a wrong zero.
 */
export function observeDispatchPending(pool: string, read: () => Promise<number>): () => void {
  const gauge = meters().dispatchPending;
  const callback = async (result: ObservableResult<Attributes>) => {
    try {
      result.observe(await read(), { 'chronoverse.executor.pool': pool });
    } catch {
      // NATS unreachable: nothing to say this time.
    }
  };
  gauge.addCallback(callback);
  return () => gauge.removeCallback(callback);
}
