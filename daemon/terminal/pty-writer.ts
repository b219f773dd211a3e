/**
 * Input on its way to a program: written straight to its terminal's non-blocking master side,
 * and what the terminal cannot take yet held, in order, until the program reads it.
 *
 * Neither of the writers at hand waits well for a terminal that is full. node-pty's queue
 * retries a write that failed with EAGAIN on the next turn of the event loop (setImmediate),
 * which keeps a core busy for as long as the program does not read; and libuv writes to a pty
 * master as a blocking stream (uv_tty_init cannot reopen a master, so it falls back to blocking
 * writes), which loops on EAGAIN inside the write and stops the whole daemon. Node gives no
 * readiness watch on a descriptor another handle owns, so a full terminal is retried on a
 * timer that backs off while nothing is taken, and returns at once to the shortest delay when
 * something is.
 */
import { writeSync } from "node:fs";
import { Notifier } from "../common/async.js";

/**
 * How much input a session holds for a program that is not reading it. Input is taken while
 * less than this waits, each message whole: a SendInput past it is refused, and a terminal's
 * stream is not read until the program has read enough. A message is at most 4 MiB (the
 * daemon's receive limit); a SendInput is checked as it is written, and each attached terminal
 * may have one message on its way when room appears, so a session holds at most this plus one
 * message per attached terminal and one SendInput.
 */
export const MAX_PENDING_INPUT_BYTES = 1024 * 1024;

/** The first wait for room after the terminal took nothing, and the longest. */
const RETRY_FIRST_MS = 1;
const RETRY_LAST_MS = 50;

export class PtyWriter {
  private readonly queue: Buffer[] = [];
  private pendingBytes = 0;
  private retryMs = RETRY_FIRST_MS;
  private timer: NodeJS.Timeout | undefined;
  private released = false;
  /** Wakes writers waiting for room. */
  private readonly room = new Notifier();

  /** `onTaken` hears of each retry the terminal took some of: input that had to wait. */
  constructor(
    private readonly fd: number,
    private readonly onTaken?: () => void,
  ) {}

  /** Bytes taken but not yet written to the terminal. */
  get pending(): number {
    return this.pendingBytes;
  }

  /** Whether the writer takes more input now. */
  get hasRoom(): boolean {
    return this.pendingBytes < MAX_PENDING_INPUT_BYTES;
  }

  /**
   * Takes `data` whole. With nothing waiting (the usual keystroke) it is one write to the
   * terminal, at once; the rest waits behind what came before.
   */
  write(data: Buffer): void {
    if (this.released || data.length === 0) return;
    this.queue.push(data);
    this.pendingBytes += data.length;
    if (this.queue.length === 1) this.flush();
  }

  /** Resolves when the writer has room again, is released, or `stop` fires. */
  waitForRoom(stop: AbortSignal): Promise<void> {
    if (this.hasRoom || this.released) return Promise.resolve();
    return this.room.wait(stop);
  }

  /**
   * Drops what is waiting and writes nothing more: the terminal is closing, and its descriptor
   * number may soon name another file.
   */
  release(): void {
    this.released = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
    this.pendingBytes = 0;
    this.room.notify();
  }

  /** Writes what the terminal takes now; if some is left, tries again after a wait. */
  private flush(retry = false): void {
    this.timer = undefined;
    let took = false;
    for (let head = this.queue[0]; head !== undefined; head = this.queue[0]) {
      let written: number;
      try {
        written = writeSync(this.fd, head);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "EAGAIN") break;
        // EIO: the program's side is closed; no later write can succeed either.
        this.release();
        return;
      }
      took ||= written > 0;
      this.pendingBytes -= written;
      if (written < head.length) {
        // The terminal is full: asking again at once would only be refused.
        this.queue[0] = head.subarray(written);
        break;
      }
      this.queue.shift();
    }
    if (took && retry) this.onTaken?.();
    if (this.queue.length > 0) {
      this.retryMs = took ? RETRY_FIRST_MS : Math.min(this.retryMs * 2, RETRY_LAST_MS);
      this.timer = setTimeout(() => this.flush(true), this.retryMs);
    } else {
      this.retryMs = RETRY_FIRST_MS;
    }
    if (this.hasRoom) this.room.notify();
  }
}
