// Small pieces every page uses. hono/jsx escapes every string it renders, in text and attributes:
// user data (names, payloads, errors) goes in only that way, never as raw HTML.
import type { Child } from 'hono/jsx';
import { statusLook } from './status.ts';

/** A status as icon + label, coloured by tone; `live` names what the client script updates. */
export function Badge(props: { status: string; live?: Record<string, string> }) {
  const look = statusLook(props.status);
  return (
    <span class={`badge tone-${look.tone}`} data-status={props.status} {...(props.live ?? {})}>
      <span class="icon" aria-hidden="true">
        {look.icon}
      </span>{' '}
      <span class="label">{look.label}</span>
    </span>
  );
}

/** An instant as `<time>`: UTC text, which the client turns into relative text with local and UTC on hover. */
export function Time(props: { at: Date | string | null | undefined; live?: Record<string, string> }) {
  if (props.at === null || props.at === undefined) {
    return (
      <span class="muted" {...(props.live ?? {})}>
        —
      </span>
    );
  }
  const iso = typeof props.at === 'string' ? props.at : props.at.toISOString();
  return (
    <time datetime={iso} title={iso} {...(props.live ?? {})}>
      {iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC')}
    </time>
  );
}

/** A duration in words: `350 ms`, `4.2 s`, `3 min 5 s`, `2 h 1 min`. */
export function durationWords(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

export function Pager(props: { next: string | null; label: string; children?: Child }) {
  if (!props.next) return null;
  return (
    <p class="pager">
      <a href={props.next}>{props.label} →</a>
    </p>
  );
}

/** The same path with one query parameter set (or removed when empty), the others kept. */
export function withQuery(
  path: string,
  query: Record<string, string | undefined>,
  set: Record<string, string | null>,
) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v) params.set(k, v);
  for (const [k, v] of Object.entries(set)) {
    if (v) params.set(k, v);
    else params.delete(k);
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

export function Select(props: {
  name: string;
  label: string;
  value: string | undefined;
  options: readonly string[];
  any?: string;
}) {
  return (
    <label>
      {props.label}{' '}
      <select name={props.name}>
        <option value="">{props.any ?? 'Any'}</option>
        {props.options.map((o) => (
          <option value={o} selected={props.value === o}>
            {statusLook(o).label === o ? o : statusLook(o).label}
          </option>
        ))}
      </select>
    </label>
  );
}

/** Where a client script puts the API's error for `field` (data-error-for), as text. */
export function FieldError(props: { field: string }) {
  return <span class="field-error" data-error-for={props.field} role="alert" />;
}

/** A labelled control with its hint and its error slot. */
export function Field(props: { label: string; field: string; hint?: string; children?: Child }) {
  return (
    <div class="field">
      {/* biome-ignore lint/a11y/noLabelWithoutControl: the control is props.children, inside the label */}
      <label>
        <span class="field-label">{props.label}</span>
        {props.children}
      </label>
      {props.hint && <span class="hint">{props.hint}</span>}
      <FieldError field={props.field} />
    </div>
  );
}
