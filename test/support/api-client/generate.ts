// The typed client of the API, generated from its OpenAPI document by swagger-typescript-api (a
// generator that needs no TypeScript compiler API: TypeScript 7 has none). `npm run generate:client`
// writes it; test/api/typed-client.unit.test.ts checks that the committed one is what the document
// gives today, and test/api/typed-client.e2e.test.ts drives the API with it.
import { generateApi } from 'swagger-typescript-api';
import { openapiDocument } from '../../../src/cli/openapi-command.ts';

export const CLIENT_FILE = new URL('./chronoverse-api.ts', import.meta.url);

export async function generateClient(): Promise<string> {
  // No server: whoever uses the client says where the API is (the document names the local one).
  const spec = { ...((await openapiDocument()) as object), servers: [] };
  const { files } = await generateApi({
    spec,
    output: false,
    fileName: 'chronoverse-api.ts',
    httpClientType: 'fetch',
    enumStyle: 'union',
    importFileExtension: '.ts',
    typeOnlyImports: true,
    extractRequestBody: true,
    silent: true,
  });
  const file = files[0];
  if (!file) throw new Error('the generator wrote no file');
  // The generator's fetch wrapper is written for the DOM's types, which this Node project does not
  // load; its internals are not checked here, the API types it exports are (by every caller).
  return `// Generated from the OpenAPI document by \`npm run generate:client\`; do not edit.\n// @ts-nocheck\n${file.fileContent}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { writeFileSync } = await import('node:fs');
  writeFileSync(CLIENT_FILE, await generateClient());
}
