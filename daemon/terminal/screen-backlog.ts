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
 * are replayed in order. Of a longer run without a reset only the newest are replayed, which
 * can miss an attribute set before them.
 */
const MAX_SGR = 16;
/** Parameters longer than this are not a sequence worth replaying (truecolour SGR is ~40). */
const MAX_PARAMS = 128;

export class ScreenBacklog {
  private chunks: Uint8Array[] = [];
  private bytes = 0;
  private skipped = false;
  /** Mode-setting sequences seen in skipped output, by what they set, oldest first. */
  private readonly modes = new Map<string, string>();
  /** Attribute (SGR) sequences seen in skipped output since the last that reset them. */
  private sgr: string[] = [];
  /** {@link sgr} when skipped output last saved the cursor (ESC 7, CSI s, CSI ? 1049 h). */
  private savedSgr: string[] | undefined;
  /** An escape sequence cut off at the end of the last skipped chunk. */
  private partial: Buffer | undefined;
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
      this.savedSgr = undefined;
      this.partial = undefined;
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
   * Finds DEC private modes (CSI ? n h/l), scroll regions (CSI t;b r), attributes (CSI n m) and
   * their saves and restores (ESC 7 / ESC 8, CSI s / CSI u), character set designations
   * (ESC ( c, ESC ) c), the keypad mode (ESC =, ESC >), the shift between character sets (SO,
   * SI) and full resets (ESC c). A sequence cut off at the end of one skipped chunk is finished
   * with the start of the next.
   */
  private rememberModes(chunk: Uint8Array): void {
    let bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.partial !== undefined) {
      bytes = Buffer.concat([this.partial, bytes]);
      this.partial = undefined;
    }
    let resetEnd = 0;
    for (let at = bytes.indexOf(ESC); at >= 0; at = bytes.indexOf(ESC, at + 1)) {
      const next = bytes[at + 1];
      if (next === undefined) {
        this.keepPartial(bytes, at);
        break;
      }
      if (next === 0x63) {
        // ESC c (RIS) resets everything before it.
        this.modes.clear();
        this.sgr = [];
        this.savedSgr = undefined;
        this.remember("reset", "\x1bc");
        resetEnd = at + 2;
        continue;
      }
      if (next === 0x37 || next === 0x38) {
        if (next === 0x37) this.saveAttributes();
        else this.restoreAttributes("\x1b8");
        continue;
      }
      if (next === 0x3d || next === 0x3e) {
        this.remember("keypad", next === 0x3d ? "\x1b=" : "\x1b>");
        continue;
      }
      if (next === 0x28 || next === 0x29) {
        const set = bytes[at + 2];
        if (set === undefined) {
          this.keepPartial(bytes, at);
          break;
        }
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
      if (end >= bytes.length) {
        this.keepPartial(bytes, at);
        break;
      }
      if (end - start > MAX_PARAMS) continue;
      const final = bytes[end];
      const params = bytes.toString("latin1", start, end);
      if (isPrivate && (final === 0x68 || final === 0x6c)) {
        for (const mode of params.split(";")) {
          if (mode === "") continue;
          this.remember(`?${mode}`, `\x1b[?${mode}${String.fromCharCode(final)}`);
          // The alternate screen with the cursor (1049) and the cursor alone (1048) save the
          // attributes on h and restore them on l, replayed with the mode itself.
          if (mode === "1049" || mode === "1048") {
            if (final === 0x68) this.saveAttributes();
            else this.restoreAttributes(undefined);
          }
        }
      } else if (!isPrivate && final === 0x72) {
        this.remember("scroll-region", `\x1b[${params}r`);
      } else if (!isPrivate && final === 0x6d) {
        this.rememberAttributes(params);
      } else if (!isPrivate && params === "" && (final === 0x73 || final === 0x75)) {
        if (final === 0x73) this.saveAttributes();
        else this.restoreAttributes("\x1b[u");
      }
    }
    // Which character set is in use: whichever shift came last after the last full reset.
    const shiftOut = bytes.lastIndexOf(SO);
    const shiftIn = bytes.lastIndexOf(SI);
    if (Math.max(shiftOut, shiftIn) >= resetEnd) {
      this.remember("shift", shiftOut > shiftIn ? "\x0e" : "\x0f");
    }
  }

  /** Keeps the escape sequence cut off at `at` for the next skipped chunk (if it is short). */
  private keepPartial(bytes: Buffer, at: number): void {
    if (bytes.length - at <= MAX_PARAMS + 4) this.partial = Buffer.from(bytes.subarray(at));
  }

  /** An SGR sequence: one that starts with a reset (CSI m, CSI 0 m, CSI 0;... m) starts afresh. */
  private rememberAttributes(params: string): void {
    const first = params.split(";", 1)[0];
    if (first === "" || first === "0" || first === "00") this.sgr = [];
    if (params === "" || params === "0") return;
    this.sgr.push(`\x1b[${params}m`);
    if (this.sgr.length > MAX_SGR) this.sgr.shift();
  }

  private saveAttributes(): void {
    this.savedSgr = [...this.sgr];
  }

  /**
   * A restore brings back the attributes of the save. When the save came before the skipped
   * output, only the emulator knows them: the restore itself is replayed (`sequence`), or
   * nothing when the mode that restores is replayed anyway (undefined).
   */
  private restoreAttributes(sequence: string | undefined): void {
    if (this.savedSgr !== undefined) this.sgr = [...this.savedSgr];
    else this.sgr = sequence === undefined ? [] : [sequence];
  }
}
