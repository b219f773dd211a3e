/**
 * A program running in a pseudo-terminal. The only module that imports node-pty.
 *
 * node-pty starts the program as a session leader (setsid), so its pid is also its process
 * group and session id: signalling the group reaches the program and every child it started.
 */
import { readSync, writeSync } from "node:fs";
import type { Socket } from "node:net";
import * as pty from "node-pty";

export interface PtyExit {
  exitCode: number;
  /** The signal number that ended the program, or 0. */
  signal: number;
}

export interface PtySpawnOptions {
  file: string;
  args: readonly string[];
  cwd: string;
  env: Record<string, string>;
  cols: number;
  rows: number;
}

/** node-pty's private handles on its side of the terminal (unixTerminal.ts). */
interface UnixTerminalInternals {
  _socket?: Socket;
  _fd?: number;
  /** Its writer's queue of writes not yet taken by the kernel (CustomWriteStream). */
  _writeStream?: { _writeQueue?: unknown[] };
}

export class PtyProcess {
  private readonly pty: pty.IPty;
  private exited = false;
  private readonly dataListeners: Array<(data: Buffer) => void> = [];

  private constructor(handle: pty.IPty) {
    this.pty = handle;
    handle.onData((data) => {
      for (const listener of this.dataListeners) listener(data as unknown as Buffer);
    });
    this.keepTailOutput(handle as unknown as UnixTerminalInternals);
  }

  /**
   * When the program exits, node-pty waits at most 200 ms for the terminal to be read to its
   * end and then destroys it (DESTROY_SOCKET_TIMEOUT_MS in unixTerminal.ts): on a loaded machine
   * the last output, often the most important, is lost. Before that destroy, read what the
   * kernel still holds (the master side is non-blocking) and deliver it.
   */
  private keepTailOutput(internals: UnixTerminalInternals): void {
    const socket = internals._socket;
    const fd = internals._fd;
    if (socket === undefined || fd === undefined) return;
    const destroy = socket.destroy.bind(socket);
    socket.destroy = (error?: Error) => {
      const chunk = Buffer.allocUnsafe(64 * 1024);
      for (;;) {
        let bytes: number;
        try {
          bytes = readSync(fd, chunk, 0, chunk.length, null);
        } catch {
          // EAGAIN: nothing left for now; EIO: the terminal is closed and empty.
          break;
        }
        if (bytes <= 0) break;
        const data = Buffer.from(chunk.subarray(0, bytes));
        for (const listener of this.dataListeners) listener(data);
      }
      return destroy(error);
    };
  }

  /** Starts the program; throws if the pseudo-terminal or the process cannot be created. */
  static spawn(options: PtySpawnOptions): PtyProcess {
    const handle = pty.spawn(options.file, [...options.args], {
      name: "xterm-256color",
      cwd: options.cwd,
      env: options.env,
      cols: options.cols,
      rows: options.rows,
      // Raw bytes: attached terminals get exactly what the program wrote.
      encoding: null,
    });
    return new PtyProcess(handle);
  }

  get pid(): number {
    return this.pty.pid;
  }

  onData(listener: (data: Buffer) => void): void {
    this.dataListeners.push(listener);
  }

  onExit(listener: (exit: PtyExit) => void): void {
    this.pty.onExit(({ exitCode, signal }) => {
      this.exited = true;
      listener({ exitCode, signal: signal ?? 0 });
    });
  }

  write(data: string | Buffer): void {
    if (this.exited) return;
    const buffer = typeof data === "string" ? Buffer.from(data) : data;
    const written = this.writeNow(buffer);
    if (written < buffer.length) this.pty.write(buffer.subarray(written));
  }

  /**
   * Writes what the terminal takes at once, straight to its non-blocking master side; returns
   * how many bytes that was. node-pty hands every write, even a single keystroke, to the libuv
   * thread pool (fs.write) and to a worker thread's wake-up: 50-100 µs on the keystroke echo
   * path. Only when node-pty has nothing queued, so that order is kept; the rest (the terminal
   * is full: EAGAIN, or a partial write) goes through node-pty's queue, which waits for room.
   */
  private writeNow(buffer: Buffer): number {
    const internals = this.pty as unknown as UnixTerminalInternals;
    const fd = internals._fd;
    const queue = internals._writeStream?._writeQueue;
    if (fd === undefined || queue === undefined || queue.length > 0) return 0;
    try {
      return writeSync(fd, buffer);
    } catch {
      // EAGAIN: no room now; anything else node-pty's writer reports as it always has.
      return 0;
    }
  }

  resize(cols: number, rows: number): void {
    if (this.exited) return;
    this.pty.resize(cols, rows);
  }

  /** Stops reading output (the program blocks once the terminal's buffer is full). */
  pause(): void {
    this.pty.pause();
  }

  resume(): void {
    this.pty.resume();
  }
}
