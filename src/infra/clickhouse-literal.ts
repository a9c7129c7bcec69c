// The one place a value becomes a ClickHouse SQL literal. ClickHouse 18.16 has no query parameters,
// so strings are quoted here: backslash and single quote escaped, control bytes written as escapes.
export function quoteString(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is escaped
  return `'${value.replace(/[\\'\u0000-\u001f]/g, (ch) => {
    switch (ch) {
      case '\\':
        return '\\\\';
      case "'":
        return "\\'";
      case '\n':
        return '\\n';
      case '\r':
        return '\\r';
      case '\t':
        return '\\t';
      case '\0':
        return '\\0';
      default:
        return `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
    }
  })}'`;
}

export function quoteList(values: readonly string[]): string {
  return values.map(quoteString).join(',');
}
