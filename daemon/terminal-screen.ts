/**
 * The session's screen, kept by a headless xterm.js terminal fed with every byte of output. It
 * answers CaptureScreen and gives AttachTerminal its first frame, so a full-screen program appears
 * exactly as it is instead of as a replay of its whole log.
 */
import serializeAddon from "@xterm/addon-serialize";
import xtermHeadless from "@xterm/headless";
import { ScreenBacklog } from "./screen-backlog.js";

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

/** Output waiting for the emulator, at most (see {@link ScreenBacklog}). */
export const MAX_PENDING_BYTES = 128 * 1024;
/**
 * Output is parsed in batches, one per interval: a screen nobody is looking at needs no more,
 * and snapshots and captures parse what is waiting first. While output is being skipped the
 * interval is longer, leaving the CPU to the program and its log.
 */
const PARSE_INTERVAL_MS = 10;
const FLOOD_PARSE_INTERVAL_MS = 40;

export class TerminalScreen {
  private readonly terminal: InstanceType<typeof Terminal>;
  private readonly serializer: InstanceType<typeof SerializeAddon>;
  private readonly backlog = new ScreenBacklog(MAX_PENDING_BYTES);
  private parsing = false;
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
    this.backlog.push(data);
    this.schedule();
  }

  private schedule(): void {
    if (this.parsing || this.timer !== undefined || this.backlog.size === 0) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.feed();
      },
      this.backlog.isSkipping ? FLOOD_PARSE_INTERVAL_MS : PARSE_INTERVAL_MS,
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
    this.terminal.dispose();
  }
}
