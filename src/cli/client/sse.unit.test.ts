import { describe, expect, it } from 'vitest';
import { readSse } from './sse.ts';

function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(encoder.encode(c));
      controller.close();
    },
  });
}

async function all(chunks: string[]) {
  const out = [];
  for await (const m of readSse(streamOf(chunks))) out.push(m);
  return out;
}

describe('readSse', () => {
  it('parses events split anywhere across chunks, with ids, multi-line data and comments', async () => {
    expect(
      await all([
        ': hello\n\nevent: lo',
        'g\nid: 1:2\ndata: {"a"',
        ':1}\n\ndata: x\ndata: y\n\n',
        'event: end\r\ndata: {}\r\n\r\n',
      ]),
    ).toEqual([
      { event: 'log', id: '1:2', data: '{"a":1}' },
      { event: 'message', id: undefined, data: 'x\ny' },
      { event: 'end', id: undefined, data: '{}' },
    ]);
  });

  it('drops an unfinished block at the end of the stream', async () => {
    expect(await all(['event: log\ndata: half'])).toEqual([]);
  });
});
