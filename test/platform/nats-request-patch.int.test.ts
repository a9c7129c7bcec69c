// The request patch (src/infra/nats-request-patch.ts) against a real nats-server: a settled request
// builds no throwaway error, and every way a request can end still ends it as nats.js says.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectNats, type Nats } from '../../src/infra/nats-connection.ts';
import { isRequestPatchApplied } from '../../src/infra/nats-request-patch.ts';
import { startNatsServer, type TestNatsServer } from '../support/nats-server.ts';

let server: TestNatsServer;
let nats: Nats;

beforeAll(async () => {
  server = await startNatsServer();
  nats = await connectNats(server.url, 'request-patch-test');
  nats.nc.subscribe('echo', {
    callback: (_err, msg) => {
      msg.respond(msg.data);
    },
  });
  await nats.nc.flush();
});

afterAll(async () => {
  await nats?.nc.close();
  await server?.dispose();
});

/** Counts the RequestErrors nats-core builds while `fn` runs (request.js looks the class up per use). */
async function requestErrorsBuiltDuring(fn: () => Promise<void>): Promise<number> {
  const require = createRequire(import.meta.url);
  const errors = require(join(dirname(require.resolve('@nats-io/nats-core/internal')), 'errors.js')) as {
    RequestError: new (...args: unknown[]) => Error;
  };
  const original = errors.RequestError;
  let built = 0;
  errors.RequestError = class extends original {
    constructor(...args: unknown[]) {
      super(...args);
      built++;
    }
  };
  try {
    await fn();
  } finally {
    errors.RequestError = original;
  }
  return built;
}

describe('the nats request patch', () => {
  it('is applied to the installed nats-core', () => {
    expect(isRequestPatchApplied()).toBe(true);
  });

  it('builds no error for requests that got their reply, and each gets its own reply', async () => {
    const built = await requestErrorsBuiltDuring(async () => {
      const replies = await Promise.all(
        Array.from({ length: 50 }, (_, i) => nats.nc.request('echo', `m${i}`, { timeout: 2000 })),
      );
      expect(replies.map((r) => r.string())).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`));
    });
    expect(built).toBe(0);
  });

  it('still rejects a request nobody answers, and one that times out', async () => {
    await expect(nats.nc.request('nobody.listens', 'x', { timeout: 2000 })).rejects.toThrow(/no responders/i);
    nats.nc.subscribe('silent', { callback: () => {} });
    await nats.nc.flush();
    await expect(nats.nc.request('silent', 'x', { timeout: 200 })).rejects.toThrow(/timeout/i);
    // The connection is unharmed by both.
    expect((await nats.nc.request('echo', 'after', { timeout: 2000 })).string()).toBe('after');
  });

  it('still rejects a request left waiting when the connection closes', async () => {
    const other = await connectNats(server.url, 'request-patch-close');
    other.nc.subscribe('silent.too', { callback: () => {} });
    await other.nc.flush();
    const pending = other.nc.request('silent.too', 'x', { timeout: 10_000 });
    await other.nc.close();
    await expect(pending).rejects.toThrow();
  });
});
