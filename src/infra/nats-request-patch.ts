// nats.js 3.4 ends every request in RequestOne.cancel(), which builds `new RequestError("cancelled")`
// (a stack trace and all) to reject a promise that, after a reply, is already settled: the error is
// made and thrown away. Every JetStream publish is such a request, and in a scheduler under load that
// constructor was the largest single function of its CPU profile (7% of its busy time; 4–5% in an
// executor). This skips building the error when the request has been settled by its reply or its
// error; a cancel of an unsettled request (a timeout, a failed publish) runs as the library wrote it.
// Applied once per process, to the exact nats-core version this project pins (transport-node pins the
// same); a version whose RequestOne no longer has this shape is left alone (see isRequestPatchApplied).
import { RequestOne } from '@nats-io/nats-core/internal';

const settled = Symbol('settled');

interface PatchableRequest {
  [settled]?: boolean;
  timer?: { cancel(): void };
  mux: { cancel(request: unknown): void };
  resolver(err: Error | null, msg: unknown): void;
  cancel(err?: Error): void;
}

let applied = false;

export function skipDiscardedRequestErrors(): boolean {
  if (applied) return true;
  const proto = RequestOne.prototype as unknown as PatchableRequest;
  if (typeof proto.resolver !== 'function' || typeof proto.cancel !== 'function') return false;
  const resolver = proto.resolver;
  const cancel = proto.cancel;
  proto.resolver = function (this: PatchableRequest, err, msg) {
    this[settled] = true;
    resolver.call(this, err, msg);
  };
  proto.cancel = function (this: PatchableRequest, err) {
    if (err || !this[settled]) {
      cancel.call(this, err);
      return;
    }
    this.timer?.cancel();
    this.mux.cancel(this);
  };
  applied = true;
  return true;
}

/** Whether this process runs with the patch (false: the installed nats-core changed shape). */
export function isRequestPatchApplied(): boolean {
  return applied;
}
