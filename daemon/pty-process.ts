/**
 * A program running in a pseudo-terminal. The only module that imports node-pty.
 *
 * node-pty starts the program as a session leader (setsid), so its pid is also its process
 * group and session id: signalling the group reaches the program and every child it started.
 */
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

export class PtyProcess {
  private readonly pty: pty.IPty;
  private exited = false;

  private constructor(handle: pty.IPty) {
    this.pty = handle;
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
    this.pty.onData((data) => listener(data as unknown as Buffer));
  }

  onExit(listener: (exit: PtyExit) => void): void {
    this.pty.onExit(({ exitCode, signal }) => {
      this.exited = true;
      listener({ exitCode, signal: signal ?? 0 });
    });
  }

  write(data: string | Buffer): void {
    if (this.exited) return;
    this.pty.write(data);
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
