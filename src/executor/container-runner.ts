// CONTAINER: the image and command run through dockerode, isolated: no network unless asked, a
// read-only root file system with a small writable /tmp, every capability dropped, no new
// privileges, the `nobody` user, memory/CPU/pids limits, no host mounts, labelled with the job and
// attempt so a restarted executor can find what it left behind, and removed after the run.
import { Writable } from 'node:stream';
import type Docker from 'dockerode';
import { type SecretBox, SecretUnreadable } from '../infra/secret-box.ts';
import { activeTraceContext, SpanKind, withSpan } from '../telemetry/tracing.ts';
import { parseDuration } from '../workflows/duration.ts';
import { ContainerPayload, type ContainerSpec } from '../workflows/payload-schemas.ts';
import { type ContainerLimits, type ExecutorLimits, limitsFor } from './container-limits.ts';
import { LineSplitter } from './line-splitter.ts';
import { type RunContext, type RunResult, systemFailure, userFailure } from './run-result.ts';

export const LABELS = {
  managed: 'dev.chronoverse.managed',
  executor: 'dev.chronoverse.executor',
  job: 'dev.chronoverse.job',
  user: 'dev.chronoverse.user',
  attempt: 'dev.chronoverse.attempt',
} as const;

export interface ContainerJob {
  readonly jobId: string;
  readonly userId: string;
  readonly attempt: number;
  readonly executorId: string;
}

/** Exit code Docker reports for a SIGKILLed container (OOM kill, timeout kill). */
const SIGKILL_EXIT = 137;

function lineSink(splitter: LineSplitter): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      splitter.push(chunk);
      done();
    },
    final(done) {
      splitter.end();
      done();
    },
  });
}

/**
 * How a job container is created: the isolation and limits every run gets. Exported so that the
 * benchmark's bare-Docker baseline runs exactly what the executor runs.
 */
export function containerOptions(
  spec: ContainerSpec,
  l: ContainerLimits,
  labels: Record<string, string>,
): Docker.ContainerCreateOptions {
  return {
    Image: spec.image,
    ...(spec.cmd.length ? { Cmd: spec.cmd } : {}),
    Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
    User: '65534:65534',
    WorkingDir: '/tmp',
    Tty: false,
    AttachStdout: true,
    AttachStderr: true,
    NetworkDisabled: spec.network === 'none',
    Labels: labels,
    HostConfig: {
      NetworkMode: spec.network,
      ReadonlyRootfs: true,
      // Docker copies the mode of the image's own /tmp onto the tmpfs (copy-up), so an image built
      // FROM scratch or with a /tmp of 755 would leave the non-root job user nowhere to write, and
      // `mode=1777` alone is overridden (Docker 20.10, and `notmpcopyup` is refused there). The job
      // user owning the tmpfs makes it writable whatever the image's mode.
      Tmpfs: { '/tmp': 'rw,nosuid,nodev,size=64m,mode=1777,uid=65534,gid=65534' },
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      Privileged: false,
      Binds: [],
      Memory: l.memoryMb * 1024 * 1024,
      MemorySwap: l.memoryMb * 1024 * 1024,
      NanoCpus: Math.round(l.cpus * 1e9),
      PidsLimit: l.pids,
      AutoRemove: false,
    },
  };
}

export async function runContainer(
  docker: Docker,
  job: ContainerJob,
  payload: Record<string, unknown>,
  limits: ExecutorLimits,
  ctx: RunContext,
  secrets?: SecretBox,
): Promise<RunResult> {
  const parsed = ContainerPayload.safeParse(payload);
  if (!parsed.success)
    return userFailure('invalid_payload', parsed.error.issues[0]?.message ?? 'invalid payload');
  const opened = openSecrets(parsed.data.secret_env, secrets);
  if ('failure' in opened) return opened.failure;
  // Secret values join the environment here and nowhere else: never a log line, never an event.
  // TRACEPARENT (and TRACESTATE): the job span's context, for a job that traces its own work (a
  // workflow that sets its own keeps it).
  const spec = { ...parsed.data, env: { ...traceEnv(), ...parsed.data.env, ...opened.env } };
  const timeoutMs = parseDuration(spec.timeout) ?? 30_000;
  const l = limitsFor(spec, limits);

  const engine = await untilEngineAnswers(docker, ctx.canceled);
  if (engine === 'canceled') return { outcome: 'canceled' };
  if (engine === 'gone')
    return systemFailure(
      'docker_unavailable',
      `the Docker engine did not answer for ${ENGINE_PATIENCE_MS / 1000} s`,
    );

  let container: Docker.Container;
  try {
    container = await dockerCall('create', () =>
      docker.createContainer(
        containerOptions(spec, l, {
          [LABELS.managed]: 'true',
          [LABELS.executor]: job.executorId,
          [LABELS.job]: job.jobId,
          [LABELS.user]: job.userId,
          [LABELS.attempt]: String(job.attempt),
        }),
      ),
    );
  } catch (err) {
    return systemFailure('docker_error', `could not create the container: ${errorMessage(err)}`);
  }

  try {
    const stream = await dockerCall('attach', () =>
      container.attach({ stream: true, stdout: true, stderr: true }),
    );
    const ended = new Promise<void>((resolve) => {
      stream.once('end', resolve);
      stream.once('close', resolve);
      stream.once('error', () => resolve());
    });
    const stdout = lineSink(new LineSplitter((line) => ctx.log('stdout', line)));
    const stderr = lineSink(new LineSplitter((line) => ctx.log('stderr', line)));
    container.modem.demuxStream(stream, stdout, stderr);
    // Back-pressure: while the log shipper is full, stop reading; Docker then holds the output.
    ctx.flow.onResume(() => stream.resume());
    const pauseIfFull = () => {
      if (ctx.flow.paused) stream.pause();
    };
    stream.on('data', pauseIfFull);

    await dockerCall('start', () => container.start());
    let stopReason: 'timeout' | 'canceled' | undefined;
    const kill = (why: 'timeout' | 'canceled') => {
      stopReason ??= why;
      container.kill().catch(() => {});
    };
    const timer = setTimeout(() => kill('timeout'), timeoutMs);
    const onCancel = () => kill('canceled');
    ctx.canceled.addEventListener('abort', onCancel, { once: true });
    if (ctx.canceled.aborted) onCancel();
    let status: { StatusCode: number };
    try {
      status = await dockerCall('wait', () => waitForExit(container, ended));
    } finally {
      clearTimeout(timer);
      ctx.canceled.removeEventListener('abort', onCancel);
    }
    // Every byte the container wrote is read before the result is decided: however long that takes
    // while bytes keep coming or the log shipper holds the reading back (a cap here once cut off the
    // tail of a 100,000-line job under load, and the job still read COMPLETED). Only output that stops
    // with neither for OUTPUT_IDLE_MS fails the attempt, as SYSTEM: its log cannot be trusted whole.
    const whole = await outputDrained(stream, ended, ctx.flow);
    stdout.end();
    stderr.end();
    if (!whole && stopReason !== 'canceled') {
      return systemFailure(
        'log_incomplete',
        `the container's output stopped for ${OUTPUT_IDLE_MS / 1000} s without ending after it exited`,
      );
    }

    const info = await dockerCall('inspect', () => container.inspect());
    const digest = await imageDigest(docker, spec.image);
    const extra = { exit_code: status.StatusCode, ...(digest ? { image_digest: digest } : {}) };
    if (stopReason === 'canceled') return { outcome: 'canceled' };
    if (stopReason === 'timeout')
      return userFailure('timeout', `the container ran longer than ${spec.timeout}`, extra);
    if (info.State.OOMKilled)
      return userFailure('oom', `the container ran out of memory (limit ${l.memoryMb} MiB)`, extra);
    if (status.StatusCode === 0) return { outcome: 'completed', ...extra };
    const why =
      status.StatusCode === SIGKILL_EXIT ? 'killed (SIGKILL)' : `exited with code ${status.StatusCode}`;
    return userFailure('exit_code', `the container ${why}`, extra);
  } catch (err) {
    return systemFailure('docker_error', `the container could not run: ${errorMessage(err)}`);
  } finally {
    await dockerCall('remove', () => container.remove({ force: true, v: true })).catch(() => {});
  }
}

/** How long an attempt waits for an engine that does not answer before it fails (and is retried). */
const ENGINE_PATIENCE_MS = 120_000;

/**
 * Waits for the engine before a container is created. An engine that is restarting or stopped for a
 * while would fail every attempt at once, and the job's retries (1 s, then 2 s later) would all be
 * spent before it is back, each failure counting towards the workflow's consecutive failures: a
 * restart of Docker would end every job due meanwhile as FAILED and terminate a frequent workflow.
 * Instead the attempt waits here (its dispatch message kept alive by the executor, its slot held),
 * and runs once the engine answers.
 */
async function untilEngineAnswers(
  docker: Docker,
  canceled: AbortSignal,
): Promise<'up' | 'canceled' | 'gone'> {
  const deadline = Date.now() + ENGINE_PATIENCE_MS;
  // dockerode takes an abort signal on every call; its types leave it out of ping's.
  const ping = docker.ping.bind(docker) as unknown as (opts: {
    abortSignal: AbortSignal;
  }) => Promise<unknown>;
  for (;;) {
    if (canceled.aborted) return 'canceled';
    try {
      await ping({ abortSignal: AbortSignal.any([canceled, AbortSignal.timeout(2000)]) });
      return 'up';
    } catch {
      if (canceled.aborted) return 'canceled';
      if (Date.now() > deadline) return 'gone';
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

/** How long a container's exit may follow the end of its output before the engine is asked again. */
const EXIT_AFTER_OUTPUT_MS = 5000;

/**
 * The container's exit status, from a wait on the engine. An engine that dies while the container
 * runs (SIGKILL, a crash) ends the output stream but leaves that wait without an answer forever:
 * docker-modem does not notice its socket closing once the response has begun. So when the output
 * has ended and no exit follows within EXIT_AFTER_OUTPUT_MS, the engine is asked afresh: one that
 * does not answer, or answers that the container is over although the wait never said so (it died
 * and came back meanwhile), has lost the run, whose output and exit can no longer be trusted; that is
 * thrown, and the attempt fails as SYSTEM `docker_error` and is retried. A container that closed its
 * output and still runs is waited for again.
 */
async function waitForExit(
  container: Docker.Container,
  ended: Promise<void>,
): Promise<{ StatusCode: number }> {
  for (;;) {
    const abort = new AbortController();
    const waited = container.wait({ abortSignal: abort.signal }) as Promise<{ StatusCode: number }>;
    let timer: NodeJS.Timeout | undefined;
    let answered = false;
    const quiet = ended.then(
      () =>
        new Promise<'quiet'>((resolve) => {
          if (!answered) timer = setTimeout(() => resolve('quiet'), EXIT_AFTER_OUTPUT_MS);
        }),
    );
    try {
      const first = await Promise.race([waited, quiet]);
      if (first !== 'quiet') return first;
    } finally {
      answered = true;
      clearTimeout(timer);
    }
    abort.abort();
    waited.catch(() => {});
    const info = await container.inspect();
    if (!info.State.Running) {
      throw new Error(
        `lost the Docker engine while the container ran (it is ${info.State.Status} now, exit code ${info.State.ExitCode})`,
      );
    }
  }
}

/** One call of the Docker engine's API as a CLIENT span `docker <operation>`. */
function dockerCall<T>(operation: string, call: () => Promise<T>): Promise<T> {
  return withSpan(
    `docker ${operation}`,
    { kind: SpanKind.CLIENT, attributes: { 'chronoverse.docker.operation': operation } },
    call,
  );
}

/** The active trace context as the environment variables a traced program reads. */
function traceEnv(): Record<string, string> {
  const { traceparent, tracestate } = activeTraceContext();
  return {
    ...(traceparent ? { TRACEPARENT: traceparent } : {}),
    ...(tracestate ? { TRACESTATE: tracestate } : {}),
  };
}

async function imageDigest(docker: Docker, image: string): Promise<string | undefined> {
  try {
    const info = await docker.getImage(image).inspect();
    return info.RepoDigests?.[0] ?? info.Id;
  } catch {
    return undefined;
  }
}

function errorMessage(err: unknown): string {
  const json = (err as { json?: { message?: string } })?.json;
  return json?.message ?? (err instanceof Error ? err.message : String(err));
}

/** The secret_env values opened with this executor's keys, or why the job cannot have them. */
function openSecrets(
  sealed: Record<string, string>,
  secrets: SecretBox | undefined,
): { env: Record<string, string> } | { failure: RunResult } {
  const names = Object.keys(sealed);
  if (names.length === 0) return { env: {} };
  if (!secrets)
    return { failure: userFailure('secret_unreadable', 'this executor has no keys to open secrets') };
  try {
    return { env: Object.fromEntries(names.map((n) => [n, secrets.open(sealed[n]!)])) };
  } catch (err) {
    const reason = err instanceof SecretUnreadable ? err.message : 'a secret could not be opened';
    return { failure: userFailure('secret_unreadable', `secret_env: ${reason}`) };
  }
}

/** How long the output of an exited container may stay silent (and not held back) before it is given up. */
const OUTPUT_IDLE_MS = 30_000;

/**
 * Waits for the end of a container's output after its exit. True once it ended; false when no byte
 * came for OUTPUT_IDLE_MS while the reading was not held back by the log shipper (`flow.paused`).
 */
async function outputDrained(
  stream: NodeJS.ReadableStream,
  ended: Promise<void>,
  flow: { readonly paused: boolean },
): Promise<boolean> {
  let lastByte = Date.now();
  const onData = () => {
    lastByte = Date.now();
  };
  stream.on('data', onData);
  let done = false;
  void ended.then(() => {
    done = true;
  });
  try {
    for (;;) {
      await Promise.race([ended, new Promise((r) => setTimeout(r, 500))]);
      if (done) return true;
      if (flow.paused) lastByte = Date.now();
      else if (Date.now() - lastByte > OUTPUT_IDLE_MS) return false;
    }
  } finally {
    stream.removeListener('data', onData);
  }
}
