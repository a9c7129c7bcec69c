// Refresh tokens against real PostgreSQL: rotation within a family, reuse detection that ends the
// whole family, expiry, logout, and two concurrent rotations of one token.
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashRefreshToken, RefreshTokens } from '../../src/auth/refresh-tokens.ts';
import { UnauthorizedError } from '../../src/errors.ts';
import type { Database } from '../../src/infra/database.ts';
import { connectPostgres } from '../../src/infra/postgres-connection.ts';
import { migratePostgres } from '../../src/migrate/postgres-migrator.ts';
import { newId } from '../support/fixtures.ts';
import { createTestDatabases, type TestDatabases } from '../support/test-databases.ts';

let dbs: TestDatabases;
let db: Kysely<Database>;
let now = new Date('2026-11-27T10:00:00Z');
let tokens: RefreshTokens;

beforeAll(async () => {
  dbs = await createTestDatabases();
  db = connectPostgres(dbs.config.DATABASE_URL, 10);
  await migratePostgres(db);
  tokens = new RefreshTokens(db, { ttlDays: 30, now: () => now });
});

afterAll(async () => {
  await db?.destroy();
  await dbs?.dispose();
});

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(UnauthorizedError);
    return (err as UnauthorizedError).code;
  }
  throw new Error('the refresh token was accepted');
}

const rowOf = (token: string) =>
  db
    .selectFrom('refresh_tokens')
    .selectAll()
    .where('token_hash', '=', hashRefreshToken(token))
    .executeTakeFirstOrThrow();

describe('refresh tokens', () => {
  it('are opaque 32-byte tokens stored only as their SHA-256', async () => {
    const issued = await tokens.issue('user-a');
    expect(issued.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const row = await rowOf(issued.token);
    expect(row.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(row)).not.toContain(issued.token);
    expect(row).toMatchObject({
      user_id: 'user-a',
      family_id: issued.familyId,
      used_at: null,
      revoked_at: null,
    });
    expect(row.expires_at.getTime() - now.getTime()).toBe(30 * 86_400_000);
  });

  it('rotate within the family and mark the old token used', async () => {
    const first = await tokens.issue('user-a');
    const second = await tokens.rotate(first.token);
    expect(second).toMatchObject({ userId: 'user-a', familyId: first.familyId });
    expect(second.token).not.toBe(first.token);
    expect((await rowOf(first.token)).used_at).toEqual(now);
    const third = await tokens.rotate(second.token);
    expect(third.familyId).toBe(first.familyId);
  });

  it('revoke the whole family when a used token comes back, and leave other families alone', async () => {
    const other = await tokens.issue('user-a');
    const first = await tokens.issue('user-a');
    const second = await tokens.rotate(first.token);
    const third = await tokens.rotate(second.token);

    expect(await refusal(tokens.rotate(first.token))).toBe('refresh_token_reused');
    // The newest token, held by whoever rotated last (thief or user), is dead too.
    expect(await refusal(tokens.rotate(third.token))).toBe('refresh_token_reused');
    const family = await db
      .selectFrom('refresh_tokens')
      .select('revoked_at')
      .where('family_id', '=', first.familyId)
      .execute();
    expect(family.every((r) => r.revoked_at !== null)).toBe(true);
    expect((await tokens.rotate(other.token)).familyId).toBe(other.familyId);
  });

  it('refuse unknown and expired tokens, the latter without ending the family', async () => {
    expect(await refusal(tokens.rotate('no-such-token'))).toBe('invalid_refresh_token');
    const shortLived = new RefreshTokens(db, { ttlDays: 1, now: () => now });
    const issued = await shortLived.issue('user-b');
    const saved = now;
    now = new Date(saved.getTime() + 86_400_000);
    try {
      expect(await refusal(shortLived.rotate(issued.token))).toBe('refresh_token_expired');
      expect((await rowOf(issued.token)).revoked_at).toBeNull();
    } finally {
      now = saved;
    }
  });

  it('logout revokes the family of any of its tokens', async () => {
    const first = await tokens.issue('user-c');
    const second = await tokens.rotate(first.token);
    expect(await tokens.revokeFamilyOf(second.token)).toBe(second.familyId);
    expect(await refusal(tokens.rotate(second.token))).toBe('refresh_token_reused');
    expect(await tokens.revokeFamilyOf('unknown')).toBeUndefined();
  });

  it('let exactly one of two concurrent rotations of the same token win', async () => {
    for (let round = 0; round < 5; round++) {
      const issued = await tokens.issue(`user-${newId()}`);
      const results = await Promise.allSettled([tokens.rotate(issued.token), tokens.rotate(issued.token)]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r) => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect((lost[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'refresh_token_reused' });
      // The family holds the original and exactly one successor.
      const family = await db
        .selectFrom('refresh_tokens')
        .select('id')
        .where('family_id', '=', issued.familyId)
        .execute();
      expect(family).toHaveLength(2);
    }
  });
});
