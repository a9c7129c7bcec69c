// The committed typed client is the one the OpenAPI document gives today: a change of the document
// that would break a generated client shows here (regenerate with `npm run generate:client`).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLIENT_FILE, generateClient } from '../support/api-client/generate.ts';

describe('the typed client of the API', () => {
  it('is generated from the current document', { timeout: 60_000 }, async () => {
    expect(readFileSync(CLIENT_FILE, 'utf8')).toBe(await generateClient());
  });
});
