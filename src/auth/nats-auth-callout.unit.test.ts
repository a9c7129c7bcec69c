import { decode, encodeGeneric } from '@nats-io/jwt';
import { createAccount, createServer, createUser } from '@nats-io/nkeys';
import { describe, expect, it } from 'vitest';
import { decideAuthorization, type NatsAuthCalloutOptions } from './nats-auth-callout.ts';
import type { NatsCredential } from './nats-credentials.ts';

const issuer = createAccount();
const server = createServer();
const credential: NatsCredential = { id: 'cred-1', userId: 'user-1', name: 'n', createdAt: new Date(0) };
const now = new Date('2026-12-06T12:00:00Z');
const options: NatsAuthCalloutOptions = {
  credentials: { verify: async (token) => (token === 'cvn_good' ? credential : undefined) },
  issuer,
  account: 'INTEGRATORS',
  sessionSeconds: 900,
  permissionsFor: () => ({ publish: ['p.>'], subscribe: ['s.>'] }),
  now: () => now,
};

/** An authorization request as nats-server 2.10 sends it, signed by the server's key. */
function request(connectOpts: Record<string, unknown>, signer = server) {
  const userNkey = createUser().getPublicKey();
  return {
    userNkey,
    jwt: encodeGeneric(
      signer.getPublicKey(),
      signer,
      'authorization_request',
      {
        server_id: { name: 'n', host: 'h', id: server.getPublicKey() },
        user_nkey: userNkey,
        connect_opts: { protocol: 1, ...connectOpts },
      },
      { aud: 'nats-authorization-request', exp: Math.floor(now.getTime() / 1000) + 2 },
    ),
  };
}

describe('decideAuthorization', () => {
  it('answers a valid token with a user JWT for the server’s nkey, in the integrators account', async () => {
    const r = request({ auth_token: 'cvn_good' });
    const decision = await decideAuthorization(await r.jwt, options);
    expect(decision.kind).toBe('authorized');
    const response = decode<{ jwt: string; type: string }>((decision as { response: string }).response);
    expect(response).toMatchObject({
      sub: r.userNkey,
      aud: server.getPublicKey(),
      iss: issuer.getPublicKey(),
    });
    expect(response.nats.type).toBe('authorization_response');
    const user = decode<{ pub: { allow: string[] }; sub: { allow: string[] } }>(response.nats.jwt!);
    expect(user).toMatchObject({
      sub: r.userNkey,
      aud: 'INTEGRATORS',
      iss: issuer.getPublicKey(),
      name: 'integrator-cred-1',
    });
    expect(user.exp).toBe(Math.floor(now.getTime() / 1000) + 900);
    expect(user.nats.pub?.allow).toEqual(['p.>']);
    expect(user.nats.sub?.allow).toEqual(['s.>']);
  });

  it('answers an unknown, revoked or missing token with an error', async () => {
    for (const opts of [{ auth_token: 'cvn_bad' }, {}, { user: 'chronoverse', pass: 'x' }]) {
      const decision = await decideAuthorization(await request(opts).jwt, options);
      expect(decision.kind).toBe('refused');
      const response = decode<{ error: string; jwt?: string }>((decision as { response: string }).response);
      expect(response.nats.error).toMatch(/not a valid/);
      expect(response.nats.jwt).toBeUndefined();
    }
  });

  it('does not answer what is not a server’s authorization request', async () => {
    expect((await decideAuthorization('garbage', options)).kind).toBe('ignored');
    // Signed by an account key rather than a server's.
    const forged = await request({ auth_token: 'cvn_good' }, createAccount()).jwt;
    expect((await decideAuthorization(forged, options)).kind).toBe('ignored');
  });
});
