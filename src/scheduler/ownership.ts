// Which scheduler replica looks after which workflow: rendezvous (highest random weight) hashing over
// the live members. Every replica computes the same answer from the same member list, and when a
// member leaves only its workflows move. Ownership only spreads the work: the workflow actor is what
// guarantees a tick fires once, even while two replicas briefly disagree about membership.
import { createHash } from 'node:crypto';

function weight(member: string, key: string): bigint {
  return createHash('sha256').update(`${member}\n${key}`).digest().readBigUInt64BE(0);
}

export function ownerOf(key: string, members: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestWeight = -1n;
  for (const m of members) {
    const w = weight(m, key);
    if (w > bestWeight || (w === bestWeight && best !== undefined && m < best)) {
      best = m;
      bestWeight = w;
    }
  }
  return best;
}
