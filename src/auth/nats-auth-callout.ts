// The API's answer to nats-server's auth callout (nats-server 2.10+, `authorization { auth_callout }`).
// The server sends every connection that is not Chronoverse's own to `$SYS.REQ.USER.AUTH` as a JWT it
// signed, holding what the client presented and a user nkey generated for this connection. A token of
// a valid integrator credential is answered with a user JWT for that nkey, signed with the issuer
// account key, that places the connection in the integrators' account with exactly the credential's
// permissions and expires after CV_NATS_SESSION_SECONDS (the client then reconnects and is asked about
// again, so a revoked credential is cut off within that time). Anything else is answered with an error:
// the server refuses the connection ("Authorization Violation").
import {
  type AuthorizationRequest,
  type ClaimsData,
  decode,
  encodeAuthorizationResponse,
  encodeUser,
} from '@nats-io/jwt';
import type { KeyPair } from '@nats-io/nkeys';
import type { Msg, NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '../telemetry/logger.ts';
import type { NatsCredential, NatsCredentials } from './nats-credentials.ts';

export const AUTH_CALLOUT_SUBJECT = '$SYS.REQ.USER.AUTH';
/** Every API process answers, each request once. */
const QUEUE = 'chronoverse-auth-callout';

export interface CalloutPermissions {
  readonly publish: readonly string[];
  readonly subscribe: readonly string[];
}

export interface NatsAuthCalloutOptions {
  readonly credentials: Pick<NatsCredentials, 'verify'>;
  /** The account key named as `issuer` in the server's auth_callout block. */
  readonly issuer: KeyPair;
  /** The account a valid integrator is placed in. */
  readonly account: string;
  readonly sessionSeconds: number;
  readonly permissionsFor: (credential: NatsCredential) => CalloutPermissions;
  readonly now?: () => Date;
}

export type CalloutDecision =
  | { readonly kind: 'ignored'; readonly reason: string }
  | { readonly kind: 'refused'; readonly reason: string; readonly response: string }
  | { readonly kind: 'authorized'; readonly credential: NatsCredential; readonly response: string };

const REFUSED = 'not a valid Chronoverse NATS credential';

/** Reads one authorization request and decides it; `ignored` is not answered at all (not a request). */
export async function decideAuthorization(
  request: string,
  options: NatsAuthCalloutOptions,
): Promise<CalloutDecision> {
  const now = Math.floor((options.now?.() ?? new Date()).getTime() / 1000);
  let claims: ClaimsData<AuthorizationRequest>;
  try {
    // Checks the signature against the issuer the JWT names: a server key (N…).
    claims = decode<AuthorizationRequest>(request);
  } catch (err) {
    return { kind: 'ignored', reason: `not a JWT: ${String(err)}` };
  }
  const req = claims.nats as Partial<AuthorizationRequest> & { type?: string };
  const userNkey = req.user_nkey;
  const serverId = req.server_id?.id;
  if (
    req.type !== 'authorization_request' ||
    claims.aud !== 'nats-authorization-request' ||
    !claims.iss?.startsWith('N') ||
    typeof userNkey !== 'string' ||
    !userNkey.startsWith('U') ||
    typeof serverId !== 'string' ||
    !serverId.startsWith('N')
  ) {
    return { kind: 'ignored', reason: 'not an authorization request of a nats-server' };
  }
  const refuse = async (reason: string): Promise<CalloutDecision> => ({
    kind: 'refused',
    reason,
    response: await encodeAuthorizationResponse(userNkey, serverId, options.issuer, { error: REFUSED }, {}),
  });
  if (claims.exp !== undefined && claims.exp < now) return refuse('the request has expired');
  const token = req.connect_opts?.auth_token;
  if (!token) return refuse('no token presented');
  const credential = await options.credentials.verify(token);
  if (!credential) return refuse('unknown or revoked token');
  const permissions = options.permissionsFor(credential);
  const jwt = await encodeUser(
    // The connection's name on the server (connz, logs, advisories) instead of its token.
    `integrator-${credential.id}`,
    userNkey,
    options.issuer,
    {
      pub: { allow: [...permissions.publish], deny: [] },
      sub: { allow: [...permissions.subscribe], deny: [] },
    },
    { aud: options.account, exp: now + options.sessionSeconds },
  );
  return {
    kind: 'authorized',
    credential,
    response: await encodeAuthorizationResponse(userNkey, serverId, options.issuer, { jwt }, {}),
  };
}

export interface NatsAuthCallout {
  stop(): Promise<void>;
}

/** Answers the server's authorization requests on `nc` (a connection of an auth_users user). */
export function startNatsAuthCallout(
  nc: NatsConnection,
  options: NatsAuthCalloutOptions & { readonly log?: Logger },
): NatsAuthCallout {
  const pending = new Set<Promise<void>>();
  const handle = async (msg: Msg) => {
    try {
      const decision = await decideAuthorization(msg.string(), options);
      if (decision.kind === 'ignored') {
        options.log?.warn('auth callout: message ignored', { reason: decision.reason });
        return;
      }
      if (decision.kind === 'refused') {
        options.log?.debug('auth callout: connection refused', { reason: decision.reason });
      } else {
        options.log?.debug('auth callout: integrator connected', {
          credential_id: decision.credential.id,
          user_id: decision.credential.userId,
        });
      }
      msg.respond(decision.response);
    } catch (err) {
      // No answer: the server refuses the connection when its auth timeout passes, and the client
      // tries again (a store outage ends the same way).
      options.log?.warn('auth callout: request not answered', { error: err });
    }
  };
  const sub = nc.subscribe(AUTH_CALLOUT_SUBJECT, {
    queue: QUEUE,
    callback: (err, msg) => {
      if (err) return;
      const p = handle(msg).finally(() => pending.delete(p));
      pending.add(p);
    },
  });
  return {
    async stop() {
      sub.unsubscribe();
      await Promise.allSettled([...pending]);
    },
  };
}
