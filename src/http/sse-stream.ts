// Server-sent events the same way for every stream: keep-alive comments, one AbortSignal that fires
// when the client goes away (or the process stops), and an unexpected error that is logged and
// reaches the client only as a generic `error` event, never with its internal message. A stream opened
// with a credential that can be withdrawn meanwhile (an API key) checks it every second and ends with
// an `error` event `credential_revoked` once it is revoked or expired.
import type { Context } from 'hono';
import { type SSEMessage, streamSSE } from 'hono/streaming';
import type { Logger } from '../telemetry/logger.ts';
import type { AppEnv } from './app-env.ts';

export interface SseChannel {
  send(message: SSEMessage): Promise<void>;
  /** Aborted when the client disconnects or the process is stopping: release everything then. */
  readonly signal: AbortSignal;
}

export interface SseOptions {
  readonly keepAliveMs?: number;
  /** How often a withdrawable credential is checked again. */
  readonly credentialCheckMs?: number;
}

/** Open streams, so that a stopping process can end them (an open response holds server.close()). */
const open = new Set<AbortController>();

/** Ends every open event stream; its handler returns and its response closes. */
export function closeOpenStreams(): void {
  for (const controller of open) controller.abort();
}

export function openSse(
  c: Context,
  log: Logger,
  body: (channel: SseChannel) => Promise<void>,
  options: SseOptions = {},
): Response {
  c.header('X-Accel-Buffering', 'no');
  return streamSSE(c, async (stream) => {
    const controller = new AbortController();
    open.add(controller);
    stream.onAbort(() => controller.abort());
    const keepAlive = setInterval(() => {
      stream.write(': keep-alive\n\n').catch(() => controller.abort());
    }, options.keepAliveMs ?? 15_000);
    const credentialValid = (c as Context<AppEnv>).var.credentialValid;
    let checking = false;
    const credentialCheck =
      credentialValid &&
      setInterval(() => {
        if (checking || controller.signal.aborted) return;
        checking = true;
        credentialValid()
          .then(async (valid) => {
            if (valid || controller.signal.aborted) return;
            await stream
              .writeSSE({ event: 'error', data: JSON.stringify({ code: 'credential_revoked' }) })
              .catch(() => {});
            controller.abort();
          })
          // A store that does not answer ends nothing: the next check asks again.
          .catch(() => {})
          .finally(() => {
            checking = false;
          });
      }, options.credentialCheckMs ?? 1000);
    try {
      await body({
        send: async (message) => {
          if (controller.signal.aborted) return;
          await stream.writeSSE(message);
        },
        signal: controller.signal,
      });
    } catch (err) {
      if (!controller.signal.aborted) {
        log.error('event stream failed', { error: err, path: c.req.path });
        await stream
          .writeSSE({ event: 'error', data: JSON.stringify({ code: 'internal_error' }) })
          .catch(() => {});
      }
    } finally {
      clearInterval(keepAlive);
      if (credentialCheck) clearInterval(credentialCheck);
      open.delete(controller);
    }
  });
}
