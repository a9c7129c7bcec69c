// Create and edit a workflow: every field of POST /workflows and PUT /workflows/{id}, for both kinds.
// form.js turns the form into the API's JSON body, sends it with the CSRF header, and shows each
// validation error of the API beside the field it names (data-error-for), or above the form.
import type { WorkflowChain } from '../../events/workflow-events.ts';
import type { WorkflowRow } from '../../infra/database.ts';
import { Field, FieldError } from '../components.tsx';
import { Layout } from '../layout.tsx';

function Choice(props: {
  name: string;
  value: string | undefined;
  options: readonly [string, string][];
  disabled?: boolean;
}) {
  return (
    <select name={props.name} disabled={props.disabled}>
      {props.options.map(([v, label]) => (
        <option value={v} selected={(props.value ?? '') === v}>
          {label}
        </option>
      ))}
    </select>
  );
}

const str = (v: unknown): string =>
  typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v);

/** Header lines `Name: value`, one per line (a header with several values repeats). */
function headerLines(headers: unknown): string {
  if (!headers || typeof headers !== 'object') return '';
  return Object.entries(headers as Record<string, string | string[]>)
    .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `${k}: ${x}`))
    .join('\n');
}

function envLines(env: unknown): string {
  if (!env || typeof env !== 'object') return '';
  return Object.entries(env as Record<string, string>)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');
}

/** A workflow the chain may name: another of the user's. */
export interface ChainTarget {
  readonly id: string;
  readonly name: string;
}

const OUTCOMES = [
  ['on_success', 'On success', 'when a job completes'],
  ['on_failure', 'On failure', 'when a job fails for good'],
  ['on_end', 'On any end', 'canceled included'],
] as const;

/**
 * The chain: per outcome, a multiple choice among the user's other workflows (form.js sends the chosen
 * ids). The API's refusals land beside it: chain_target_not_found on the outcome's list,
 * chain_cycle (naming the circle) on the chain as a whole.
 */
function ChainFields(props: { chain: WorkflowChain | null | undefined; targets: readonly ChainTarget[] }) {
  return (
    <fieldset id="chain">
      <legend>Chain</legend>
      <p class="hint">
        When a job of this workflow ends, run these other workflows of yours (Ctrl- or ⌘-click to choose
        several, or to leave one out).
      </p>
      {props.targets.length === 0 ? (
        <p class="muted" id="chain-none">
          No other workflow to chain yet.
        </p>
      ) : (
        <div class="row">
          {OUTCOMES.map(([outcome, label, hint]) => (
            <Field label={label} field={`chain.${outcome}`} hint={hint}>
              <select name={`chain_${outcome}`} multiple size={Math.min(5, props.targets.length)}>
                {props.targets.map((t) => (
                  <option value={t.id} selected={(props.chain?.[outcome] ?? []).includes(t.id)}>
                    {t.name}
                  </option>
                ))}
              </select>
            </Field>
          ))}
        </div>
      )}
      <div class="field">
        <FieldError field="chain" />
      </div>
    </fieldset>
  );
}

export function WorkflowForm(props: {
  email: string;
  workflow?: WorkflowRow;
  chainTargets: readonly ChainTarget[];
}) {
  const w = props.workflow;
  const p = (w?.payload ?? {}) as Record<string, unknown>;
  const resources = (p.resources ?? {}) as Record<string, unknown>;
  const kind = w?.kind ?? 'HEARTBEAT';
  const s = w?.schedule;
  const scheduleType = s?.type ?? 'interval';
  const title = w ? `Edit ${w.name}` : 'New workflow';
  return (
    <Layout title={title} page="workflow-form" email={props.email} scripts={['form.js']}>
      <p class="crumbs">
        <a href="/">Workflows</a> /{' '}
        {w && (
          <>
            <a href={`/w/${w.id}`}>{w.name}</a> /
          </>
        )}
      </p>
      <h1>{w ? 'Edit workflow' : 'New workflow'}</h1>
      <form
        id="workflow-form"
        class="card form"
        data-workflow={w?.id ?? ''}
        data-version={w ? String(w.version) : ''}
        novalidate
      >
        <p id="form-error" class="error" role="alert" />
        <Field label="Name" field="name">
          <input name="name" required maxlength={255} value={w?.name ?? ''} />
        </Field>
        <Field label="Kind" field="kind" hint={w ? 'The kind of a workflow does not change.' : undefined}>
          <Choice
            name="kind"
            value={kind}
            disabled={Boolean(w)}
            options={[
              ['HEARTBEAT', 'Heartbeat: call an HTTP endpoint'],
              ['CONTAINER', 'Container: run an image'],
            ]}
          />
        </Field>

        <fieldset data-kind="HEARTBEAT" hidden={kind !== 'HEARTBEAT'}>
          <legend>Heartbeat</legend>
          <Field label="Endpoint" field="payload.endpoint" hint="An http or https URL">
            <input name="endpoint" type="url" value={kind === 'HEARTBEAT' ? str(p.endpoint) : ''} />
          </Field>
          <Field label="Expected status" field="payload.expected_status_code">
            <input
              name="expected_status_code"
              type="number"
              min={100}
              max={599}
              value={kind === 'HEARTBEAT' ? str(p.expected_status_code ?? 200) : '200'}
            />
          </Field>
          <Field label="Headers" field="payload.headers" hint="One per line: Name: value">
            <textarea name="headers" rows={3}>
              {kind === 'HEARTBEAT' ? headerLines(p.headers) : ''}
            </textarea>
          </Field>
        </fieldset>

        <fieldset data-kind="CONTAINER" hidden={kind !== 'CONTAINER'}>
          <legend>Container</legend>
          <Field label="Image" field="payload.image">
            <input name="image" value={kind === 'CONTAINER' ? str(p.image) : ''} />
          </Field>
          <Field label="Command" field="payload.cmd" hint="One argument per line">
            <textarea name="cmd" rows={3}>
              {kind === 'CONTAINER' && Array.isArray(p.cmd) ? p.cmd.join('\n') : ''}
            </textarea>
          </Field>
          <Field label="Environment" field="payload.env" hint="One per line: NAME=value">
            <textarea name="env" rows={3}>
              {kind === 'CONTAINER' ? envLines(p.env) : ''}
            </textarea>
          </Field>
          <div class="row">
            <Field label="CPUs" field="payload.resources.cpus">
              <input name="cpus" type="number" step="0.1" min={0} value={str(resources.cpus)} />
            </Field>
            <Field label="Memory (MB)" field="payload.resources.memory_mb">
              <input name="memory_mb" type="number" min={6} value={str(resources.memory_mb)} />
            </Field>
            <Field label="Processes" field="payload.resources.pids">
              <input name="pids" type="number" min={1} value={str(resources.pids)} />
            </Field>
          </div>
          <Field label="Network" field="payload.network">
            <Choice
              name="network"
              value={str(p.network) || 'none'}
              options={[
                ['none', 'None'],
                ['bridge', 'Bridge'],
              ]}
            />
          </Field>
        </fieldset>

        <Field label="Timeout" field="payload.timeout" hint="e.g. 10s, 5m, 1h30m; empty for the default">
          <input name="timeout" value={str(p.timeout)} />
        </Field>

        <fieldset>
          <legend>Schedule</legend>
          <Field label="Fires" field="schedule_type">
            <Choice
              name="schedule_type"
              value={scheduleType}
              options={[
                ['interval', 'Every N minutes'],
                ['cron', 'Cron, in a time zone'],
                ['at', 'Once, at an instant'],
              ]}
            />
          </Field>
          <div data-schedule="interval" hidden={scheduleType !== 'interval'}>
            <Field label="Minutes between runs" field="interval">
              <input
                name="interval"
                type="number"
                min={1}
                max={10080}
                value={s?.type === 'interval' ? String(s.minutes) : '60'}
              />
            </Field>
          </div>
          <div data-schedule="cron" class="row" hidden={scheduleType !== 'cron'}>
            <Field label="Cron expression" field="schedule.cron" hint="5 fields, or 6 with seconds first">
              <input name="cron" value={s?.type === 'cron' ? s.cron : ''} placeholder="*/15 * * * *" />
            </Field>
            <Field label="Time zone" field="schedule.timezone">
              <input name="timezone" value={s?.type === 'cron' ? s.timezone : 'UTC'} />
            </Field>
          </div>
          <div data-schedule="at" hidden={scheduleType !== 'at'}>
            <Field label="At" field="at" hint="RFC 3339 with an offset, e.g. 2030-01-01T09:00:00Z">
              <input name="at" value={s?.type === 'at' ? s.at : ''} />
            </Field>
          </div>
          <div class="row">
            <Field label="Overlap" field="overlap_policy">
              <Choice
                name="overlap_policy"
                value={s?.overlap}
                options={[
                  ['', 'Default (skip)'],
                  ['skip', 'Skip'],
                  ['queue_one', 'Queue one'],
                  ['allow', 'Allow'],
                  ['cancel_running', 'Cancel running'],
                ]}
              />
            </Field>
            <Field label="Catch-up" field="catch_up">
              <Choice
                name="catch_up"
                value={s?.catch_up}
                options={[
                  ['', 'Default'],
                  ['latest', 'Latest'],
                  ['all', 'All'],
                  ['none', 'None'],
                ]}
              />
            </Field>
            <Field label="DST gap" field="dst.nonexistent">
              <Choice
                name="dst_nonexistent"
                value={s?.dst?.nonexistent}
                options={[
                  ['', 'Default (shift)'],
                  ['shift', 'Shift'],
                  ['skip', 'Skip'],
                ]}
              />
            </Field>
            <Field label="DST repeat" field="dst.repeated">
              <Choice
                name="dst_repeated"
                value={s?.dst?.repeated}
                options={[
                  ['', 'Default (once)'],
                  ['once', 'Once'],
                  ['twice', 'Twice'],
                ]}
              />
            </Field>
          </div>
          <div class="row">
            <Field label="Start at" field="start_at">
              <input name="start_at" value={s?.start_at ?? ''} placeholder="optional" />
            </Field>
            <Field label="End at" field="end_at">
              <input name="end_at" value={s?.end_at ?? ''} placeholder="optional" />
            </Field>
            <Field label="Jitter (seconds)" field="jitter_seconds">
              <input
                name="jitter_seconds"
                type="number"
                min={1}
                value={s?.jitter_seconds === undefined ? '' : String(s.jitter_seconds)}
                placeholder="none"
              />
            </Field>
            <Field label="Scheduled runs at most" field="max_runs">
              <input
                name="max_runs"
                type="number"
                min={1}
                max={1000000}
                value={s?.max_runs === undefined ? '' : String(s.max_runs)}
                placeholder="no limit"
              />
            </Field>
          </div>
        </fieldset>

        <ChainFields chain={w?.chain} targets={props.chainTargets} />

        <div class="row">
          <Field label="Failures in a row before it terminates" field="max_consecutive_job_failures_allowed">
            <input
              name="max_consecutive_job_failures_allowed"
              type="number"
              min={3}
              max={100}
              value={String(w?.max_consecutive_job_failures_allowed ?? 3)}
            />
          </Field>
          <div class="field">
            <label class="check">
              <input name="log_retention" type="checkbox" checked={w?.log_retention ?? true} /> Keep the jobs'
              log lines
            </label>
            <FieldError field="log_retention" />
          </div>
        </div>
        <div class="actions">
          <button type="submit" class="primary">
            {w ? 'Save' : 'Create workflow'}
          </button>
          <a href={w ? `/w/${w.id}` : '/'}>Cancel</a>
        </div>
      </form>
    </Layout>
  );
}
