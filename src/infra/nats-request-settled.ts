// nats.js 3.4 ends every answered request with `cancel()`, which rejects the request's promise, long
// settled by then (a no-op), with a `new RequestError("cancelled")`: an Error whose stack trace is
// captured for nothing on every JetStream publish, direct get and API call. In bench/append.ts that
// constructor was 9% of the appending process's CPU (CPU profile, 2026-12-07). A request that has been
// answered now skips building that error; a request cancelled before its answer (a timeout, a closed
// connection) is cancelled exactly as before.
import { RequestOne } from '@nats-io/nats-core/internal';

const answered = Symbol('cv.requestAnswered');

type Answerable = RequestOne & { [answered]?: boolean };

let installed = false;

export function skipErrorsForAnsweredRequests(): void {
  if (installed) return;
  installed = true;
  const proto = RequestOne.prototype as Answerable;
  const { resolver, cancel } = RequestOne.prototype;
  proto.resolver = function (this: Answerable, err, msg) {
    this[answered] = true;
    resolver.call(this, err, msg);
  };
  proto.cancel = function (this: Answerable, err) {
    if (err === undefined && this[answered]) {
      // What cancel() does besides the no-op rejection.
      this.timer?.cancel();
      this.mux.cancel(this);
      return;
    }
    cancel.call(this, err);
  };
}
