/**
 * The session's screen, kept by a headless xterm.js terminal fed with every byte of output. It
 * answers CaptureScreen and gives AttachTerminal its first frame, so a full-screen program appears
 * exactly as it is instead of as a replay of its whole log.
 */
import serializeAddon from "@xterm/addon-serialize";
import xtermHeadless from "@xterm/headless";

const { Terminal } = xtermHeadless;
const { SerializeAddon } = serializeAddon;

/** Lines kept above the visible screen. */
export const SCROLLBACK_LINES = 1000;

/**
 * What a newly attached terminal needs before the screen: leave the alternate screen, reset
 * attributes and modes (DECSTR), clear, home.
 */
const RESET_PREFIX = "\x1b[?1049l\x1b[!p\x1b[0m\x1b[H\x1b[2J\x1b[3J";
const ALT_SCREEN_MARK = "\x1b[?1049h\x1b[H";

export interface ScreenText {
  text: string;
  cols: number;
  rows: number;
  cursorX: number;
  cursorY: number;
}

/**
 * Output waiting for the emulator is capped: when a program floods its terminal (a build log or
 * `cat` of a big file), faster than the emulator parses or than {@link FLOOD_BYTES_PER_WINDOW},
 * the oldest waiting output is skipped and only the newest is parsed, so the screen keeps up
 * with the program instead of slowing it down. Programs that draw a screen write far less than
 * this between frames.
 */
export const MAX_PENDING_BYTES = 128 * 1024;
/**
 * While flooding, the emulator parses at most this often, leaving the CPU to the output path.
 * Nobody sees the screen between these parses: a snapshot (attach, resync), a capture or a
 * resize parses what is pending first. So the interval only bounds the background work: each
 * parse of {@link MAX_PENDING_BYTES} of scrolling text costs ~15 ms, which at 40 ms took a
 * quarter of a core from a flooding session's log and clients.
 */
const FLOOD_PARSE_INTERVAL_MS = 250;
/**
 * Output faster than this many bytes per {@link RATE_WINDOW_MS} (2.6 MB/s) is a flood even when
 * the emulator keeps up with it: xterm.js parses scrolling text at 40-50 MB/s, so a program
 * writing 20 MB/s was parsed in full and the emulator took half of the daemon's time. Screens
 * are drawn with far less: a full 120x40 frame in colour is ~40 KB.
 */
const FLOOD_BYTES_PER_WINDOW = 256 * 1024;
const RATE_WINDOW_MS = 100;
/** CAN: aborts an escape sequence cut in half by skipped output. */
const CANCEL = new Uint8Array([0x18]);

export class TerminalScreen {
  private readonly terminal: InstanceType<typeof Terminal>;
  private readonly serializer: InstanceType<typeof SerializeAddon>;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private parsing = false;
  /** Output was skipped since the last parse. */
  private flooding = false;
  /** Output comes faster than {@link FLOOD_BYTES_PER_WINDOW}. */
  private fastOutput = false;
  private windowStart = 0;
  private windowBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private disposed = false;
  /** Bytes of output skipped because they came too fast (never parsed). */
  skippedBytes = 0;

  constructor(cols: number, rows: number) {
    this.terminal = new Terminal({
      cols,
      rows,
      scrollback: SCROLLBACK_LINES,
      allowProposedApi: true,
    });
    this.serializer = new SerializeAddon();
    this.terminal.loadAddon(this.serializer);
  }

  get cols(): number {
    return this.terminal.cols;
  }

  get rows(): number {
    return this.terminal.rows;
  }

  /** Feeds output. Cheap: parsing happens later, in batches. */
  write(data: Uint8Array): void {
    if (this.disposed) return;
    this.measureRate(data.length);
    this.pending.push(data);
    this.pendingBytes += data.length;
    let skipped = false;
    while (this.pendingBytes > MAX_PENDING_BYTES && this.pending.length > 1) {
      const dropped = this.pending.shift() as Uint8Array;
      this.pendingBytes -= dropped.length;
      this.skippedBytes += dropped.length;
      skipped = true;
    }
    if (skipped) {
      this.pending.unshift(CANCEL);
      this.pendingBytes += CANCEL.length;
      this.flooding = true;
    }
    this.schedule();
  }

  /** Tracks the output rate; fast output stays fast until a window under the threshold. */
  private measureRate(bytes: number): void {
    const now = performance.now();
    if (now - this.windowStart >= RATE_WINDOW_MS) {
      const lastWindowWasFast =
        this.windowBytes > FLOOD_BYTES_PER_WINDOW && now - this.windowStart < 2 * RATE_WINDOW_MS;
      this.fastOutput = this.fastOutput && lastWindowWasFast;
      this.windowStart = now;
      this.windowBytes = 0;
    }
    this.windowBytes += bytes;
    if (this.windowBytes > FLOOD_BYTES_PER_WINDOW) this.fastOutput = true;
  }

  private schedule(): void {
    if (this.parsing || this.timer !== undefined || this.pending.length === 0) return;
    if (this.flooding || this.fastOutput) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.feed();
      }, FLOOD_PARSE_INTERVAL_MS);
    } else {
      this.feed();
    }
  }

  /** Hands everything pending to the emulator. */
  private feed(): void {
    if (this.pending.length === 0 || this.disposed) return;
    const chunk =
      this.pending.length === 1 ? (this.pending[0] as Uint8Array) : Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    this.flooding = false;
    this.parsing = true;
    this.terminal.write(chunk, () => {
      this.parsing = false;
      this.schedule();
    });
  }

  resize(cols: number, rows: number): void {
    if (cols === this.terminal.cols && rows === this.terminal.rows) return;
    this.feedNow();
    this.terminal.resize(cols, rows);
  }

  private feedNow(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.feed();
  }

  /**
   * Calls `deliver` with the serialized screen as it stands after everything written so far, and
   * nothing written later: the caller forwards later output after it, with no gap or overlap.
   */
  snapshot(deliver: (frame: string) => void): void {
    this.feedNow();
    this.terminal.write("", () =>
      deliver(RESET_PREFIX + this.serializer.serialize({ scrollback: 0 })),
    );
  }

  /** Resolves once everything written so far has been parsed. */
  settled(): Promise<void> {
    this.feedNow();
    return new Promise((resolve) => this.terminal.write("", resolve));
  }

  /** The visible screen (optionally with the scrollback above it) as text, like capture-pane. */
  async capture(options: { escapes: boolean; scrollback: boolean }): Promise<ScreenText> {
    await this.settled();
    const buffer = this.terminal.buffer.active;
    let text: string;
    if (options.escapes) {
      const serialized = this.serializer.serialize({
        excludeModes: true,
        ...(options.scrollback ? {} : { scrollback: 0 }),
      });
      const alt = serialized.lastIndexOf(ALT_SCREEN_MARK);
      text =
        buffer.type === "alternate" && alt >= 0
          ? serialized.slice(alt + ALT_SCREEN_MARK.length)
          : serialized;
    } else {
      const first = options.scrollback ? 0 : buffer.baseY;
      const lines: string[] = [];
      for (let y = first; y < buffer.baseY + this.terminal.rows; y++) {
        lines.push(buffer.getLine(y)?.translateToString(true) ?? "");
      }
      while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
      text = lines.join("\n");
    }
    return {
      text,
      cols: this.terminal.cols,
      rows: this.terminal.rows,
      cursorX: buffer.cursorX,
      cursorY: buffer.cursorY,
    };
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.pending = [];
    this.terminal.dispose();
  }
}
