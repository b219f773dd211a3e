/**
 * One session's life: its program, held by the session's host, its log, its screen and the
 * terminals attached to it. Output flows one way: host -> screen and attached terminals, and
 * the host's log records -> the log's followers. The session is given those parts
 * ({@link SessionParts}); it never builds them itself.
 */
import { Deferred } from "../common/async.js";
import { signalName } from "../common/signal-name.js";
import type { ActivityReport, ExitStatus } from "../host/host-wire.js";
import { ActivitySource, ActivityState, StopReason } from "../host/host-wire.js";
import { lastSeqOf } from "../log/log-file.js";
import type { LogRecord } from "../log/log-record.js";
import type { AttachmentCounters } from "../server/daemon-counters.js";
import type { Viewport } from "../terminal/screen-frame.js";
import { type AttachmentSink, TerminalAttachment } from "../terminal/terminal-attachment.js";
import type { ScreenText } from "../terminal/terminal-screen.js";
import { claudeScreenActivity } from "./claude-screen.js";
import { spawnLimits } from "./limits.js";
import type { ScreenCheckpoint } from "./screen-checkpoint.js";
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

/** A soft reset, and the screen and its scrollback cleared, the cursor home. */
const CLEAR_SCREEN = Buffer.from("\x1b[!p\x1b[0m\x1b[H\x1b[2J\x1b[3J");

/** How many log records rebuild the screen of a session the daemon did not see running. */
const REBUILD_RECORDS = 64;
/**
 * The most output replayed to rebuild a running session's screen from its last checkpoint;
 * past it, the screen is rebuilt from the last {@link REBUILD_RECORDS} records and the program
 * is asked to redraw. Parsing 2 MiB of output costs about 50 ms.
 */
const REPLAY_BUDGET_BYTES = 2 * 1024 * 1024;
/** Replayed output is handed to the screen in parts of this size, each parsed before the next. */
const REPLAY_STEP_BYTES = 64 * 1024;
/** A running session's screen is checkpointed after this long with output, or this much. */
const CHECKPOINT_INTERVAL_MS = 5000;
const CHECKPOINT_BYTES = 1024 * 1024;

/** How long output must pause before Claude Code's screen is read for its activity. */
const SCREEN_READ_MS = 200;

/** What changed, for WatchSessions and the state file. */
export type SessionChange = "started" | "state" | "activity" | "exited" | "limit";

/** What a running session's process tree uses, as its host last sampled it. */
export interface SessionUsage {
  memoryBytes: number;
  /** Percent of one core since the sample before. */
  cpuPercent: number;
  processes: number;
  /** RFC 3339. */
  sampledAt: string;
}

export type ActivityName = "working" | "waiting" | "idle" | "unknown";

/** What a running session's program is doing (see proto's Activity). */
export interface SessionActivity {
  state: ActivityName;
  detail: string;
  /** Since when `state` has held (RFC 3339). */
  since: string;
  /** The command of the terminal's foreground process group. */
  foregroundCommand: string;
}

const ACTIVITY_NAMES: Record<ActivityState, ActivityName> = {
  [ActivityState.unknown]: "unknown",
  [ActivityState.working]: "working",
  [ActivityState.waiting]: "waiting",
  [ActivityState.idle]: "idle",
};

/** Fields of a record to change; an undefined value removes the field. */
export type RecordChanges = { [K in keyof SessionRecord]?: SessionRecord[K] | undefined };

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
  /** Resolves once the state file holds every change persisted so far. */
  saved(): Promise<void>;
  /** Ends the processes that carry the session's id (its host is gone); returns how many. */
  endProcesses(sessionId: string): number;
  /**
   * Starts the session again: its memory limit stopped it with the action restart. `env` is
   * what its last run got, if this daemon started it (the environment is never on disk).
   */
  restart(session: Session, env: Readonly<Record<string, string>> | undefined): void;
  /** Where its terminal attachments count their backlog and resyncs. */
  readonly attachmentCounters?: AttachmentCounters | undefined;
}

export class Session {
  readonly log: SessionOutputLog;
  private screen: SessionScreen | undefined;
  private host: SessionPty | undefined;
  /**
   * Resolved once the current run has ended: its log closed, its exit in the state file, its
   * host let go of. Resolved from the start for a session that has not run here.
   */
  private exit = new Deferred<void>();
  private readonly attachments = new Set<TerminalAttachment>();
  /** Whether the screen shows what the session was started with, until its program draws. */
  private placeholder = false;
  /** Output that came while the screen was being rebuilt, for after it. */
  private held: Buffer[] | undefined;
  /** The last record sealed with nothing read after it (see WireRecord.aligned), if any. */
  private alignedSeq: number | undefined;
  private checkpointAt = 0;
  private outputSinceCheckpoint = 0;
  private checkpointing = false;
  /** What the host last said the program does. */
  private hostActivity: ActivityReport | undefined;
  private activity_: SessionActivity | undefined;
  private usage_: SessionUsage | undefined;
  /** The environment this daemon last started the program with (kept in memory only). */
  private launchEnv: Readonly<Record<string, string>> | undefined;
  /** Claude Code with its hooks and status file silent: its screen is read after output. */
  private readsScreen = false;
  private screenTimer: NodeJS.Timeout | undefined;
  logError: string | undefined;
  /**
   * The record as the latest launch made it (RUNNING, with its pid): what a start or resume
   * answers, even when the program has already exited by the time the host is connected.
   */
  launched: SessionRecord | undefined;

  constructor(
    public record: SessionRecord,
    logPath: string,
    lastSeq: number,
    private readonly hooks: SessionHooks,
    private readonly parts: SessionParts,
  ) {
    this.exit.resolve();
    this.log = parts.log(logPath, lastSeq, {
      onError: (message) => this.logProblem(message),
      onLoss: (bytes, description) => this.logLoss(bytes, description),
    });
  }

  private logProblem(message: string | undefined): void {
    this.logError = message;
    if (message !== undefined) this.hooks.warn(`session ${this.record.id}: ${message}`);
    this.changed("state");
  }

  private logLoss(bytes: number, description: string): void {
    this.hooks.warn(`session ${this.record.id}: ${description}`);
    this.update({
      logBytesLost: (this.record.logBytesLost ?? 0) + bytes,
      logLoss: description,
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

  /** The pid of the session's host, while it has one. */
  get hostPid(): number {
    return this.host?.welcome.hostPid ?? 0;
  }

  /** What its process tree uses; undefined while it has no host (or one too old to say). */
  get usage(): SessionUsage | undefined {
    return this.usage_;
  }

  /** What the program is doing; undefined while the session has no host. */
  get activity(): SessionActivity | undefined {
    return this.activity_;
  }

  /**
   * Takes a report of the host's: the activity, and for Claude Code the conversations of the
   * run, merged into the record (persisted: a resume continues the current one). An older host
   * reports nothing: the activity is unknown.
   */
  private takeActivity(report: ActivityReport | undefined, quiet = false): void {
    if (report !== undefined && this.record.claudeCode && report.conversations.length > 0) {
      const merged = mergeConversations(
        this.record.conversationId,
        this.record.previousConversationIds ?? [],
        report.conversations.map((conversation) => conversation.id),
      );
      if (
        merged.current !== this.record.conversationId ||
        merged.previous.join() !== (this.record.previousConversationIds ?? []).join()
      )
        this.update({
          conversationId: merged.current,
          previousConversationIds: merged.previous.length > 0 ? merged.previous : undefined,
        });
    }
    this.hostActivity = report;
    this.readsScreen =
      this.record.claudeCode && report !== undefined && report.source === ActivitySource.process;
    if (this.readsScreen) this.scheduleScreenRead();
    this.setActivity(
      quiet,
      report === undefined
        ? { state: "unknown", detail: "", since: new Date().toISOString(), foregroundCommand: "" }
        : {
            state: ACTIVITY_NAMES[report.state],
            detail: report.detail,
            since: report.since || new Date().toISOString(),
            foregroundCommand: report.foregroundCommand,
          },
    );
  }

  /**
   * Sets the activity; watchers hear of a change of what, its detail or the foreground, unless
   * `quiet` (the change goes with the next event).
   */
  private setActivity(quiet: boolean, activity: SessionActivity): void {
    const before = this.activity_;
    if (
      before !== undefined &&
      before.state === activity.state &&
      before.detail === activity.detail &&
      before.foregroundCommand === activity.foregroundCommand
    )
      return;
    if (before !== undefined && before.state === activity.state) activity.since = before.since;
    this.activity_ = activity;
    if (!quiet) this.hooks.notify(this, "activity");
  }

  /** Reads Claude Code's screen once its output pauses (see claude-screen.ts). */
  private scheduleScreenRead(): void {
    if (this.screenTimer !== undefined) clearTimeout(this.screenTimer);
    this.screenTimer = setTimeout(() => {
      this.screenTimer = undefined;
      void this.readScreen();
    }, SCREEN_READ_MS);
    this.screenTimer.unref();
  }

  private async readScreen(): Promise<void> {
    const screen = this.screen;
    const host = this.host;
    // A placeholder screen (a restore's) says nothing of what the program does now.
    if (!this.readsScreen || screen === undefined || host === undefined || this.placeholder) return;
    const { text } = await screen.capture({ escapes: false, scrollback: false });
    const report = this.hostActivity;
    if (this.host !== host || !this.readsScreen || report === undefined) return;
    const seen = claudeScreenActivity(text);
    const now = new Date().toISOString();
    this.setActivity(
      false,
      seen !== undefined
        ? { ...seen, since: now, foregroundCommand: report.foregroundCommand }
        : {
            state: ACTIVITY_NAMES[report.state],
            detail: report.detail,
            since: report.since || now,
            foregroundCommand: report.foregroundCommand,
          },
    );
  }

  private stopActivity(): void {
    clearTimeout(this.screenTimer);
    this.screenTimer = undefined;
    this.readsScreen = false;
    this.hostActivity = undefined;
    this.activity_ = undefined;
    this.usage_ = undefined;
  }

  /**
   * Starts `executable` with `argv` and `env` in a new host. Rejects if the host, the terminal
   * or the process cannot be created; the caller marks the session FAILED.
   */
  async launch(
    executable: string,
    argv: readonly string[],
    env: Readonly<Record<string, string>>,
    event: string,
    placeholder = "",
  ): Promise<void> {
    // The previous run is over first: its exit saved, its host let go of, its files gone.
    await this.exited();
    this.launchEnv = env;
    // The host appends to the log from here: whatever this daemon wrote is in the file first.
    await this.log.close();
    const lastSeq = this.log.lastSeq;
    const { cols, rows } = this.record;
    const host = await this.parts.spawn({
      sessionId: this.id,
      logPath: this.log.path,
      lastSeq,
      file: executable,
      args: argv.slice(1),
      workingDir: this.record.workingDir,
      env: { ...env },
      cols,
      rows,
      startEvent: `${event}: ${describeCommand(argv)}`,
      claudeCode: this.record.claudeCode,
      ...spawnLimits(this.record.limits),
    });
    const blank = { seq: lastSeq, cols, rows, frame: "" };
    this.saveCheckpoint(blank);
    this.placeholder = placeholder !== "";
    this.takeActivity(host.welcome.activity, true);
    this.update({
      state: "running",
      pid: host.pid,
      startedAt: host.welcome.startedAt || new Date().toISOString(),
      exitCode: undefined,
      exitSignal: undefined,
      endedAt: undefined,
      failureReason: undefined,
    });
    this.launched = this.record;
    // A placeholder is drawn on the screen, not saved: a next daemon replays the program's own.
    await this.adopt(host, { ...blank, frame: placeholder });
  }

  /**
   * Takes over a session whose host an earlier daemon started: rebuilds its screen from the last
   * checkpoint and the records after it, and serves it as running, same pid. If the host's
   * program has ended meanwhile, records how.
   */
  async reconnect(host: SessionPty): Promise<void> {
    const { welcome } = host;
    this.amend({ pid: welcome.pid, cols: welcome.cols, rows: welcome.rows });
    this.takeActivity(welcome.activity, true);
    const checkpoint = this.parts.checkpoint(this.id);
    await this.adopt(
      host,
      checkpoint ?? { seq: 0, cols: welcome.cols, rows: welcome.rows, frame: "" },
    );
    if (this.host === host && this.isRunning) this.changed("state");
  }

  /**
   * Drives `host` from now on: its output to the screen and the attached terminals, its records
   * to the log. The screen is first rebuilt from `from` and the records after it up to the
   * host's welcome; output that comes meanwhile is held until then.
   */
  private async adopt(host: SessionPty, from: ScreenCheckpoint): Promise<void> {
    const { welcome } = host;
    this.host = host;
    this.exit = new Deferred();
    this.alignedSeq = welcome.lastSeq;
    this.checkpointAt = Date.now();
    this.outputSinceCheckpoint = 0;
    this.log.startMirroring(welcome.writtenSeq);
    this.screen?.dispose();
    const screen = this.parts.screen(from.cols, from.rows);
    this.screen = screen;
    this.held = [];
    host.listen({
      output: (data) => {
        if (this.held !== undefined) this.held.push(data);
        else this.handleOutput(data);
      },
      record: (record, aligned) => this.handleRecord(record, aligned),
      written: (seq) => this.log.confirmWritten(seq),
      logProblem: (error) => this.logProblem(error),
      logLoss: (bytes, description) => this.logLoss(bytes, description),
      exited: (exit) => void this.handleExit(host, exit),
      lost: (reason) => void this.handleLost(host, reason),
      activity: (report) => {
        if (this.host === host) this.takeActivity(report);
      },
      usage: (usage) => {
        if (this.host !== host) return;
        this.usage_ = {
          memoryBytes: usage.memoryBytes,
          cpuPercent: usage.cpuPermille / 10,
          processes: usage.processes,
          sampledAt: new Date().toISOString(),
        };
      },
      limit: (event) => {
        if (this.host !== host) return;
        this.hooks.warn(`session ${this.id}: ${event}`);
        this.update({ limitEvent: event });
        this.changed("limit");
      },
      logDropped: (firstKeptSeq) => this.log.dropBefore(firstKeptSeq),
    });
    if (welcome.firstKeptSeq > 0) this.log.dropBefore(welcome.firstKeptSeq);
    const redraw = !(await this.replay(screen, from, welcome.lastSeq));
    if (screen.cols !== welcome.cols || screen.rows !== welcome.rows)
      screen.resize(welcome.cols, welcome.rows);
    const held = this.held;
    this.held = undefined;
    for (const data of held) this.handleOutput(data);
    if (redraw && this.host === host) host.redraw();
  }

  /**
   * Draws `from` on `screen`, then the output records after it up to `lastSeq`; false if that
   * was more than {@link REPLAY_BUDGET_BYTES} and only the last records were drawn.
   */
  private async replay(
    screen: SessionScreen,
    from: ScreenCheckpoint,
    lastSeq: number,
  ): Promise<boolean> {
    if (from.frame !== "") screen.write(Buffer.from(from.frame));
    let start = from.seq + 1;
    let whole = true;
    for (;;) {
      const drawn = await this.draw(screen, start, lastSeq, whole ? REPLAY_BUDGET_BYTES : Infinity);
      if (drawn) return whole;
      // Too much since the checkpoint: the last records on a blank screen, and a redraw.
      whole = false;
      screen.write(Buffer.from("\x1b[!p\x1b[0m\x1b[H\x1b[2J"));
      start = Math.max(from.seq + 1, lastSeq - REBUILD_RECORDS + 1);
    }
  }

  /** Writes output records `first`..`last` to `screen`; false if they pass `budget` bytes. */
  private async draw(
    screen: SessionScreen,
    first: number,
    last: number,
    budget: number,
  ): Promise<boolean> {
    const cursor = this.log.cursor(first);
    let bytes = 0;
    let step = 0;
    try {
      while (cursor.seq <= last) {
        const records = await cursor.next(1 << 20);
        if (records.length === 0) {
          // Records the host sent with its welcome are still on their way.
          if (!this.log.isOpen) break;
          await this.log.waitForNewerThan(cursor.seq - 1);
          continue;
        }
        for (const record of records) {
          if (record.seq > last || record.kind !== "output") continue;
          const data = Buffer.from(record.data);
          bytes += data.length;
          if (bytes > budget) return false;
          if (this.placeholder) {
            // The program drew before this daemon heard it live: the placeholder goes first.
            this.placeholder = false;
            screen.write(CLEAR_SCREEN);
          }
          screen.write(data);
          step += data.length;
          if (step >= REPLAY_STEP_BYTES) {
            step = 0;
            await screen.settled();
          }
        }
      }
    } finally {
      await cursor.close();
    }
    await screen.settled();
    return true;
  }

  /** Marks a session that could not be started. */
  fail(reason: string): void {
    this.update({
      state: "failed",
      pid: 0,
      failureReason: reason,
      endedAt: new Date().toISOString(),
    });
    this.log.openForAppend();
    this.log.appendEvent(`failed to start: ${reason}`);
    void this.log.close();
  }

  private handleOutput(data: Buffer): void {
    if (this.placeholder) {
      // The program draws: the screen it was restored with goes.
      this.placeholder = false;
      this.screen?.write(CLEAR_SCREEN);
      for (const attachment of this.attachments) attachment.push(CLEAR_SCREEN);
    }
    this.alignedSeq = undefined;
    this.outputSinceCheckpoint += data.length;
    this.screen?.write(data);
    for (const attachment of this.attachments) attachment.push(data);
    if (this.readsScreen) this.scheduleScreenRead();
  }

  private handleRecord(record: LogRecord, aligned: boolean): void {
    this.log.receive(record);
    if (!aligned || this.held !== undefined) {
      this.alignedSeq = undefined;
      return;
    }
    this.alignedSeq = record.seq;
    if (
      this.outputSinceCheckpoint > 0 &&
      (this.outputSinceCheckpoint >= CHECKPOINT_BYTES ||
        Date.now() - this.checkpointAt >= CHECKPOINT_INTERVAL_MS)
    )
      void this.checkpoint();
  }

  /**
   * Saves the screen as it is after the last aligned record, if the screen has seen nothing
   * since: a next daemon starts its replay there.
   */
  private async checkpoint(): Promise<void> {
    const screen = this.screen;
    const seq = this.alignedSeq;
    if (screen === undefined || seq === undefined || this.checkpointing) return;
    this.checkpointing = true;
    this.checkpointAt = Date.now();
    this.outputSinceCheckpoint = 0;
    const { cols, rows } = screen;
    // The frame is of the screen after everything written so far, and nothing written later.
    const frame = await new Promise<string>((resolve) => screen.snapshot(resolve));
    this.checkpointing = false;
    this.saveCheckpoint({ seq, cols, rows, frame });
  }

  private saveCheckpoint(checkpoint: ScreenCheckpoint): void {
    try {
      this.parts.saveCheckpoint(this.id, checkpoint);
    } catch (error) {
      this.hooks.warn(`session ${this.id}: cannot save its screen: ${(error as Error).message}`);
    }
  }

  private async handleExit(host: SessionPty, exit: ExitStatus): Promise<void> {
    if (this.host !== host) return;
    this.log.stopMirroring(exit.lastSeq);
    await this.log.close();
    await this.recordExit(exit, host);
  }

  /**
   * Records how the run ended (heard from its host, or read from the exit record it left) and
   * lets go of its terminal clients. Resolves once the state file holds it.
   */
  async recordExit(exit: ExitStatus, host?: SessionPty): Promise<void> {
    const ran = this.exit;
    const signal = exit.signal > 0 ? signalName(exit.signal) : undefined;
    const state: SessionState =
      exit.reason === StopReason.request || exit.reason === StopReason.limit
        ? "stopped"
        : exit.reason === StopReason.shutdown
          ? "interrupted"
          : "exited";
    const limited = exit.reason === StopReason.limit;
    // Persisted and told as "exited" below, once the attachments are let go of.
    this.amend({
      state,
      pid: 0,
      exitCode: signal === undefined ? exit.exitCode : undefined,
      exitSignal: signal,
      endedAt: exit.endedAt || new Date().toISOString(),
      failureReason:
        state === "interrupted"
          ? interruption(exit.event)
          : limited
            ? exit.limitEvent || "stopped past its memory limit"
            : undefined,
      ...(limited && exit.limitEvent !== "" && { limitEvent: exit.limitEvent }),
    });
    await this.releaseAttachments();
    this.host = undefined;
    this.stopActivity();
    this.changed("exited");
    // The exit record goes once the state file holds the exit (else a next daemon still finds
    // it), and the host with it. Only then has the run ended: a resume, which waits for that,
    // never finds this run's files or host in its way.
    const saved = await this.hooks.saved().then(
      () => true,
      () => false,
    );
    if (saved) this.parts.forget(this.id);
    await host?.release();
    ran.resolve();
    if (limited && exit.restart) this.hooks.restart(this, this.launchEnv);
  }

  /** The host is gone and never said how the program ended. */
  private async handleLost(host: SessionPty, reason: string): Promise<void> {
    if (this.host !== host) return;
    const recorded = this.parts.recordedExit(this.id);
    if (recorded !== undefined) {
      this.log.stopMirroring(recorded.lastSeq);
      await this.log.close();
      await this.recordExit(recorded);
      return;
    }
    const ran = this.exit;
    const ended = this.hooks.endProcesses(this.id);
    const hostPid = host.welcome.hostPid;
    // The session runs, with this host, until its end is recorded: a stop waits for it, and a
    // terminal that attaches while the file is read is let go of with the others.
    const fileLastSeq = await this.fileLastSeq();
    await this.releaseAttachments();
    await this.markInterrupted(
      `${reason} (host pid ${hostPid})${ended > 0 ? `; ${ended} leftover process(es) ended` : ""}`,
      fileLastSeq,
    );
    this.host = undefined;
    this.stopActivity();
    this.parts.forget(this.id);
    ran.resolve();
    this.changed("exited");
  }

  /** The seq of the last record in the log file, or what the log knows if it cannot be read. */
  private async fileLastSeq(): Promise<number> {
    try {
      return await lastSeqOf(this.log.path);
    } catch {
      return this.log.lastSeq;
    }
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
    return this.exit.promise;
  }

  /**
   * Has the host hang up the session's terminal, then SIGTERM its processes, then SIGKILL them
   * after `graceMs`; resolves when the program has exited. Does nothing to a session that is not
   * running. The hang-up first, as closing a terminal or `tmux kill-session` does: an
   * interactive shell ignores SIGTERM, and would otherwise take the whole grace. A second stop
   * can only make the grace shorter.
   */
  async stop(graceMs: number, reason: "request" | "shutdown" = "request"): Promise<void> {
    const host = this.host;
    if (host === undefined || this.record.pid <= 0) return;
    host.stop(graceMs, reason === "request" ? StopReason.request : StopReason.shutdown);
    await this.exited();
  }

  /**
   * Lets go of the host, which keeps the program running: the daemon is stopping. The screen
   * is checkpointed first if it shows exactly what the log holds.
   */
  async letGo(): Promise<void> {
    const host = this.host;
    if (host === undefined) return;
    if (this.outputSinceCheckpoint > 0) await this.checkpoint();
    host.close();
    this.host = undefined;
    this.stopActivity();
    for (const attachment of this.attachments) attachment.close();
    this.attachments.clear();
  }

  /** Writes to the program's terminal, in order; see {@link takesInput}. */
  write(data: string | Buffer): void {
    this.host?.write(data);
  }

  /** Input the program has not read yet, in bytes. */
  get pendingInput(): number {
    return this.host?.pendingInput ?? 0;
  }

  /**
   * Whether the session takes more input now: false while its program leaves the most a
   * session holds unread (MAX_PENDING_INPUT_BYTES).
   */
  get takesInput(): boolean {
    return this.host?.takesInput ?? true;
  }

  /** Resolves when the session takes input again, its program has ended, or `stop` fires. */
  waitForInputRoom(stop: AbortSignal): Promise<void> {
    return this.host?.waitForInputRoom(stop) ?? Promise.resolve();
  }

  resize(cols: number, rows: number): void {
    if (cols === this.record.cols && rows === this.record.rows) return;
    // The host logs the resize.
    this.host?.resize(cols, rows);
    this.screen?.resize(cols, rows);
    for (const attachment of this.attachments) attachment.resized();
    this.amend({ cols, rows });
    this.hooks.notify(this, "state");
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

  /**
   * Records that the session's run was cut off (its host is gone: killed, or the machine
   * restarted). `fileLastSeq`: where the log file ends, when this daemon mirrored the host.
   */
  async markInterrupted(reason: string, fileLastSeq?: number): Promise<void> {
    this.update({
      state: "interrupted",
      pid: 0,
      failureReason: reason,
      endedAt: new Date().toISOString(),
    });
    if (fileLastSeq !== undefined) this.log.stopMirroring(fileLastSeq);
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
    this.host?.close();
    this.host = undefined;
    this.stopActivity();
    for (const attachment of this.attachments) attachment.close();
    this.attachments.clear();
    this.screen?.dispose();
    this.screen = undefined;
  }
}

/** What an INTERRUPTED session's record says: the host's event, or the daemon's stop. */
function interruption(event: string): string {
  if (event.startsWith("interrupted: ")) return event.slice("interrupted: ".length);
  return "the daemon was stopped with its sessions";
}

/**
 * The conversations a session was in, after a host's report of its run's (`reported`, oldest
 * first): the last one reported is the current one; the others, and the one current before,
 * are earlier ones, each once, in the order last left.
 */
export function mergeConversations(
  current: string | undefined,
  previous: readonly string[],
  reported: readonly string[],
): { current: string | undefined; previous: string[] } {
  const ids = [...previous, ...(current !== undefined ? [current] : []), ...reported];
  const now = ids.at(-1);
  const earlier: string[] = [];
  for (const id of ids.slice(0, -1)) {
    if (id === now) continue;
    const at = earlier.indexOf(id);
    if (at >= 0) earlier.splice(at, 1);
    earlier.push(id);
  }
  return { current: now, previous: earlier };
}
