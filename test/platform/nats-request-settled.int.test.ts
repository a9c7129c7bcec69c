// Requests on a connection made by connectNats, which skips the error nats.js builds for a request
// already answered (src/infra/nats-request-settled.ts): an answer still resolves, and a request
// without one still fails as before (no responders, a timeout, a connection closed meanwhile).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { errors } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectNats, type Nats } from '../../src/infra/nats-connection.ts';
import { startNatsServer, type TestNatsServer } from '../support/nats-server.ts';

let server: TestNatsServer;
let nats: Nats;

beforeAll(async () => {
  server = await startNatsServer();
  nats = await connectNats(server.url, 'request-settled-test');
  nats.nc.subscribe('echo', {
    callback: (_err, m) => {
      m.respond(m.data);
    },
  });
  nats.nc.subscribe('silent', { callback: () => {} });
  await nats.nc.flush();
});

afterAll(async () => {
  await nats?.nc.close();
  await server?.dispose();
});

describe('requests after the patch', () => {
  it('resolve with their answer, many at once, and build no error for it', async () => {
    // nats.js looks its error classes up on this module object when it builds one: counted here.
    const require = createRequire(import.meta.url);
    const errorsModule = require(join(dirname(require.resolve('@nats-io/nats-core')), 'errors.js')) as {
      RequestError: typeof errors.RequestError;
    };
    const original = errorsModule.RequestError;
    let built = 0;
    errorsModule.RequestError = class extends original {
      constructor(...args: ConstructorParameters<typeof original>) {
        super(...args);
        built++;
      }
    };
    try {
      const answers = await Promise.all(
        Array.from({ length: 200 }, (_, i) => nats.nc.request('echo', String(i), { timeout: 5000 })),
      );
      expect(answers.map((m) => m.string())).toEqual(Array.from({ length: 200 }, (_, i) => String(i)));
    } finally {
      errorsModule.RequestError = original;
    }
    expect(built).toBe(0);
  });

  it('fail without responders, and on a timeout', async () => {
    await expect(nats.nc.request('nobody.listens', 'x', { timeout: 2000 })).rejects.toSatisfy(
      (err) => err instanceof errors.RequestError && err.isNoResponders(),
    );
    await expect(nats.nc.request('silent', 'x', { timeout: 300 })).rejects.toBeInstanceOf(
      errors.TimeoutError,
    );
  });

  it('fail when the connection closes before the answer', async () => {
    const other = await connectNats(server.url, 'request-settled-closing');
    const pending = other.nc.request('silent', 'x', { timeout: 10_000 });
    const outcome = pending.then(
      () => 'answered',
      (err: unknown) => err,
    );
    await other.nc.close();
    expect(await outcome).toBeInstanceOf(Error);
  });
});
