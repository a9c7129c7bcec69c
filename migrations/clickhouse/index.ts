// Every ClickHouse migration, in order. Statements are plain SQL for a database name; they must run on
// ClickHouse 18.16 (no TTL, no DateTime64) and on current releases, so milliseconds live in their own
// column and retention drops daily partitions.
export interface ClickhouseMigration {
  readonly name: string;
  readonly statements: (db: string) => readonly string[];
}

export const clickhouseMigrations: readonly ClickhouseMigration[] = [
  {
    name: '20261127_0001_job_logs',
    statements: (db) => [
      `CREATE TABLE IF NOT EXISTS ${db}.job_logs (
        user_id String,
        workflow_id String,
        job_id String,
        attempt UInt32,
        stream Enum8('stdout' = 1, 'stderr' = 2),
        sequence UInt64,
        timestamp DateTime,
        timestamp_ms UInt16,
        message String
      ) ENGINE = ReplacingMergeTree
      PARTITION BY toYYYYMMDD(timestamp)
      ORDER BY (user_id, workflow_id, job_id, attempt, sequence)`,
    ],
  },
  {
    // One row per job event, for trends (jobs per day, failure rates, durations). Replayed rows
    // collapse on event_id; queries that must count exactly use FINAL or uniqExact(event_id).
    name: '20261127_0002_job_events',
    statements: (db) => [
      `CREATE TABLE IF NOT EXISTS ${db}.job_events (
        event_id String,
        sequence UInt64,
        user_id String,
        workflow_id String,
        job_id String,
        type String,
        attempt UInt32,
        failure_kind String,
        reason String,
        duration_ms UInt64,
        occurred_at DateTime,
        occurred_ms UInt16
      ) ENGINE = ReplacingMergeTree
      PARTITION BY toYYYYMM(occurred_at)
      ORDER BY (user_id, workflow_id, job_id, event_id)`,
    ],
  },
  {
    // The trace of the job run that wrote the line (OpenTelemetry; empty when it was not traced): a
    // trace leads to its job's lines, and a line back to its trace.
    name: '20261206_0003_job_logs_trace_id',
    statements: (db) => [`ALTER TABLE ${db}.job_logs ADD COLUMN trace_id String DEFAULT ''`],
  },
  {
    // Commits of finished jobs moved out of the hot log after CV_EVENTS_RETENTION_DAYS, exactly as they
    // were stored (the commit's JSON and its stream sequence). A commit archived twice (a sweep killed
    // before it recorded its work) collapses on (subject, sequence); readers use FINAL.
    name: '20261206_0004_event_archive',
    statements: (db) => [
      `CREATE TABLE IF NOT EXISTS ${db}.event_archive (
        sequence UInt64,
        subject String,
        user_id String,
        aggregate String,
        aggregate_id String,
        commit String,
        archived_at DateTime
      ) ENGINE = ReplacingMergeTree
      ORDER BY (subject, sequence)`,
    ],
  },
];
