import { describe, expect, it } from 'vitest';
import { LineSplitter } from './line-splitter.ts';

function split(chunks: (string | Buffer)[], max?: number): string[] {
  const lines: string[] = [];
  const s = new LineSplitter((l) => lines.push(l), max);
  for (const c of chunks) s.push(typeof c === 'string' ? Buffer.from(c) : c);
  s.end();
  return lines;
}

describe('line splitter', () => {
  it('keeps a partial line until its newline arrives', () => {
    expect(split(['hel', 'lo\nwor', 'ld\n'])).toEqual(['hello', 'world']);
  });
  it('emits the last line without newline at the end', () => {
    expect(split(['a\nb'])).toEqual(['a', 'b']);
  });
  it('drops empty lines and a trailing carriage return', () => {
    expect(split(['a\r\n\n\nb\n'])).toEqual(['a', 'b']);
  });
  it('cuts a long line at the limit, without a newline ever coming', () => {
    expect(split(['x'.repeat(25)], 10)).toEqual(['x'.repeat(10), 'x'.repeat(10), 'x'.repeat(5)]);
    expect(split(['y'.repeat(12), '\n'], 10)).toEqual(['y'.repeat(10), 'yy']);
  });
  it('never cuts inside a multi-byte character, even across chunks', () => {
    const text = 'ééééé'; // 10 bytes
    expect(split([text], 3)).toEqual(['é', 'é', 'é', 'é', 'é']);
    const bytes = Buffer.from('日本\n');
    expect(split([bytes.subarray(0, 4), bytes.subarray(4)])).toEqual(['日本']);
  });
});
