/**
 * Output waiting for the screen's emulator, bounded. When a program writes faster than the
 * emulator should parse (a build log, `cat` of a big file), the oldest waiting output is skipped:
 * the screen only has to end up showing the newest output, and parsing every byte would cost the
 * session its throughput. What skipped output switched on or off for good (the alternate screen,
 * cursor and mouse modes, the scroll region, a full reset) is remembered and replayed in front of
 * what is kept, so the screen stays in the mode the program is in.
 */

const ESC = 0x1b;
const CAN = "\x18";

export class ScreenBacklog {
  private chunks: Uint8Array[] = [];
  private bytes = 0;
  private skipped = false;
  /** Mode-setting sequences seen in skipped output, by what they set, oldest first. */
  private readonly modes = new Map<string, string>();
  /** Bytes of output skipped since the session started. */
  skippedBytes = 0;

  constructor(private readonly limit: number) {}

  get size(): number {
    return this.bytes;
  }

  /** Whether output was skipped since the last {@link take}. */
  get isSkipping(): boolean {
    return this.skipped;
  }

  push(data: Uint8Array): void {
    this.chunks.push(data);
    this.bytes += data.length;
    while (this.bytes > this.limit && this.chunks.length > 1) {
      const dropped = this.chunks.shift() as Uint8Array;
      this.bytes -= dropped.length;
      this.skippedBytes += dropped.length;
      this.skipped = true;
      this.rememberModes(dropped);
    }
  }

  /**
   * Everything waiting, as one chunk. After skipped output it starts with CAN (ending an escape
   * sequence cut in half) and the remembered modes.
   */
  take(): Uint8Array | undefined {
    if (this.chunks.length === 0) return undefined;
    let parts = this.chunks;
    if (this.skipped) {
      parts = [Buffer.from(CAN + [...this.modes.values()].join(""), "latin1"), ...parts];
      this.modes.clear();
      this.skipped = false;
    }
    const chunk = parts.length === 1 ? (parts[0] as Uint8Array) : Buffer.concat(parts);
    this.chunks = [];
    this.bytes = 0;
    return chunk;
  }

  private remember(key: string, sequence: string): void {
    this.modes.delete(key);
    this.modes.set(key, sequence);
  }

  /** Finds DEC private modes (CSI ? n h/l), scroll regions (CSI t;b r) and resets (ESC c). */
  private rememberModes(chunk: Uint8Array): void {
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    for (
      let at = bytes.indexOf(ESC);
      at >= 0 && at + 1 < bytes.length;
      at = bytes.indexOf(ESC, at + 1)
    ) {
      const next = bytes[at + 1];
      if (next === 0x63) {
        // ESC c (RIS) resets everything before it.
        this.modes.clear();
        this.remember("reset", "\x1bc");
        continue;
      }
      if (next !== 0x5b) continue;
      let end = at + 2;
      const isPrivate = bytes[end] === 0x3f;
      if (isPrivate) end += 1;
      const start = end;
      while (end < bytes.length && (bytes[end] as number) >= 0x30 && (bytes[end] as number) <= 0x3b)
        end += 1;
      if (end >= bytes.length || end - start > 32) continue;
      const final = bytes[end];
      const params = bytes.toString("latin1", start, end);
      if (isPrivate && (final === 0x68 || final === 0x6c)) {
        for (const mode of params.split(";")) {
          if (mode !== "") this.remember(`?${mode}`, `\x1b[?${mode}${String.fromCharCode(final)}`);
        }
      } else if (!isPrivate && final === 0x72) {
        this.remember("scroll-region", `\x1b[${params}r`);
      }
    }
  }
}
