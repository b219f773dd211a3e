/**
 * What a {@link Session} is given: its program in a pseudo-terminal, its log and its screen, as
 * the interfaces of what it uses of them, and the factory that builds the real ones. A session
 * never builds them itself, so its logic runs in unit tests on fakes, with no process and no PTY
 * (as VS Code passes the process into `PersistentTerminalProcess`).
 */
import type { LogRecord } from "../log/log-record.js";
import { SessionLog, type SessionLogOptions } from "../log/session-log.js";
import { type PtyExit, PtyProcess, type PtySpawnOptions } from "../terminal/pty-process.js";
import type { ScreenSource } from "../terminal/terminal-attachment.js";
import { type ScreenText, TerminalScreen } from "../terminal/terminal-screen.js";

/** A session's program running in its terminal ({@link PtyProcess}). */
export interface SessionPty {
  readonly pid: number;
  onData(listener: (data: Buffer) => void): void;
  onExit(listener: (exit: PtyExit) => void): void;
  /** Takes `data` whole, to be written in order; callers check {@link takesInput} first. */
  write(data: string | Buffer): void;
  resize(cols: number, rows: number): void;
  readonly pendingInput: number;
  readonly takesInput: boolean;
  waitForInputRoom(stop: AbortSignal): Promise<void>;
  /**
   * Hangs up its terminal, as closing it does: SIGHUP to the program and to the terminal's
   * foreground process group.
   */
  hangUp(): void;
  /** Sends `signal` to every process of the session, as found now. */
  signal(signal: NodeJS.Signals): void;
  /** Kills what of the session outlived its program (once it has exited). */
  killLeftovers(): void;
}

/** A reader of a log from a seq ({@link LogCursor}). */
export interface SessionLogReader {
  /** The next seq it returns. */
  readonly seq: number;
  /** The next records, or none once it has caught up with the log. */
  next(maxBytes: number): Promise<LogRecord[]>;
  close(): Promise<void>;
}

/** A session's output log ({@link SessionLog}). */
export interface SessionOutputLog {
  readonly path: string;
  readonly lastSeq: number;
  /** Whether it can still grow (its session is running). */
  readonly isOpen: boolean;
  openForAppend(): void;
  appendOutput(data: string): void;
  appendEvent(data: string): unknown;
  /** Writes out and closes; readers see the end of the log. */
  close(): Promise<void>;
  cursor(seq: number, onFileRead?: () => void): SessionLogReader;
  seqAtTime(time: Date): Promise<number>;
  waitForNewerThan(seq: number, signal?: AbortSignal): Promise<void>;
}

/** A session's screen ({@link TerminalScreen}). */
export interface SessionScreen extends ScreenSource {
  write(data: Uint8Array): void;
  resize(cols: number, rows: number): void;
  capture(options: { escapes: boolean; scrollback: boolean }): Promise<ScreenText>;
  dispose(): void;
}

/** Builds a session's parts: one log per session, a pty and a screen per run. */
export interface SessionParts {
  /** Starts a program; throws if the pseudo-terminal or the process cannot be created. */
  spawn(options: PtySpawnOptions): SessionPty;
  log(path: string, lastSeq: number, options: SessionLogOptions): SessionOutputLog;
  screen(cols: number, rows: number): SessionScreen;
}

/** The real parts: node-pty, the JSONL log file, a headless xterm. */
export const liveSessionParts: SessionParts = {
  spawn: (options) => PtyProcess.spawn(options),
  log: (path, lastSeq, options) => new SessionLog(path, lastSeq, options),
  screen: (cols, rows) => new TerminalScreen(cols, rows),
};
