/**
 * The session's screen, kept by a headless xterm.js terminal fed with every byte of output. It
 * answers CaptureScreen and gives AttachTerminal its first frame, so a full-screen program appears
 * exactly as it is instead of as a replay of its whole log.
 */
import serializeAddon from "@xterm/addon-serialize";
import xtermHeadless from "@xterm/headless";
import { ScreenBacklog } from "./screen-backlog.js";
import { serializeFrame, type Viewport } from "./screen-frame.js";
import { styledText } from "./screen-text.js";

const { Terminal } = xtermHeadless;
const { SerializeAddon } = serializeAddon;

/** Lines kept above the visible screen. */
export const SCROLLBACK_LINES = 1000;

/**
 * What a newly attached terminal needs before the screen: leave the alternate screen, reset
 * attributes and modes (DECSTR), clear, home. Never ESC[3J: the user's scrollback is theirs.
 */
const RESET_PREFIX = "\x1b[?1049l\x1b[!p\x1b[0m\x1b[H\x1b[2J";

export interface ScreenText {
  text: string;
  cols: number;
  rows: number;
  cursorX: number;
  cursorY: number;
}

/** Output waiting for the emulator, at most (see {@link ScreenBacklog}). */
export const MAX_PENDING_BYTES = 128 * 1024;
/**
 * Output is parsed in batches, one per interval: a screen nobody is looking at needs no more,
 * and snapshots (attach, resync), captures and resizes parse what is waiting first.
 */
const PARSE_INTERVAL_MS = 10;
/**
 * While a program floods its terminal the interval is longer, leaving the CPU to the program, its
 * log and its clients: each parse of {@link MAX_PENDING_BYTES} of scrolling text costs ~15 ms.
 */
const FLOOD_PARSE_INTERVAL_MS = 250;
/**
 * Output faster than this many bytes per {@link RATE_WINDOW_MS} (2.6 MB/s) is a flood even when
 * the emulator could keep up with it: xterm.js parses scrolling text at 40-50 MB/s, so a program
 * writing 20 MB/s would have the emulator take half of the daemon's time. Screens are drawn with
 * far less: a full 120x40 frame in colour is ~40 KB.
 */
const FLOOD_BYTES_PER_WINDOW = 256 * 1024;
const RATE_WINDOW_MS = 100;

export class TerminalScreen {
  private readonly terminal: InstanceType<typeof Terminal>;
  private readonly serializer: InstanceType<typeof SerializeAddon>;
  private readonly backlog = new ScreenBacklog(MAX_PENDING_BYTES);
  private parsing = false;
  /** Output comes faster than {@link FLOOD_BYTES_PER_WINDOW}. */
  private fastOutput = false;
  private windowStart = 0;
  private windowBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private disposed = false;

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

  /** Bytes of output skipped because they came faster than the screen needed them. */
  get skippedBytes(): number {
    return this.backlog.skippedBytes;
  }

  /** Feeds output. Cheap: parsing happens later, in batches. */
  write(data: Uint8Array): void {
    if (this.disposed) return;
    this.measureRate(data.length);
    this.backlog.push(data);
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
    if (this.parsing || this.timer !== undefined || this.backlog.size === 0) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.feed();
      },
      this.backlog.isSkipping || this.fastOutput ? FLOOD_PARSE_INTERVAL_MS : PARSE_INTERVAL_MS,
    );
  }

  /** Hands everything waiting to the emulator. */
  private feed(): void {
    if (this.disposed) return;
    const chunk = this.backlog.take();
    if (chunk === undefined) return;
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
   * The active buffer only, cropped to `viewport` when one is given.
   */
  snapshot(deliver: (frame: string) => void, viewport?: Viewport): void {
    this.feedNow();
    this.terminal.write("", () => {
      const alternate = this.terminal.buffer.active.type === "alternate";
      deliver(
        RESET_PREFIX + (alternate ? "\x1b[?1049h" : "") + serializeFrame(this.terminal, viewport),
      );
    });
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
    const first = options.scrollback ? 0 : buffer.baseY;
    if (options.escapes) {
      text = styledText(buffer, first, this.terminal.rows);
    } else {
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
    this.terminal.dispose();
  }
}
