// The compose profile `observability` and its Grafana dashboard agree with the code: every series a
// panel queries is an instrument of src/telemetry/metrics.ts under the name the OTLP→Prometheus
// translation gives it (dots to underscores, `_seconds` for unit s, `_total` for counters), and every
// label it groups by is an attribute the code records. (No image registry is reachable here, so the
// profile itself is not run in the tests: this is what can be checked without it.)
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = resolve(import.meta.dirname, '../..');
const read = (p: string) => readFileSync(join(root, p), 'utf8');

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [read(join(dir, e.name))] : [],
  );
}

/** Prometheus names of the instruments: `name` → its series names. */
function instrumentSeries(): Set<string> {
  const metrics = read('src/telemetry/metrics.ts');
  const series = new Set<string>();
  for (const m of metrics.matchAll(/meter\.create(\w+)\('([\w.]+)',\s*\{([\s\S]*?)\}\)/g)) {
    const [, kind, name, options] = m as unknown as [string, string, string, string];
    const base = name!.replaceAll('.', '_') + (/unit: 's'/.test(options!) ? '_seconds' : '');
    if (kind === 'Histogram') for (const s of ['_bucket', '_count', '_sum']) series.add(base + s);
    else if (kind === 'Counter') series.add(`${base}_total`);
    else series.add(base);
  }
  return series;
}

describe('the observability profile', () => {
  const compose = parse(read('compose.yaml'), { merge: true }) as {
    services: Record<
      string,
      { profiles?: string[]; volumes?: string[]; environment?: Record<string, string> }
    >;
  };

  it('runs an OTLP backend only under --profile observability, with the dashboard mounted', () => {
    const lgtm = compose.services['otel-lgtm'];
    expect(lgtm?.profiles).toEqual(['observability']);
    expect(lgtm?.volumes?.some((v) => v.startsWith('./docker/grafana/chronoverse-dashboard.json:'))).toBe(
      true,
    );
    // Telemetry stays off by default: the roles name no endpoint unless the variable is set.
    expect(compose.services.api?.environment?.OTEL_EXPORTER_OTLP_ENDPOINT).toBe(
      '${OTEL_EXPORTER_OTLP_ENDPOINT:-}',
    );
  });

  it('queries only series and labels the code records', () => {
    const dashboard = JSON.parse(read('docker/grafana/chronoverse-dashboard.json')) as {
      panels: { targets: { expr: string }[] }[];
    };
    const series = instrumentSeries();
    expect(series.size).toBeGreaterThan(15);
    const attributes = new Set(
      sources('src')
        .join('\n')
        .match(/'chronoverse\.[a-z_.]+'/g)!
        .map((a) => a.slice(1, -1).replaceAll('.', '_')),
    );
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
    expect(exprs.length).toBeGreaterThanOrEqual(10);
    for (const expr of exprs) {
      for (const name of expr.match(/chronoverse_[a-z_]+(?=[[{)\s])/g) ?? []) {
        expect(series.has(name) || attributes.has(name), `${name} in ${expr}`).toBe(true);
      }
      for (const group of expr.matchAll(/by \(([^)]*)\)/g)) {
        for (const label of group[1]!.split(',').map((l) => l.trim())) {
          if (label === 'le') continue;
          expect(attributes.has(label), `label ${label} in ${expr}`).toBe(true);
        }
      }
    }
    // Every instrument has a panel.
    for (const name of instrumentSeries()) {
      const base = name.replace(/_(bucket|count|sum|total)$/, '');
      expect(
        exprs.some((e) => e.includes(base)),
        `a panel for ${base}`,
      ).toBe(true);
    }
  });
});
