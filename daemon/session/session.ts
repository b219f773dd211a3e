/**
 * One session's life: its program in a pseudo-terminal, its log, its screen and the terminals
 * attached to it. Output flows one way: program -> log, screen and attached terminals. The
 * session is given those parts ({@link SessionParts}); it never builds them itself.
 */
import { constants } from "node:os";
import { StringDecoder } from "node:string_decoder";
import { Deferred, withTimeout } from "../common/async.js";
import type { AttachmentCounters } from "../server/daemon-counters.js";
import type { PtyExit } from "../terminal/pty-process.js";
import type { Viewport } from "../terminal/screen-frame.js";
import { type AttachmentSink, TerminalAttachment } from "../terminal/terminal-attachment.js";
import type { ScreenText } from "../terminal/terminal-screen.js";
import { describeCommand } from "./session-command.js";
import type {
  SessionLogReader,
  SessionOutputLog,
  SessionParts,
  SessionPty,
  SessionScreen,
} from "./session-parts.js";
import type { SessionRecord, SessionState } from "./session-record.js";
import { isActive } from "./session-record.js";

/** How many log records rebuild the screen of a session the daemon did not see running. */
const REBUILD_RECORDS = 64;

/** What changed, for WatchSessions and the state file. */
export type SessionChange = "started" | "state" | "exited";

/** Fields of a record to change; an undefined value removes the field. */
export type RecordChanges = { [K in keyof SessionRecord]?: SessionRecord[K] | undefined };

const signalNames = new Map<number, string>(
  Object.entries(constants.signals).map(([name, number]) => [number, name]),
);

/** The name of a signal number ("SIGTERM"), or "SIG<n>" for one Node does not know. */
export function signalName(signal: number): string {
  return signalNames.get(signal) ?? `SIG${signal}`;
}

/**
 * How a session tells its owner of changes. Persisting and notifying are two events: every
 * change is notified, and only those a next daemon must know are persisted. An attach, a detach
 * or a resize is notified and never persisted by itself: the size goes with the next change
 * that is.
 */
export interface SessionHooks {
  /** The record changed in a way a next daemon must know: write it to the state file. */
  persist(session: Session): void;
  /** Tells watchers of a change, persisted or not. Called after {@link persist}. */
  notify(session: Session, change: SessionChange): void;
  /** Reports a problem that does not stop the session (e.g. a log write error). */
  warn(message: string): void;
  /** Where its terminal attachments count their backlog and resyncs. */
  readonly attachmentCounters?: AttachmentCounters | undefined;
}

export class Session {
  readonly log: SessionOutputLog;
  private screen: SessionScreen | undefined;
  private process: SessionPty | undefined;
  /** Resolved once the current run has exited and its log is closed. */
  private exit = new Deferred<void>();
  private decoder = new StringDecoder("utf8");
  private readonly attachments = new Set<TerminalAttachment>();
  /** Why the program is being ended: by a StopSession, or by the daemon shutting down. */
  private stopReason: "request" | "shutdown" | undefined;
  logError: string | undefined;

  constructor(
    public record: SessionRecord,
    logPath: string,
    lastSeq: number,
    private readonly hooks: SessionHooks,
    private readonly parts: SessionParts,
  ) {
    this.log = parts.log(logPath, lastSeq, {
      onError: (message) => {
        this.logError = message;
        if (message !== undefined) hooks.warn(`session ${record.id}: ${message}`);
        this.changed("state");
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
    this.screen = this.parts.screen(cols, rows);
    this.decoder = new StringDecoder("utf8");
    this.stopReason = undefined;
    const child = this.parts.spawn({
      file: executable,
      args: argv.slice(1),
      cwd: this.record.workingDir,
      env: { ...env },
      cols,
      rows,
      sessionId: this.id,
    });
    this.process = child;
    this.exit = new Deferred();
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
    child.onExit((exit) => void this.handleExit(child, exit));
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

  private async handleExit(child: SessionPty, exit: PtyExit): Promise<void> {
    // This run's: a resume in the awaits below would replace it.
    const ran = this.exit;
    const rest = this.decoder.end();
    if (rest.length > 0) this.log.appendOutput(rest);
    child.killLeftovers();
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
    // Persisted and told as "exited" below, once the attachments are let go of.
    this.amend({
      state,
      pid: 0,
      exitCode: signal === undefined ? exit.exitCode : undefined,
      exitSignal: signal,
      endedAt: new Date().toISOString(),
      failureReason:
        reason === "shutdown" ? "the daemon shut down while the session was running" : undefined,
    });
    await this.releaseAttachments();
    this.process = undefined;
    ran.resolve();
    this.changed("exited");
  }

  /**
   * Lets go of the run's terminal clients: from now on none counts as attached and a resumed
   * run's output can never reach one. Each keeps the run's final screen, for a client that
   * fell behind and has yet to drain, until its call ends.
   */
  private async releaseAttachments(): Promise<void> {
    const screen = this.screen;
    if (this.attachments.size === 0 || screen === undefined) return;
    // The whole screen, and each crop a read-only client smaller than it is shown.
    const key = (viewport?: Viewport) => (viewport ? `${viewport.cols}x${viewport.rows}` : "");
    const views = new Map<string, Viewport | undefined>([["", undefined]]);
    for (const attachment of this.attachments) {
      const viewport = attachment.frameViewport();
      views.set(key(viewport), viewport);
    }
    const frames = new Map<string, string>();
    for (const [name, viewport] of views)
      frames.set(name, await new Promise<string>((resolve) => screen.snapshot(resolve, viewport)));
    const last = {
      snapshot: (deliver: (frame: string) => void, viewport?: Viewport) =>
        deliver(frames.get(key(viewport)) ?? frames.get("") ?? ""),
      cols: screen.cols,
      rows: screen.rows,
    };
    for (const attachment of this.attachments) attachment.end(last);
    this.attachments.clear();
  }

  /** Resolves once the program has exited and its log is closed (at once if not running). */
  exited(): Promise<void> {
    if (this.process === undefined) return Promise.resolve();
    return this.exit.promise;
  }

  /**
   * Hangs up the session's terminal, then SIGTERM to its processes, then SIGKILL after
   * `graceMs`; resolves when the program has exited. Does nothing to a session that is not
   * running. The hang-up first, as closing a terminal or `tmux kill-session` does: an
   * interactive shell ignores SIGTERM, and would otherwise take the whole grace.
   */
  async stop(graceMs: number, reason: "request" | "shutdown" = "request"): Promise<void> {
    const child = this.process;
    if (child === undefined || this.record.pid <= 0) return;
    this.stopReason ??= reason;
    const exited = this.exited();
    if (graceMs > 0) {
      child.hangUp();
      child.signal("SIGTERM");
      const timedOut = await withTimeout(
        exited.then(() => false),
        graceMs,
        () => true,
      );
      if (!timedOut) return;
    }
    // Looked up again: a process may have forked, or escaped, during the grace.
    child.signal("SIGKILL");
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
    for (const attachment of this.attachments) attachment.resized();
    this.amend({ cols, rows });
    this.hooks.notify(this, "state");
    if (this.isRunning) this.log.appendEvent(`resized to ${cols}x${rows}`);
  }

  /**
   * Attaches a terminal client; it first gets the screen, then live output. The size an
   * interactive client gives becomes the session's first (the latest client to attach or resize
   * wins); a read-only client's never does: it is the client's viewport, cropped to while
   * smaller than the session's.
   */
  attach(
    sink: AttachmentSink,
    readOnly: boolean,
    size?: { cols: number; rows: number },
  ): TerminalAttachment | undefined {
    const screen = this.screen;
    if (screen === undefined || !this.isRunning) return undefined;
    if (!readOnly && size !== undefined) this.resize(size.cols, size.rows);
    const attachment = new TerminalAttachment(
      screen,
      sink,
      readOnly,
      this.hooks.attachmentCounters,
    );
    if (readOnly && size !== undefined) attachment.view(size.cols, size.rows);
    this.attachments.add(attachment);
    attachment.start();
    this.hooks.notify(this, "state");
    return attachment;
  }

  detach(attachment: TerminalAttachment): void {
    attachment.close();
    if (this.attachments.delete(attachment)) this.hooks.notify(this, "state");
  }

  /**
   * The screen as text. A session from before a daemon restart has no screen in memory; it is
   * rebuilt from the end of its log.
   */
  async capture(options: { escapes: boolean; scrollback: boolean }): Promise<ScreenText> {
    return (await this.loadedScreen()).capture(options);
  }

  /**
   * The screen as an attach frame draws it, with its size: for a client attaching to a session
   * that has ended, which gets its final screen (rebuilt from the log after a daemon restart).
   */
  async frame(): Promise<{ frame: string; cols: number; rows: number }> {
    const screen = await this.loadedScreen();
    const frame = await new Promise<string>((resolve) => screen.snapshot(resolve));
    return { frame, cols: screen.cols, rows: screen.rows };
  }

  private async loadedScreen(): Promise<SessionScreen> {
    if (this.screen === undefined) {
      const screen = this.parts.screen(this.record.cols, this.record.rows);
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
    return this.screen;
  }

  /** A log reader from `seq`; `onFileRead` hears of each batch read from the file. */
  cursor(seq: number, onFileRead?: () => void): SessionLogReader {
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

  /** Changes the record, then persists it and tells watchers ("started" for a launch). */
  update(changes: RecordChanges): void {
    this.amend(changes);
    this.changed(
      this.record.state === "running" && changes.state === "running" ? "started" : "state",
    );
  }

  /**
   * Changes the record and tells no one: the change is persisted and told with the next one
   * that is (a resume's size goes with its launch).
   */
  amend(changes: RecordChanges): void {
    const next: Record<string, unknown> = { ...this.record };
    for (const [key, value] of Object.entries(changes)) {
      if (value === undefined) delete next[key];
      else next[key] = value;
    }
    this.record = next as unknown as SessionRecord;
  }

  /** A change a next daemon must know: persisted, then told. */
  private changed(change: SessionChange): void {
    this.hooks.persist(this);
    this.hooks.notify(this, change);
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
