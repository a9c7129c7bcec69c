// Two checks every layer uses: exhaustive switches, and names spliced into ClickHouse SQL.

/** Makes a `switch` over a union fail to compile when a member is not handled. */
export function assertNever(value: never): never {
  throw new Error(`Unhandled case: ${JSON.stringify(value)}`);
}

/** A database or table name that may be written into a ClickHouse statement as it is. */
export function assertIdentifier(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`not a plain ClickHouse identifier: ${name}`);
  return name;
}
