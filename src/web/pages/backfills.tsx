// A workflow's backfills on its page: the form that asks for one (backfill.js sends it to
// POST /workflows/{id}/backfill and shows the API's refusals beside the field they name) and the
// workflow's backfills, newest first, with their jobs by status as the page was rendered.
import type { BackfillProgress } from '../../queries/backfills.ts';
import { Field, Time } from '../components.tsx';

const ended = (b: BackfillProgress) => b.completed + b.failed + b.canceled;

/** What became of a backfill's jobs so far, in words: "3 of 10 done · 1 failed · 6 waiting". */
export function progressWords(b: BackfillProgress): string {
  return [
    `${ended(b)} of ${b.jobs} done`,
    b.failed > 0 && `${b.failed} failed`,
    b.canceled > 0 && `${b.canceled} canceled`,
    b.running > 0 && `${b.running} running`,
    b.pending > 0 && `${b.pending} waiting`,
  ]
    .filter(Boolean)
    .join(' · ');
}

export function Backfills(props: {
  workflowId: string;
  terminated: boolean;
  backfills: readonly BackfillProgress[];
}) {
  return (
    <section class="card" id="backfills">
      <h2>Backfill</h2>
      <p class="muted">
        Run the schedule's past ticks in a range now, each as a job (trigger Backfill). Ticks an earlier
        backfill ran are left out.
      </p>
      {props.terminated ? (
        <p class="muted">A terminated workflow cannot be backfilled.</p>
      ) : (
        <form id="backfill-form" class="form" data-workflow={props.workflowId} novalidate>
          <p id="backfill-error" class="error" role="alert" />
          <div class="row">
            <Field label="From" field="from" hint="The first tick included, RFC 3339 with an offset">
              <input name="from" placeholder="2026-12-01T00:00:00Z" required />
            </Field>
            <Field label="To" field="to" hint="Excluded; not after now">
              <input name="to" placeholder="2026-12-02T00:00:00Z" required />
            </Field>
            <Field label="Overlap" field="overlap" hint="For this backfill alone">
              <select name="overlap">
                <option value="buffer">Buffer: one after another</option>
                <option value="allow">Allow: all at once</option>
              </select>
            </Field>
          </div>
          <div class="actions">
            <button type="submit">Backfill</button>
          </div>
        </form>
      )}
      {props.backfills.length === 0 ? (
        <p class="muted" id="no-backfills">
          No backfill yet.
        </p>
      ) : (
        <div class="table-wrap">
          <table class="list compact" id="backfill-list">
            <thead>
              <tr>
                <th scope="col">Range</th>
                <th scope="col">Overlap</th>
                <th scope="col">Jobs</th>
                <th scope="col">Progress</th>
                <th scope="col">Asked</th>
              </tr>
            </thead>
            <tbody>
              {props.backfills.map((b) => (
                <tr data-backfill={b.id} data-open={ended(b) < b.jobs ? 'yes' : 'no'}>
                  <td>
                    <Time at={b.range_from} /> – <Time at={b.range_to} />
                  </td>
                  <td>{b.overlap}</td>
                  <td>
                    {String(b.jobs)}
                    {b.covered > 0 && <span class="muted"> ({b.covered} ran before)</span>}
                  </td>
                  <td>
                    <progress max={b.jobs || 1} value={ended(b)} aria-label="Jobs ended" />{' '}
                    <span data-backfill-progress={b.id}>{progressWords(b)}</span>
                  </td>
                  <td>
                    <Time at={b.created_at} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
