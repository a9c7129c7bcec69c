// Splits a byte stream into lines: a partial line waits for its newline (or the end of the stream),
// and a line longer than `maxBytes` is cut into pieces of at most that size, so one runaway line
// cannot hold unbounded memory. Empty lines are dropped, as in the original. Decoding is UTF-8 and
// never splits a multi-byte character.
export const MAX_LINE_BYTES = 16 * 1024;

export class LineSplitter {
  private pending: Buffer = Buffer.alloc(0);

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly maxBytes = MAX_LINE_BYTES,
  ) {}

  push(chunk: Buffer): void {
    let data = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    for (;;) {
      const nl = data.indexOf(0x0a);
      if (nl === -1) break;
      this.emit(data.subarray(0, nl));
      data = data.subarray(nl + 1);
    }
    while (data.length > this.maxBytes) {
      const cut = safeCut(data, this.maxBytes);
      this.emit(data.subarray(0, cut));
      data = data.subarray(cut);
    }
    this.pending = Buffer.from(data);
  }

  /** The stream ended: a last line without newline still counts. */
  end(): void {
    if (this.pending.length) this.emit(this.pending);
    this.pending = Buffer.alloc(0);
  }

  private emit(bytes: Buffer): void {
    let start = 0;
    while (bytes.length - start > this.maxBytes) {
      const cut = start + safeCut(bytes.subarray(start), this.maxBytes);
      this.deliver(bytes.subarray(start, cut));
      start = cut;
    }
    this.deliver(bytes.subarray(start));
  }

  private deliver(bytes: Buffer): void {
    const line = bytes.toString('utf8').replace(/\r$/, '');
    if (line.length) this.onLine(line);
  }
}

/** The largest cut <= max that does not fall inside a UTF-8 multi-byte character. */
function safeCut(data: Buffer, max: number): number {
  let cut = max;
  while (cut > 0 && ((data[cut] ?? 0) & 0xc0) === 0x80) cut--;
  return cut || max;
}
