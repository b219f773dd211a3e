/**
 * One interactive client of a session's terminal (AttachTerminal). Output is forwarded as it
 * comes; when the client cannot keep up its backlog is bounded, and once it drains it gets a
 * fresh screen instead of the output it missed, so a slow client never slows the session.
 * A read-only client whose terminal (its viewport) is smaller than the session's gets cropped
 * screens instead of output, which would wrap in its terminal.
 */

import { Notifier } from "../common/async.js";
import type { AttachmentCounters } from "../server/daemon-counters.js";
import type { Viewport } from "./screen-frame.js";

/**
 * Output held for one client before it is dropped in favour of a fresh screen. A program that
 * floods its terminal writes 20-50 MB/s here; 4 MiB lets a client that reads as fast as it can
 * ride out being descheduled for 100 ms on a busy machine (1 MiB was 25 ms) and still get every
 * byte, while a client that stops reading costs at most this much.
 */
export const CLIENT_BACKLOG_BYTES = 4 * 1024 * 1024;

/** The largest message a backlog is sent in. */
const MAX_BATCH_BYTES = 256 * 1024;

/**
 * Reads and messages at least this large mean the program writes faster than the terminal is
 * read: a pseudo-terminal hands out at most about 4 KiB per read, and keystroke echoes or a
 * prompt's redraw are far smaller.
 */
const BULK_BYTES = 2048;

/**
 * While output comes in bulk, what arrives within this long goes out as one message. A flood
 * otherwise becomes one message per terminal read (over 10,000 per 50 MB), each framed,
 * encoded, written and decoded on its own; batching it cuts the daemon's and the client's work
 * per byte several times, and 2 ms is far below what a reader of the screen can notice.
 * Small output (an echo, a redraw) still goes out in the same turn of the event loop.
 */
export const BULK_PACE_MS = 2;

/**
 * While output flows, a cropped viewer gets at most one screen per this long, and one more
 * after the output stops: 20 screens a second look live, and each costs a parse and a frame.
 */
export const CROP_FRAME_MS = 50;

/** How an attachment talks to its client; the RPC layer implements it on the gRPC stream. */
export interface AttachmentSink {
  /** Sends output; false when the client's buffer is full (wait for `onDrain`). */
  sendOutput(data: Uint8Array): boolean;
  /** Sends a whole screen; false when the client's buffer is full. */
  sendScreen(frame: string, cols: number, rows: number): boolean;
  onDrain(listener: () => void): void;
}

/** What an attachment needs from its session's screen. */
export interface ScreenSource {
  /** The screen as a frame, cropped to `viewport` (around the cursor) when one is given. */
  snapshot(deliver: (frame: string) => void, viewport?: Viewport): void;
  readonly cols: number;
  readonly rows: number;
}

/**
 * The program leaves its alternate screen. A client that draws the session on its own
 * alternate screen (the CLI) has no normal screen to go back to, so it is sent one.
 */
const LEAVE_ALT_SCREEN = /\x1b\[\?(?:1049|1047|47)l/;

/**
 * The line a cropped viewer sees on its last row, in reverse video, cut to its width; written
 * with the cursor saved and restored around it.
 */
export function cropNotice(viewport: Viewport, cols: number, rows: number): string {
  const shown = `${Math.min(viewport.cols, cols)}x${Math.min(viewport.rows - 1, rows)}`;
  const text = `claude-sessions: showing ${shown} of ${cols}x${rows} (read-only)`;
  return `\x1b7\x1b[?6l\x1b[${viewport.rows};1H\x1b[0;7m${text.slice(0, viewport.cols)}\x1b8`;
}

/** For attachments nobody counts (unit tests). */
const UNCOUNTED: AttachmentCounters = { backlog: () => undefined, resynced: () => undefined };

export class TerminalAttachment {
  private queue: Uint8Array[] = [];
  private queuedBytes = 0;
  private blocked = false;
  private syncing = false;
  private stale = false;
  /** A fresh screen is due once the output queued before it is sent. */
  private redraw = false;
  /** The end of the last output, for a sequence cut between two reads. */
  private tail = "";
  private closed = false;
  private pumpScheduled = false;
  /** When the last output message was handed to the client, and how large it was. */
  private lastSentAt = 0;
  private lastSentBytes = 0;
  /** Wakes those waiting for everything pushed to be handed to the client. */
  private readonly idled = new Notifier();
  /** A read-only client's terminal size, once it gave one. */
  private viewport: Viewport | undefined;
  /** The client was last sent a cropped screen: output reaches it as screens. */
  private cropping = false;
  /** A fresh cropped screen is due (output came, or a size changed). */
  private dirty = false;
  private frameTimer: NodeJS.Timeout | undefined;
  private lastFrameAt = Number.NEGATIVE_INFINITY;

  constructor(
    private screen: ScreenSource,
    private readonly sink: AttachmentSink,
    readonly readOnly: boolean,
    private readonly counters: AttachmentCounters = UNCOUNTED,
  ) {
    sink.onDrain(() => {
      this.blocked = false;
      this.pump();
    });
  }

  /**
   * A read-only client's terminal size: while it is smaller than the session's, the client gets
   * cropped screens. Any change gets a fresh screen, cropped or whole.
   */
  view(cols: number, rows: number): void {
    this.viewport = { cols, rows };
    if (this.closed) return;
    this.dirty = true;
    this.scheduleFrame();
  }

  /**
   * The part of the screen this client's frames show, or undefined for the whole screen: at
   * most its viewport less the notice's row.
   */
  frameViewport(): Viewport | undefined {
    const viewport = this.viewport;
    if (viewport === undefined) return undefined;
    if (viewport.cols >= this.screen.cols && viewport.rows >= this.screen.rows) return undefined;
    return { cols: viewport.cols, rows: Math.max(1, viewport.rows - 1) };
  }

  /** The session's size changed: a viewer may need a crop now, or no longer. */
  resized(): void {
    if (this.closed || this.viewport === undefined) return;
    if (this.cropping || this.frameViewport() !== undefined) {
      this.dirty = true;
      this.scheduleFrame();
    }
  }

  /** Sends the current screen; output pushed from now on follows it. */
  start(): void {
    this.resync();
  }

  /**
   * Forwards output from the session. What arrives in one turn of the event loop is sent as one
   * message, or during a flood what arrives within {@link BULK_PACE_MS}. A client whose stream
   * is full costs only the queueing, and nothing once it is too far behind.
   */
  push(data: Uint8Array): void {
    if (this.closed || this.stale) return;
    if (this.cropping || this.frameViewport() !== undefined) {
      this.dirty = true;
      this.scheduleFrame();
      return;
    }
    const text = this.tail + Buffer.from(data).toString("latin1");
    const leaves = LEAVE_ALT_SCREEN.test(text);
    if (leaves) this.redraw = true;
    this.tail = leaves ? "" : text.slice(-8);
    this.queue.push(data);
    this.queuedBytes += data.length;
    // Counted before the check: the read that tips the backlog over is held for that moment.
    this.counters.backlog(this.queuedBytes);
    if (this.queuedBytes > CLIENT_BACKLOG_BYTES) {
      // Too far behind: forget the backlog; the client gets a fresh screen when it drains.
      this.queue = [];
      this.queuedBytes = 0;
      this.stale = true;
      return;
    }
    if (this.syncing || this.blocked || this.pumpScheduled) return;
    this.pumpScheduled = true;
    const run = (): void => {
      this.pumpScheduled = false;
      this.pump();
    };
    // Only a large read that follows a large message soon after is held: a keystroke's echo or
    // a small redraw goes out at once even in the middle of a flood.
    const flooding =
      data.length >= BULK_BYTES &&
      this.lastSentBytes >= BULK_BYTES &&
      performance.now() - this.lastSentAt < BULK_PACE_MS;
    if (flooding) setTimeout(run, BULK_PACE_MS);
    else setImmediate(run);
  }

  /**
   * Resolves when everything pushed so far has been handed to the client's stream, or when
   * `signal` fires: a client that stopped reading and then went never drains.
   */
  idle(signal: AbortSignal): Promise<void> {
    if (!this.busy()) return Promise.resolve();
    return this.idled.wait(signal);
  }

  /**
   * The session's run ended: no more output comes, and a client that fell behind is resynced
   * to `last`, the run's final screen, instead of the session's screen, which a resumed run
   * replaces.
   */
  end(last: ScreenSource): void {
    this.screen = last;
    // A snapshot of the live screen may never answer once a resumed run disposes it.
    if (this.syncing) this.resync();
  }

  close(): void {
    this.closed = true;
    if (this.frameTimer !== undefined) clearTimeout(this.frameTimer);
    this.frameTimer = undefined;
    this.dirty = false;
    this.queue = [];
    this.queuedBytes = 0;
    this.idled.notify();
  }

  private busy(): boolean {
    return !this.closed && (this.syncing || this.stale || this.dirty || this.queue.length > 0);
  }

  private resync(): void {
    this.syncing = true;
    this.stale = false;
    this.redraw = false;
    this.dirty = false;
    this.queue = [];
    this.queuedBytes = 0;
    const screen = this.screen;
    const crop = this.frameViewport();
    const viewport = this.viewport;
    this.cropping = crop !== undefined;
    screen.snapshot((frame) => {
      // Superseded by end(): that resync sends the run's final screen.
      if (this.screen !== screen) return;
      this.syncing = false;
      if (this.closed) return;
      const shown =
        crop !== undefined && viewport !== undefined && viewport.rows > 1
          ? frame + cropNotice(viewport, screen.cols, screen.rows)
          : frame;
      this.lastFrameAt = performance.now();
      if (!this.sink.sendScreen(shown, screen.cols, screen.rows)) this.blocked = true;
      this.pump();
    }, crop);
  }

  /** A cropped screen within {@link CROP_FRAME_MS} of the last, once the client can take it. */
  private scheduleFrame(): void {
    if (this.frameTimer !== undefined || this.syncing || this.blocked) return;
    const wait = Math.max(0, this.lastFrameAt + CROP_FRAME_MS - performance.now());
    this.frameTimer = setTimeout(() => {
      this.frameTimer = undefined;
      if (this.closed || this.syncing) return;
      if (this.blocked) return;
      this.resync();
    }, wait);
  }

  private pump(): void {
    if (this.closed || this.syncing) return;
    while (!this.blocked && this.queue.length > 0) {
      const data = this.takeBatch();
      this.queuedBytes -= data.length;
      this.lastSentAt = performance.now();
      this.lastSentBytes = data.length;
      if (!this.sink.sendOutput(data)) this.blocked = true;
    }
    if (!this.blocked && (this.stale || this.redraw)) {
      if (this.stale) this.counters.resynced();
      this.resync();
      return;
    }
    if (!this.blocked && this.dirty) {
      this.scheduleFrame();
      return;
    }
    if (!this.busy()) this.idled.notify();
  }

  /**
   * The queued chunks, up to {@link MAX_BATCH_BYTES}, as one message. A terminal's output comes
   * in reads of a few KiB; a client that fell behind catches up far sooner on a few large
   * messages than on hundreds of small ones, each with its own framing and decoding.
   */
  private takeBatch(): Uint8Array {
    let count = 0;
    let bytes = 0;
    for (const chunk of this.queue) {
      if (count > 0 && bytes + chunk.length > MAX_BATCH_BYTES) break;
      count += 1;
      bytes += chunk.length;
    }
    const batch = this.queue.splice(0, count);
    return batch.length === 1 ? (batch[0] as Uint8Array) : Buffer.concat(batch, bytes);
  }
}
