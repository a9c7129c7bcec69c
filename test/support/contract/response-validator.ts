// Validates a response against the OpenAPI document: its status must be one the operation documents,
// its Content-Type one documented for that status, and a JSON body must match the documented schema.
// Ajv's JSON Schema 2020-12 is the dialect of OpenAPI 3.1; the document is added whole, so its
// `#/components/...` references resolve as they are written.
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { Doc } from './schema-arbitrary.ts';

const pointerPart = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

export class ResponseValidator {
  private readonly ajv: Ajv2020;

  constructor(private readonly doc: Doc) {
    this.ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
    (addFormats as unknown as (ajv: Ajv2020) => void)(this.ajv);
    // The document's own formats: their rules are stated in words and checked by the server.
    for (const f of ['cron', 'time-zone']) this.ajv.addFormat(f, true);
    this.ajv.addSchema(doc as object, 'openapi.json');
  }

  /** The problems of a response, none when it is what the document says. */
  check(path: string, method: string, status: number, contentType: string | null, body: unknown): string[] {
    const op = this.doc.paths[path]?.[method] as
      | { responses?: Record<string, Record<string, unknown>> }
      | undefined;
    if (!op) return [`${method.toUpperCase()} ${path} is not in the document`];
    const documented = op.responses?.[String(status)] ?? op.responses?.default;
    if (!documented) return [`${status} is not a documented answer of ${method.toUpperCase()} ${path}`];
    const content = documented.content as Record<string, { schema?: unknown }> | undefined;
    if (!content) return [];
    const media = (contentType ?? '').split(';')[0]!.trim();
    if (!(media in content)) {
      return [
        `Content-Type ${media || 'none'} is not documented for ${status} (${Object.keys(content).join(', ')})`,
      ];
    }
    // JSON bodies are checked against their schema; text (plain, ndjson, event streams) is a string.
    if (!/^application\/([\w.-]+\+)?json$/.test(media) || !content[media]?.schema) return [];
    const pointer = `openapi.json#/paths/${pointerPart(path)}/${method}/responses/${status in (op.responses ?? {}) ? status : 'default'}/content/${pointerPart(media)}/schema`;
    const validate = this.ajv.getSchema(pointer);
    if (!validate) return [`no schema at ${pointer}`];
    if (validate(body)) return [];
    return (validate.errors ?? []).map((e) => `${e.instancePath || '(body)'} ${e.message ?? 'is invalid'}`);
  }
}
