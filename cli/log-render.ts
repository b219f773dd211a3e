/**
 * `logs --plain`: a session's output as a person reads it, rendered by a headless terminal, so
 * that colours, cursor moves and redraws (Claude Code redraws its screen in place) leave the
 * text they drew, not the sequences that drew it.
 *
 * Built as a script of its own (dist/log-render.cjs) that the CLI loads only for `--plain`: the
 * CLI bundle must not load xterm, for its start-up time (scripts/bundle-cli.js).
 */
import xtermHeadless from "@xterm/headless";

const { Terminal } = xtermHeadless;

/** Lines that scroll off the screen are taken out in batches of at most this many. */
const SCROLLBACK_LINES = 10_000;

/** Writes a log's output to a terminal, giving each line once it can no longer change. */
export class LogRenderer {
  private terminal: InstanceType<typeof Terminal>;
  /** The last line taken out: the next one may continue it (a wrapped line). */
  private held: string | undefined;

  constructor(
    cols: number,
    rows: number,
    private readonly emit: (line: string) => void,
  ) {
    this.terminal = LogRenderer.open(cols, rows);
  }

  private static open(cols: number, rows: number): InstanceType<typeof Terminal> {
    return new Terminal({ cols, rows, scrollback: SCROLLBACK_LINES, allowProposedApi: true });
  }

  /** Renders output; lines that scrolled off the screen are final and given out. */
  async write(data: string): Promise<void> {
    await new Promise<void>((resolve) => this.terminal.write(data, resolve));
    const buffer = this.terminal.buffer.normal;
    if (buffer.baseY === 0) return;
    this.take(0, buffer.baseY);
    // The lines just taken out leave the terminal's memory ("erase saved lines").
    await new Promise<void>((resolve) => this.terminal.write("\x1b[3J", resolve));
  }

  /** The terminal changed size (a resize in the log). */
  resize(cols: number, rows: number): void {
    this.terminal.resize(cols, rows);
  }

  /** A new run of the program: what the last one left on the screen stays above it. */
  restart(cols: number, rows: number): void {
    this.flushScreen();
    this.terminal.dispose();
    this.terminal = LogRenderer.open(cols, rows);
  }

  /** Gives out the screen as it is now (a full-screen program's, if one is showing). */
  end(): void {
    this.flushScreen();
    this.terminal.dispose();
  }

  private flushScreen(): void {
    const buffer = this.terminal.buffer.active;
    let last = buffer.baseY + this.terminal.rows;
    while (last > buffer.baseY && buffer.getLine(last - 1)?.translateToString(true) === "")
      last -= 1;
    this.take(buffer.baseY, last, buffer);
    if (this.held !== undefined) this.emit(this.held.trimEnd());
    this.held = undefined;
  }

  private take(from: number, to: number, buffer = this.terminal.buffer.normal): void {
    for (let y = from; y < to; y++) {
      const line = buffer.getLine(y);
      if (line === undefined) continue;
      // Untrimmed until the next line is known: a line that wraps goes on in it.
      const text = line.translateToString(false);
      if (line.isWrapped && this.held !== undefined) {
        this.held += text;
        continue;
      }
      if (this.held !== undefined) this.emit(this.held.trimEnd());
      this.held = text;
    }
  }
}
