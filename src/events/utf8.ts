// UTF-8 text to bytes and back for the message payloads of the hot paths (every commit, dispatch
// message and log batch is encoded or decoded once per hop). Node's Buffer does both several times
// faster than a TextEncoder or TextDecoder, the more so when those are built per call (measured:
// 1.2 → 0.15 µs to encode a commit, 0.16 → 0.09 µs to decode one).

/** The UTF-8 bytes of `text`. */
export function utf8Bytes(text: string): Uint8Array {
  return Buffer.from(text, 'utf8');
}

/** The text of UTF-8 `bytes` (invalid sequences become U+FFFD, as with a TextDecoder). */
export function utf8Text(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}
