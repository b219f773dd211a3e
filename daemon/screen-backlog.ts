/**
 * Output waiting for the screen's emulator, bounded. When a program writes faster than the
 * emulator should parse (a build log, `cat` of a big file), the oldest waiting output is skipped:
 * the screen only has to end up showing the newest output, and parsing every byte would cost the
 * session its throughput. What skipped output switched on or off for good is remembered and
 * replayed in front of what is kept, so the screen stays in the state the program left it in:
 * the alternate screen, cursor and mouse modes, the scroll region, the keypad mode, the
 * character sets (line drawing) and the one in use, the colours and attributes, a full reset.
 */

const ESC = 0x1b;
const CAN = "\x18";
/** Shift Out and Shift In: use character set G1 or G0. */
const SO = 0x0e;
const SI = 0x0f;
/**
 * Attribute changes (SGR) since the last reset of them, at most: their effect adds up, so they
 * are replayed in order. A program that sets more without a reset is replayed from its newest.
 */
const MAX_SGR = 16;

export class ScreenBacklog {
  private chunks: Uint8Array[] = [];
  private bytes = 0;
  private skipped = false;
  /** Mode-setting sequences seen in skipped output, by what they set, oldest first. */
  private readonly modes = new Map<string, string>();
  /** Attribute (SGR) sequences seen in skipped output since the last that reset them. */
  private sgr: string[] = [];
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
      const state = CAN + [...this.modes.values()].join("") + this.sgr.join("");
      parts = [Buffer.from(state, "latin1"), ...parts];
      this.modes.clear();
      this.sgr = [];
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

  /**
   * Finds DEC private modes (CSI ? n h/l), scroll regions (CSI t;b r), attributes (CSI n m),
   * character set designations (ESC ( c, ESC ) c), the keypad mode (ESC =, ESC >), the shift
   * between character sets (SO, SI) and full resets (ESC c).
   */
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
        this.sgr = [];
        this.remember("reset", "\x1bc");
        continue;
      }
      if (next === 0x3d || next === 0x3e) {
        this.remember("keypad", next === 0x3d ? "\x1b=" : "\x1b>");
        continue;
      }
      if ((next === 0x28 || next === 0x29) && at + 2 < bytes.length) {
        const set = bytes[at + 2] as number;
        if (set >= 0x30 && set <= 0x7e) {
          this.remember(next === 0x28 ? "g0" : "g1", bytes.toString("latin1", at, at + 3));
        }
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
      } else if (!isPrivate && final === 0x6d) {
        this.rememberAttributes(params);
      }
    }
    // Which character set is in use: whichever shift came last. (A reset after it is rare, and
    // resets it anyway.)
    const shiftOut = bytes.lastIndexOf(SO);
    const shiftIn = bytes.lastIndexOf(SI);
    if (shiftOut >= 0 || shiftIn >= 0) {
      this.remember("shift", shiftOut > shiftIn ? "\x0e" : "\x0f");
    }
  }

  /** An SGR sequence: one that starts with a reset (CSI m, CSI 0 m, CSI 0;... m) starts afresh. */
  private rememberAttributes(params: string): void {
    const first = params.split(";", 1)[0];
    if (first === "" || first === "0" || first === "00") this.sgr = [];
    if (params === "" || params === "0") return;
    this.sgr.push(`\x1b[${params}m`);
    if (this.sgr.length > MAX_SGR) this.sgr.shift();
  }
}
