// When the OpenTelemetry SDK is wanted, from the standard variables alone: this module is read by the
// --import bootstrap before anything else loads, so it imports nothing. Off unless an exporter is
// named, or an OTLP endpoint is given; `OTEL_SDK_DISABLED=true` wins over everything.
export type OtelEnv = Readonly<Record<string, string | undefined>>;

const set = (v: string | undefined): v is string => v !== undefined && v.trim() !== '';

/** The exporters a list variable names, lower-cased, empty entries dropped. */
function exporters(v: string | undefined): string[] {
  return set(v)
    ? v
        .split(',')
        .map((e) => e.trim().toLowerCase())
        .filter(Boolean)
    : [];
}

export function sdkWanted(env: OtelEnv): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  const named = [...exporters(env.OTEL_TRACES_EXPORTER), ...exporters(env.OTEL_METRICS_EXPORTER)];
  if (named.some((e) => e !== 'none')) return true;
  return (
    set(env.OTEL_EXPORTER_OTLP_ENDPOINT) ||
    set(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) ||
    set(env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT)
  );
}
