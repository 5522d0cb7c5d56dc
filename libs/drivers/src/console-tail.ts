/** The last `n` lines of `text` (a final line without a newline counts; \r of serial consoles dropped). */
export function lastLines(text: string, n: number): string[] {
  const lines = text.replace(/\r/g, '').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return n <= 0 ? [] : lines.slice(-n);
}

/**
 * Docker's log stream of a container without a TTY: frames of an 8-byte header (stream type, three
 * zero bytes, a big-endian length) and that many bytes of output. Returns the output, stdout and
 * stderr interleaved as they were written.
 */
export function demuxDockerLog(buffer: Buffer): string {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= buffer.length) {
    const length = buffer.readUInt32BE(offset + 4);
    parts.push(buffer.subarray(offset + 8, offset + 8 + length));
    offset += 8 + length;
  }
  return Buffer.concat(parts).toString('utf8');
}
