// Ids derived from names: the same name always gives the same UUID-shaped id (version 5 layout,
// SHA-1). Used wherever a retry must land on the same thing: event ids from a command id, job ids
// from (workflow, nominal time), ids created under an Idempotency-Key.
import { hash } from 'node:crypto';

export function nameBasedUuid(name: string): string {
  // The one-shot hash: half the cost of a createHash object, and this runs for every event id.
  const h = hash('sha1', name, 'hex');
  const variant = ((Number.parseInt(h[16]!, 16) & 3) | 8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
