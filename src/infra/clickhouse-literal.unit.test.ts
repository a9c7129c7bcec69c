import { describe, expect, it } from 'vitest';
import { quoteList, quoteString } from './clickhouse-literal.ts';

describe('ClickHouse string literals', () => {
  it('wraps plain text in single quotes', () => {
    expect(quoteString('abc')).toBe("'abc'");
  });
  it('escapes quotes and backslashes so the literal cannot end early', () => {
    expect(quoteString("it's")).toBe("'it\\'s'");
    expect(quoteString('a\\b')).toBe("'a\\\\b'");
    expect(quoteString("\\'; DROP TABLE x; --")).toBe("'\\\\\\'; DROP TABLE x; --'");
  });
  it('escapes control characters and keeps non-ASCII text as it is', () => {
    expect(quoteString('a\nb\tc\0')).toBe("'a\\nb\\tc\\0'");
    expect(quoteString('\u0001')).toBe("'\\x01'");
    expect(quoteString('grüße 日本')).toBe("'grüße 日本'");
  });
  it('joins a list', () => {
    expect(quoteList(['a', "b'"])).toBe("'a','b\\''");
  });
});
