// The HTTP API: the Hono app on a Node server, and the answers to nats-server's auth callout (a
// server configured for integrators asks the API about every connection that is not Chronoverse's
// own; on one that is not, nothing is ever asked). Stopping closes the listener and waits for
// requests in flight (at most API_DRAIN_MS, a little longer than a command may take); keep-alive
// connections are closed as they fall idle, and answers given meanwhile close theirs.
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { createAuthServices } from '../auth/auth-services.ts';
import { startNatsAuthCallout } from '../auth/nats-auth-callout.ts';
import { loadNatsIssuer } from '../auth/nats-issuer.ts';
import { integratorAccess } from '../events/integrator-access.ts';
import { createApp } from '../http/app.ts';
import { closeOpenStreams } from '../http/sse-stream.ts';
import { followWorkflows } from '../reactors/workflow-follower.ts';
import type { RoleStarter } from './role.ts';

/** How long a stopping API waits for the requests in flight before it closes their connections. */
const API_DRAIN_MS = 35_000;

export const startApi: RoleStarter = async (runtime) => {
  const auth = await createAuthServices({
    db: runtime.db,
    config: runtime.config,
    nats: runtime.nats,
    log: runtime.log.child('auth'),
  });
  const callout = startNatsAuthCallout(runtime.nats.nc, {
    credentials: auth.natsCredentials,
    issuer: await loadNatsIssuer(runtime.config),
    account: runtime.config.CV_NATS_INTEGRATORS_ACCOUNT,
    sessionSeconds: runtime.config.CV_NATS_SESSION_SECONDS,
    permissionsFor: (credential) => integratorAccess(credential.userId, credential.id).permissions,
    log: runtime.log.child('nats-auth-callout'),
  });
  // Run-now and edits are decided on the workflow snapshots this process caches; kept current, they
  // rarely conflict with the job ends the scheduler records meanwhile.
  const follower = followWorkflows(runtime.nats, runtime.commands, runtime.log.child('workflow-follower'));
  const app = createApp({
    log: runtime.log.child('http'),
    readinessProbes: runtime.readinessProbes,
    api: {
      config: runtime.config,
      db: runtime.db,
      commands: runtime.commands,
      events: runtime.events,
      archive: runtime.archive,
      auth,
      nats: runtime.nats,
      clickhouse: runtime.clickhouse,
    },
  });
  const { CV_HTTP_HOST: hostname, CV_HTTP_PORT: port } = runtime.config;
  // server.close() waits for every open connection, and a client that sends a request on a keep-alive
  // connection more often than it idles keeps that connection, and the stop, going for ever (seen: an
  // API under a run-now every 200 ms never exited after SIGTERM). While stopping, every answer closes
  // its connection, and the client opens a new one, to another process.
  let stopping = false;
  const answer: typeof app.fetch = async (request, ...rest) => {
    const response = await app.fetch(request, ...rest);
    if (stopping) {
      try {
        response.headers.set('Connection', 'close');
      } catch {
        // A response with immutable headers: the sweep below closes its connection once idle.
      }
    }
    return response;
  };
  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: answer, hostname, port }, () => resolve(s as Server));
    // Node closes an idle keep-alive connection after 5 s, and a client that picks that connection at
    // the same instant gets ECONNRESET (seen under load). A long idle timeout, as load balancers use,
    // leaves closing to the client; headersTimeout must stay above it.
    (s as Server).keepAliveTimeout = 65_000;
    (s as Server).headersTimeout = 66_000;
    (s as Server).once('error', reject);
  });
  runtime.log.info('api listening', { url: `http://${hostname}:${port}` });
  return {
    name: 'api',
    stop: async () => {
      stopping = true;
      await new Promise<void>((resolve) => {
        const sweep = setInterval(() => server.closeIdleConnections(), 250);
        const force = setTimeout(() => server.closeAllConnections(), API_DRAIN_MS);
        server.close(() => {
          clearInterval(sweep);
          clearTimeout(force);
          resolve();
        });
        // Event streams never end by themselves; server.close() waits for them, so end them.
        closeOpenStreams();
        server.closeIdleConnections();
      });
      await callout.stop();
      await auth.close();
      await follower.stop();
    },
  };
};
