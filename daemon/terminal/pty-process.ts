/**
 * A program running in a pseudo-terminal. The only module that imports node-pty.
 *
 * node-pty starts the program as a session leader (setsid), so its pid is also its process
 * group and session id: signalling the group reaches the program and every child it started.
 */
import { readSync } from "node:fs";
import type { Socket } from "node:net";
import * as pty from "node-pty";
import { hangUpTerminal, sessionMembers, signalSession } from "./process-tree.js";
import { PtyWriter } from "./pty-writer.js";

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
  /** The session the program runs for: its processes that escaped the terminal carry it. */
  sessionId: string;
  /** Hears of input the terminal took (some of what waited was written). */
  onInputTaken?: () => void;
}

/** node-pty's private handles on its side of the terminal (unixTerminal.ts). */
interface UnixTerminalInternals {
  _socket?: Socket;
  _fd?: number;
}

export class PtyProcess {
  private readonly pty: pty.IPty;
  private readonly input: PtyWriter;
  private exited = false;
  /**
   * Whether the terminal's descriptor is closed (or closing): node-pty closes it when the
   * program's side is gone, which may be before it tells of the exit. Its number may then name
   * another file, so nothing is done with it any more.
   */
  private closed = false;
  private readonly dataListeners: Array<(data: Buffer) => void> = [];

  private constructor(
    handle: pty.IPty,
    private readonly sessionId: string,
    onInputTaken?: () => void,
  ) {
    this.pty = handle;
    const internals = handle as unknown as UnixTerminalInternals;
    // Input bypasses node-pty's writer (see PtyWriter), so it needs the terminal's descriptor.
    if (internals._fd === undefined) {
      handle.kill("SIGKILL");
      throw new Error("node-pty gave no terminal descriptor to write input to");
    }
    this.input = new PtyWriter(internals._fd, onInputTaken);
    handle.onData((data) => {
      for (const listener of this.dataListeners) listener(data as unknown as Buffer);
    });
    // First of the exit listeners, so that none of them sees input still waiting.
    handle.onExit(() => {
      this.exited = true;
      this.input.release();
    });
    this.keepTailOutput(internals);
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
      // The descriptor closes now: input still waiting has no program left to read it.
      this.closed = true;
      this.input.release();
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
    return new PtyProcess(handle, options.sessionId, options.onInputTaken);
  }

  get pid(): number {
    return this.pty.pid;
  }

  onData(listener: (data: Buffer) => void): void {
    this.dataListeners.push(listener);
  }

  onExit(listener: (exit: PtyExit) => void): void {
    this.pty.onExit(({ exitCode, signal }) => {
      listener({ exitCode, signal: signal ?? 0 });
    });
  }

  /** Input taken but not yet read by the program's terminal. */
  get pendingInput(): number {
    return this.input.pending;
  }

  /** Whether the program takes more input now: less than the writer's limit waits for it. */
  get takesInput(): boolean {
    return this.input.hasRoom;
  }

  /** Resolves when the program takes input again, has exited, or `stop` fires. */
  waitForInputRoom(stop: AbortSignal): Promise<void> {
    return this.input.waitForRoom(stop);
  }

  /**
   * Takes `data` whole, to be written in order; callers check {@link takesInput} first. The
   * usual keystroke is one write straight to the terminal's non-blocking master side: node-pty
   * hands every write to the libuv thread pool and a worker thread's wake-up, 50-100 µs on the
   * keystroke echo path.
   */
  write(data: string | Buffer): void {
    if (this.exited) return;
    this.input.write(typeof data === "string" ? Buffer.from(data) : data);
  }

  /**
   * Sets the terminal's size. One that has closed meanwhile (its program ended, and node-pty
   * closed it before telling of the exit) has no size to set: the resize is dropped, as it would
   * be once the exit is known.
   */
  resize(cols: number, rows: number): void {
    if (this.exited || this.closed) return;
    try {
      this.pty.resize(cols, rows);
    } catch (error) {
      // node-pty says "ioctl(2) failed, EBADF" (or EIO) for a terminal closed under it.
      if (!/ioctl\(2\) failed/.test((error as Error).message)) throw error;
    }
  }

  /**
   * Sends `signal` to every process of the program's session: its terminal's, and those that
   * escaped it, as found now (one may have forked, or escaped, since the last look).
   */
  signal(signal: NodeJS.Signals): void {
    signalSession(this.pid, signal, sessionMembers(this.pid, this.sessionId));
  }

  /** Hangs up the program's terminal, as closing it does ({@link hangUpTerminal}). */
  hangUp(): void {
    if (this.exited) return;
    hangUpTerminal(this.pid);
  }

  /**
   * Kills what of the session outlived its program (called once it has exited): children left
   * in its terminal session, or escaped from it, would keep running unseen.
   */
  killLeftovers(): void {
    const left = sessionMembers(this.pid, this.sessionId);
    if (left.length > 0) signalSession(this.pid, "SIGKILL", left);
  }

  /** Stops reading output (the program blocks once the terminal's buffer is full). */
  pause(): void {
    this.pty.pause();
  }

  resume(): void {
    this.pty.resume();
  }
}
