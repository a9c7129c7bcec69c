// PostgreSQL refuses the NUL character in text and jsonb. The log may hold one (an event written by
// another client, an older version), and a projection that cannot write a row would stop for every
// user; so text on its way into Postgres has NUL replaced by U+FFFD.
export function postgresSafe<T>(value: T): T {
  if (typeof value === 'string')
    return (value.includes('\u0000') ? value.replaceAll('\u0000', '\uFFFD') : value) as T;
  if (Array.isArray(value)) return value.map(postgresSafe) as T;
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [postgresSafe(k), postgresSafe(v)])) as T;
  }
  return value;
}
