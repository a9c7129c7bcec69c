// fast-check arbitraries built from the OpenAPI document's own schemas (the subset of JSON Schema
// 2020-12 it uses): what the document calls a valid value, generated. Formats whose meaning a pattern
// cannot carry (cron, time zone, instants, URLs, durations with a maximum) get generators of values
// that mean what the format says; the document states those rules in words. Strings never hold a
// NUL or a control character: the document's 422 says no text may (nul_character).
import fc from 'fast-check';

export type Schema = Record<string, unknown>;
export type Doc = {
  components: { schemas: Record<string, Schema> };
  paths: Record<string, Record<string, Schema>>;
};

const CRONS = [
  '*/15 * * * *',
  '0 3 * * *',
  '30 2 * * 1-5',
  '0 0 1 * *',
  '*/10 * * * * *',
  '0 12 13 * 5',
  '0 0 L 2 *',
  '5,35 8-18 * * MON-FRI',
];
const ZONES = [
  'UTC',
  'Europe/Berlin',
  'America/New_York',
  'Australia/Lord_Howe',
  'Asia/Kolkata',
  'Pacific/Apia',
];

/** Values of the formats the document uses. `endpoint`s point at this machine: nothing is fetched. */
const FORMATS: Record<string, fc.Arbitrary<unknown>> = {
  cron: fc.constantFrom(...CRONS),
  'time-zone': fc.constantFrom(...ZONES),
  'date-time': fc
    .date({
      min: new Date('2020-01-01T00:00:00Z'),
      max: new Date('2040-01-01T00:00:00Z'),
      noInvalidDate: true,
    })
    .map((d) => d.toISOString()),
  uri: fc.stringMatching(/^\/[a-z0-9/]{0,20}$/).map((path) => `http://127.0.0.1:9${path}`),
  email: fc.stringMatching(/^[a-z][a-z0-9]{2,12}$/).map((s) => `${s}@example.com`),
  uuid: fc.uuid(),
};

const text = (min: number, max: number) => fc.string({ minLength: min, maxLength: Math.max(min, max) });

export class SchemaArbitraries {
  constructor(private readonly doc: Doc) {}

  resolve(schema: Schema): Schema {
    let s = schema;
    for (let i = 0; typeof s.$ref === 'string' && i < 10; i++) {
      const name = (s.$ref as string).replace('#/components/schemas/', '');
      const target = this.doc.components.schemas[name];
      if (!target) throw new Error(`unknown $ref ${s.$ref as string}`);
      s = { ...target, ...Object.fromEntries(Object.entries(s).filter(([k]) => k !== '$ref')) };
    }
    return s;
  }

  /** A valid value of the schema. */
  valid(schema: Schema): fc.Arbitrary<unknown> {
    const s = this.resolve(schema);
    if ('const' in s) return fc.constant(s.const);
    if (Array.isArray(s.enum)) return fc.constantFrom(...(s.enum as unknown[]));
    if (Array.isArray(s.anyOf) || (Array.isArray(s.oneOf) && !isObjectLike(s))) {
      return fc.oneof(...((s.anyOf ?? s.oneOf) as Schema[]).map((b) => this.valid(b)));
    }
    const type = s.type;
    if (Array.isArray(type)) {
      return fc.oneof(...type.map((t) => this.valid({ ...s, type: t })));
    }
    if (isObjectLike(s)) return this.object(s);
    switch (type) {
      case 'null':
        return fc.constant(null);
      case 'boolean':
        return fc.boolean();
      case 'integer':
        return fc.integer({
          min: (s.minimum as number | undefined) ?? -1000,
          max: (s.maximum as number | undefined) ?? 1_000_000,
        });
      case 'number': {
        const min = (s.minimum as number | undefined) ?? (s.exclusiveMinimum as number | undefined) ?? -1000;
        const max = (s.maximum as number | undefined) ?? 1_000_000;
        return fc
          .double({ min, max, noNaN: true, noDefaultInfinity: true })
          .filter((n) => s.exclusiveMinimum === undefined || n > (s.exclusiveMinimum as number));
      }
      case 'array':
        return fc.array(this.valid((s.items as Schema | undefined) ?? {}), {
          minLength: (s.minItems as number | undefined) ?? 0,
          maxLength: Math.min((s.maxItems as number | undefined) ?? 4, 4),
        });
      case 'string':
        return this.string(s);
      default:
        return fc.constant('x');
    }
  }

  private string(s: Schema): fc.Arbitrary<string> {
    if (s.contentMediaType === 'application/json' && s.contentSchema) {
      return this.valid(s.contentSchema as Schema).map((v) => JSON.stringify(v));
    }
    const maxMs = s['x-maximum-ms'] as number | undefined;
    if (maxMs !== undefined) {
      return fc.oneof(
        fc.integer({ min: 1, max: Math.floor(maxMs / 1000) }).map((n) => `${n}s`),
        fc.integer({ min: 1, max: Math.floor(maxMs / 60_000) }).map((n) => `${n}m`),
        fc.integer({ min: 1, max: maxMs }).map((n) => `${n}ms`),
      );
    }
    const format = s.format as string | undefined;
    if (format && FORMATS[format]) return FORMATS[format] as fc.Arbitrary<string>;
    const min = (s.minLength as number | undefined) ?? 0;
    const max = Math.min((s.maxLength as number | undefined) ?? 40, 40);
    if (typeof s.pattern === 'string') {
      return fc.stringMatching(new RegExp(s.pattern)).filter((v) => v.length >= min && v.length <= max);
    }
    return text(min, max);
  }

  /** An object: its required properties, some optional ones, and the branches of its oneOf/allOf. */
  private object(s: Schema): fc.Arbitrary<Record<string, unknown>> {
    // Each oneOf (at the top or inside allOf) picks one branch; a branch that only requires names
    // excludes what its siblings require (oneOf is exclusive).
    const choices = [s, ...(((s.allOf as Schema[] | undefined) ?? []) as Schema[])]
      .map((part) => part.oneOf as Schema[] | undefined)
      .filter((o): o is Schema[] => Array.isArray(o));
    const picks = choices.map((branches) => fc.integer({ min: 0, max: branches.length - 1 }));
    return fc.tuple(...picks).chain((indexes) => {
      let properties = { ...((s.properties as Record<string, Schema> | undefined) ?? {}) };
      const required = new Set((s.required as string[] | undefined) ?? []);
      const excluded = new Set<string>();
      indexes.forEach((index, i) => {
        const branches = choices[i]!;
        const branch = this.resolve(branches[index]!);
        properties = { ...properties, ...((branch.properties as Record<string, Schema> | undefined) ?? {}) };
        for (const r of (branch.required as string[] | undefined) ?? []) required.add(r);
        branches.forEach((other, j) => {
          if (j === index || other.properties) return;
          for (const r of (other.required as string[] | undefined) ?? []) excluded.add(r);
        });
      });
      for (const r of required) excluded.delete(r);
      const optional = Object.keys(properties).filter((k) => !required.has(k) && !excluded.has(k));
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const k of [...required, ...optional]) record[k] = this.valid(properties[k] ?? {});
      const fixed = fc.record(record, { requiredKeys: [...required] }) as fc.Arbitrary<
        Record<string, unknown>
      >;
      const extra = s.additionalProperties;
      if (extra && typeof extra === 'object' && Object.keys(properties).length === 0) {
        const names = s.propertyNames as Schema | undefined;
        const key = names ? this.string({ type: 'string', ...names, maxLength: 20 }) : text(1, 12);
        return fc.dictionary(key, this.valid(extra as Schema), { maxKeys: 3 });
      }
      return fixed
        .map((o) => withoutForbiddenPairs(s, o))
        .filter((o) => Object.keys(o).length >= ((s.minProperties as number | undefined) ?? 0));
    });
  }
}

function isObjectLike(s: Schema): boolean {
  return (
    s.type === 'object' || (s.type === undefined && (s.properties !== undefined || s.allOf !== undefined))
  );
}

/** `not: {anyOf: [{required: [a, b]}, …]}`: drop names until no forbidden pair is left. */
function withoutForbiddenPairs(s: Schema, o: Record<string, unknown>): Record<string, unknown> {
  const forbidden = ((s.not as Schema | undefined)?.anyOf as Schema[] | undefined) ?? [];
  const out = { ...o };
  for (const rule of forbidden) {
    const names = (rule.required as string[] | undefined) ?? [];
    if (names.every((n) => n in out)) delete out[names[names.length - 1]!];
  }
  return out;
}
