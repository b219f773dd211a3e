/**
 * One session's life: its program in a pseudo-terminal, its log, its screen and the terminals
 * attached to it. Output flows one way: program -> log, screen and attached terminals.
 */
import { constants } from "node:os";
import { StringDecoder } from "node:string_decoder";
import { type LogCursor, SessionLog } from "../log/session-log.js";
import type { AttachmentCounters } from "../server/daemon-counters.js";
import { sessionMembers, signalSession } from "../terminal/process-tree.js";
import { type PtyExit, PtyProcess } from "../terminal/pty-process.js";
import { type AttachmentSink, TerminalAttachment } from "../terminal/terminal-attachment.js";
import { type ScreenText, TerminalScreen } from "../terminal/terminal-screen.js";
import { describeCommand } from "./session-command.js";
import type { SessionRecord, SessionState } from "./session-record.js";
import { isActive } from "./session-record.js";

/** How many log records rebuild the screen of a session the daemon did not see running. */
const REBUILD_RECORDS = 64;

/** What changed, for WatchSessions and the state file. */
export type SessionChange = "started" | "state" | "exited";

const signalNames = new Map<number, string>(
  Object.entries(constants.signals).map(([name, number]) => [number, name]),
);

/** The name of a signal number ("SIGTERM"), or "SIG<n>" for one Node does not know. */
export function signalName(signal: number): string {
  return signalNames.get(signal) ?? `SIG${signal}`;
}

export interface SessionHooks {
  /**
   * Called after every change. `persist` is false for one that is not worth a state.json write
   * of its own (an attach, a detach, a resize): it is written with the next change that is.
   */
  changed(session: Session, change: SessionChange, persist?: boolean): void;
  /** Reports a problem that does not stop the session (e.g. a log write error). */
  warn(message: string): void;
  /** Where its terminal attachments count their backlog and resyncs. */
  readonly attachmentCounters?: AttachmentCounters | undefined;
}

export class Session {
  readonly log: SessionLog;
  private screen: TerminalScreen | undefined;
  private process: PtyProcess | undefined;
  private decoder = new StringDecoder("utf8");
  private readonly attachments = new Set<TerminalAttachment>();
  private exitWaiters: Array<() => void> = [];
  /** Why the program is being ended: by a StopSession, or by the daemon shutting down. */
  private stopReason: "request" | "shutdown" | undefined;
  logError: string | undefined;

  constructor(
    public record: SessionRecord,
    logPath: string,
    lastSeq: number,
    private readonly hooks: SessionHooks,
  ) {
    this.log = new SessionLog(logPath, lastSeq, {
      onError: (message) => {
        this.logError = message;
        if (message !== undefined) hooks.warn(`session ${record.id}: ${message}`);
        hooks.changed(this, "state");
      },
      onLoss: (bytes, description) => {
        hooks.warn(`session ${record.id}: ${description}`);
        this.update({
          logBytesLost: (this.record.logBytesLost ?? 0) + bytes,
          logLoss: description,
        });
      },
    });
  }

  get id(): string {
    return this.record.id;
  }

  get isRunning(): boolean {
    return isActive(this.record.state);
  }

  get attachedClients(): number {
    return this.attachments.size;
  }

  /**
   * Starts `executable` with `argv` and `env` in the session's terminal. Throws if the
   * pseudo-terminal or the process cannot be created; the caller marks the session FAILED.
   */
  launch(
    executable: string,
    argv: readonly string[],
    env: Readonly<Record<string, string>>,
    event: string,
  ): void {
    this.log.openForAppend();
    const { cols, rows } = this.record;
    this.screen?.dispose();
    this.screen = new TerminalScreen(cols, rows);
    this.decoder = new StringDecoder("utf8");
    this.stopReason = undefined;
    const child = PtyProcess.spawn({
      file: executable,
      args: argv.slice(1),
      cwd: this.record.workingDir,
      env: { ...env },
      cols,
      rows,
    });
    this.process = child;
    const now = new Date().toISOString();
    this.update({
      state: "running",
      pid: child.pid,
      startedAt: now,
      exitCode: undefined,
      exitSignal: undefined,
      endedAt: undefined,
      failureReason: undefined,
    });
    this.log.appendEvent(`${event}: ${describeCommand(argv)} (pid ${child.pid}, ${cols}x${rows})`);
    child.onData((data) => this.handleOutput(data));
    child.onExit((exit) => void this.handleExit(exit));
  }

  /** Marks a session that could not be started. */
  fail(reason: string): void {
    this.update({
      state: "failed",
      pid: 0,
      failureReason: reason,
      endedAt: new Date().toISOString(),
    });
    this.log.appendEvent(`failed to start: ${reason}`);
    void this.log.close();
  }

  private handleOutput(data: Buffer): void {
    const text = this.decoder.write(data);
    if (text.length > 0) this.log.appendOutput(text);
    this.screen?.write(data);
    for (const attachment of this.attachments) attachment.push(data);
  }

  private async handleExit(exit: PtyExit): Promise<void> {
    const rest = this.decoder.end();
    if (rest.length > 0) this.log.appendOutput(rest);
    const pid = this.record.pid;
    // Children that outlived the program, in its terminal session or escaped from it, would
    // keep running unseen: end them too.
    const left = sessionMembers(pid, this.id);
    if (left.length > 0) signalSession(pid, "SIGKILL", left);
    const reason = this.stopReason;
    const signal = exit.signal > 0 ? signalName(exit.signal) : undefined;
    const state: SessionState =
      reason === "request" ? "stopped" : reason === "shutdown" ? "interrupted" : "exited";
    const how = signal !== undefined ? `killed by ${signal}` : `exit code ${exit.exitCode}`;
    const what =
      reason === "request"
        ? "stopped by request"
        : reason === "shutdown"
          ? "interrupted by daemon shutdown"
          : "exited";
    this.log.appendEvent(`${what} (${how})`);
    // Everything is on disk before anyone can see the session as ended.
    await this.log.close();
    this.update(
      {
        state,
        pid: 0,
        exitCode: signal === undefined ? exit.exitCode : undefined,
        exitSignal: signal,
        endedAt: new Date().toISOString(),
        failureReason:
          reason === "shutdown" ? "the daemon shut down while the session was running" : undefined,
      },
      false,
    );
    await this.releaseAttachments();
    this.process = undefined;
    const waiters = this.exitWaiters;
    this.exitWaiters = [];
    for (const wake of waiters) wake();
    this.hooks.changed(this, "exited");
  }

  /**
   * Lets go of the run's terminal clients: from now on none counts as attached and a resumed
   * run's output can never reach one. Each keeps the run's final screen, for a client that
   * fell behind and has yet to drain, until its call ends.
   */
  private async releaseAttachments(): Promise<void> {
    const screen = this.screen;
    if (this.attachments.size === 0 || screen === undefined) return;
    const frame = await new Promise<string>((resolve) => screen.snapshot(resolve));
    const last = {
      snapshot: (deliver: (frame: string) => void) => deliver(frame),
      cols: screen.cols,
      rows: screen.rows,
    };
    for (const attachment of this.attachments) attachment.end(last);
    this.attachments.clear();
  }

  /** Resolves once the program has exited and its log is closed (at once if not running). */
  exited(): Promise<void> {
    if (this.process === undefined) return Promise.resolve();
    return new Promise((resolve) => this.exitWaiters.push(resolve));
  }

  /**
   * SIGTERM to the session's processes, SIGKILL after `graceMs`; resolves when the program has
   * exited. Does nothing to a session that is not running.
   */
  async stop(graceMs: number, reason: "request" | "shutdown" = "request"): Promise<void> {
    const pid = this.record.pid;
    if (this.process === undefined || pid <= 0) return;
    this.stopReason ??= reason;
    const exited = this.exited();
    if (graceMs > 0) {
      signalSession(pid, "SIGTERM", sessionMembers(pid, this.id));
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        exited.then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), graceMs);
        }),
      ]);
      clearTimeout(timer);
      if (!timedOut) return;
    }
    // Looked up again: a process may have forked, or escaped, during the grace.
    signalSession(pid, "SIGKILL", sessionMembers(pid, this.id));
    await exited;
  }

  /** Writes to the program's terminal, in order; see {@link takesInput}. */
  write(data: string | Buffer): void {
    this.process?.write(data);
  }

  /** Input the program has not read yet, in bytes. */
  get pendingInput(): number {
    return this.process?.pendingInput ?? 0;
  }

  /**
   * Whether the session takes more input now: false while its program leaves the most a
   * session holds unread (MAX_PENDING_INPUT_BYTES).
   */
  get takesInput(): boolean {
    return this.process?.takesInput ?? true;
  }

  /** Resolves when the session takes input again, its program has ended, or `stop` fires. */
  waitForInputRoom(stop: AbortSignal): Promise<void> {
    return this.process?.waitForInputRoom(stop) ?? Promise.resolve();
  }

  resize(cols: number, rows: number): void {
    if (cols === this.record.cols && rows === this.record.rows) return;
    this.process?.resize(cols, rows);
    this.screen?.resize(cols, rows);
    this.update({ cols, rows }, true, false);
    if (this.isRunning) this.log.appendEvent(`resized to ${cols}x${rows}`);
  }

  /** Attaches a terminal client; it first gets the screen, then live output. */
  attach(sink: AttachmentSink, readOnly: boolean): TerminalAttachment | undefined {
    const screen = this.screen;
    if (screen === undefined || !this.isRunning) return undefined;
    const attachment = new TerminalAttachment(
      screen,
      sink,
      readOnly,
      this.hooks.attachmentCounters,
    );
    this.attachments.add(attachment);
    attachment.start();
    this.hooks.changed(this, "state", false);
    return attachment;
  }

  detach(attachment: TerminalAttachment): void {
    attachment.close();
    if (this.attachments.delete(attachment)) this.hooks.changed(this, "state", false);
  }

  /**
   * The screen as text. A session from before a daemon restart has no screen in memory; it is
   * rebuilt from the end of its log.
   */
  async capture(options: { escapes: boolean; scrollback: boolean }): Promise<ScreenText> {
    if (this.screen === undefined) {
      const screen = new TerminalScreen(this.record.cols, this.record.rows);
      const cursor = this.log.cursor(Math.max(1, this.log.lastSeq - REBUILD_RECORDS + 1));
      try {
        for (
          let records = await cursor.next(1 << 20);
          records.length > 0;
          records = await cursor.next(1 << 20)
        ) {
          for (const record of records)
            if (record.kind === "output") screen.write(Buffer.from(record.data));
        }
      } finally {
        await cursor.close();
      }
      this.screen = screen;
    }
    return this.screen.capture(options);
  }

  /** A log reader from `seq`; `onFileRead` hears of each batch read from the file. */
  cursor(seq: number, onFileRead?: () => void): LogCursor {
    return this.log.cursor(seq, onFileRead);
  }

  /** Records that the daemon died while the session ran (called on the next start). */
  async markInterrupted(reason: string): Promise<void> {
    this.update({
      state: "interrupted",
      pid: 0,
      failureReason: reason,
      endedAt: new Date().toISOString(),
    });
    try {
      this.log.openForAppend();
    } catch (error) {
      // One session's unusable log must not keep the daemon, and every other session, down.
      this.logError = (error as Error).message;
      this.hooks.warn(`session ${this.id}: ${this.logError}`);
      return;
    }
    this.log.appendEvent(`interrupted: ${reason}`);
    await this.log.close();
  }

  /** Changes the record; `notify` and `persist` as for {@link SessionHooks.changed}. */
  update(
    changes: { [K in keyof SessionRecord]?: SessionRecord[K] | undefined },
    notify = true,
    persist = true,
  ): void {
    const next: Record<string, unknown> = { ...this.record };
    for (const [key, value] of Object.entries(changes)) {
      if (value === undefined) delete next[key];
      else next[key] = value;
    }
    this.record = next as unknown as SessionRecord;
    if (notify)
      this.hooks.changed(
        this,
        this.record.state === "running" && changes.state === "running" ? "started" : "state",
        persist,
      );
  }

  get state(): SessionState {
    return this.record.state;
  }

  dispose(): void {
    for (const attachment of this.attachments) attachment.close();
    this.attachments.clear();
    this.screen?.dispose();
    this.screen = undefined;
  }
}
