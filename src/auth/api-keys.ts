// API keys for automation (CI pipelines, scripts, the command-line client): an opaque bearer secret
// per key, shown once when created and stored only as its SHA-256, with scopes (`read`, `write`), an
// optional expiry and a last use. Every request with a key is checked against PostgreSQL, or against
// what this process read there less than a second ago (REVOCATION_LAG_MS): a revoked or expired key is
// refused by every API process within a second, and at once by the process that revoked it.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { ConflictError, NotFoundError } from '../errors.ts';
import type { Database } from '../infra/database.ts';

/** Every key starts so: recognisable by a secret scanner, and told from access tokens (JWTs). */
export const API_KEY_PREFIX = 'cvk_';
/** Keys one user may hold at once (revoked and expired ones do not count). */
export const MAX_API_KEYS = 100;
/** The longest a verified key is trusted without asking PostgreSQL again. */
export const REVOCATION_LAG_MS = 1000;
/** last_used_at is written at most this often per key (a key used in a loop writes once a minute). */
export const LAST_USE_RESOLUTION_MS = 60_000;

export const API_KEY_SCOPES = ['read', 'write'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

export interface ApiKey {
  readonly id: string;
  readonly userId: string;
  readonly name: string;
  readonly scopes: readonly ApiKeyScope[];
  readonly createdAt: Date;
  readonly expiresAt: Date | null;
  readonly lastUsedAt: Date | null;
}

export interface CreatedApiKey extends ApiKey {
  /** The key, shown once to its owner and never stored. */
  readonly key: string;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Whether a bearer token is shaped like an API key (else it is taken for an access token). */
export function looksLikeApiKey(token: string): boolean {
  return token.startsWith(API_KEY_PREFIX);
}

const COLUMNS = ['id', 'user_id', 'name', 'scopes', 'created_at', 'expires_at', 'last_used_at'] as const;
type Row = {
  id: string;
  user_id: string;
  name: string;
  scopes: string[];
  created_at: Date;
  expires_at: Date | null;
  last_used_at: Date | null;
};

export interface ApiKeysOptions {
  readonly now?: () => Date;
  /** Told when writing a last use failed (the request it belongs to is served all the same). */
  readonly onWarning?: (message: string, error: unknown) => void;
}

export class ApiKeys {
  private readonly now: () => Date;
  private readonly onWarning: (message: string, error: unknown) => void;
  /** By key hash: the key as read at `checkedAt` (ms). Only keys that were valid then are kept. */
  private readonly verified = new Map<string, { key: ApiKey; checkedAt: number }>();
  /** By key id: when this process last wrote its last use (ms). */
  private readonly lastUseWritten = new Map<string, number>();

  constructor(
    private readonly db: Kysely<Database>,
    options: ApiKeysOptions = {},
  ) {
    this.now = options.now ?? (() => new Date());
    this.onWarning = options.onWarning ?? (() => {});
  }

  async create(
    userId: string,
    input: { name: string; scopes: readonly ApiKeyScope[]; expiresAt?: Date | null },
  ): Promise<CreatedApiKey> {
    const now = this.now();
    const active = await this.db
      .selectFrom('api_keys')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
      .executeTakeFirstOrThrow();
    if (Number(active.n) >= MAX_API_KEYS) {
      throw new ConflictError(
        'too_many_api_keys',
        `A user may hold ${MAX_API_KEYS} API keys at once; revoke one first`,
      );
    }
    const key = `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
    const scopes = API_KEY_SCOPES.filter((s) => input.scopes.includes(s));
    const row = await this.db
      .insertInto('api_keys')
      .values({
        id: randomUUID(),
        user_id: userId,
        name: input.name,
        scopes,
        token_hash: hashApiKey(key),
        created_at: now,
        expires_at: input.expiresAt ?? null,
        last_used_at: null,
      })
      .returning(COLUMNS)
      .executeTakeFirstOrThrow();
    return { ...fromRow(row), key };
  }

  /** The user's keys that are not revoked (expired ones included, marked by expires_at), newest first. */
  async list(userId: string): Promise<ApiKey[]> {
    const rows = await this.db
      .selectFrom('api_keys')
      .select(COLUMNS)
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(1000)
      .execute();
    return rows.map(fromRow);
  }

  /**
   * Revokes one of the user's keys. api_key_not_found when it does not exist, is another user's, or
   * is already revoked (the same answer for all three).
   */
  async revoke(userId: string, id: string): Promise<void> {
    const row = await this.db
      .updateTable('api_keys')
      .set({ revoked_at: this.now() })
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .returning(['id'])
      .executeTakeFirst();
    if (!row) throw new NotFoundError('api_key_not_found', 'No such API key');
    for (const [hash, entry] of this.verified) if (entry.key.id === id) this.verified.delete(hash);
  }

  /**
   * The key a presented secret belongs to, unless it is unknown, revoked or expired. `fresh` asks
   * PostgreSQL whatever this process read before (an open event stream re-checks its key so).
   */
  async verify(secret: string, options: { fresh?: boolean } = {}): Promise<ApiKey | undefined> {
    if (!looksLikeApiKey(secret) || secret.length > 200) return undefined;
    const hash = hashApiKey(secret);
    const nowMs = this.now().getTime();
    let key: ApiKey | undefined;
    const hit = this.verified.get(hash);
    if (hit && !options.fresh && nowMs - hit.checkedAt < REVOCATION_LAG_MS) {
      key = hit.key;
    } else {
      this.verified.delete(hash);
      const row = await this.db
        .selectFrom('api_keys')
        .select(COLUMNS)
        .where('token_hash', '=', hash)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      if (!row) return undefined;
      key = fromRow(row);
      if (this.verified.size >= 10_000) this.verified.clear();
      this.verified.set(hash, { key, checkedAt: nowMs });
    }
    if (key.expiresAt && key.expiresAt.getTime() <= nowMs) {
      this.verified.delete(hash);
      return undefined;
    }
    this.noteUse(key.id, nowMs);
    return key;
  }

  /** Writes the key's last use, at most once per LAST_USE_RESOLUTION_MS, without holding the request. */
  private noteUse(id: string, nowMs: number): void {
    const last = this.lastUseWritten.get(id);
    if (last !== undefined && nowMs - last < LAST_USE_RESOLUTION_MS) return;
    if (this.lastUseWritten.size >= 10_000) this.lastUseWritten.clear();
    this.lastUseWritten.set(id, nowMs);
    this.db
      .updateTable('api_keys')
      .set({ last_used_at: new Date(nowMs) })
      .where('id', '=', id)
      .execute()
      .catch((err: unknown) => {
        this.lastUseWritten.delete(id);
        this.onWarning('api key last use not written', err);
      });
  }
}

function fromRow(row: Row): ApiKey {
  return {
    id: row.id,
    userId: row.user_id,
    name: row.name,
    scopes: row.scopes.filter((s): s is ApiKeyScope => (API_KEY_SCOPES as readonly string[]).includes(s)),
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
  };
}
