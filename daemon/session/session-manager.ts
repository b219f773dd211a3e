/**
 * Owns every session by id: starts, finds, stops, removes and resumes them, persists their
 * records after every change, and tells watchers what happened.
 */
import { randomUUID } from "node:crypto";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { DEFAULT_GRACE_MS } from "../common/grace.js";
import { ensurePrivateLogsDirectory } from "../common/home-guard.js";
import type { HomePaths } from "../common/paths.js";
import { UnsafeFileError } from "../common/regular-file.js";
import { HostUnavailableError, hostKey } from "../host/host-client.js";
import { StopReason } from "../host/host-wire.js";
import { lastSeqOf, logBytesOnDisk, removeLog } from "../log/log-file.js";
import type { AttachmentCounters } from "../server/daemon-counters.js";
import { freeFds, openFileLimit, SESSION_RESERVE_FDS } from "../server/fd-budget.js";
import type { Logger } from "../server/logger.js";
import { StateStore } from "../store/state-store.js";
import { processesOfSessions, SESSION_ID_ENV, signalEach } from "../terminal/process-tree.js";
import { MAX_PENDING_INPUT_BYTES } from "../terminal/pty-writer.js";
import type { AttachmentSink, TerminalAttachment } from "../terminal/terminal-attachment.js";
import { hasClaudeTranscript } from "./claude-transcript.js";
import { resolveSession } from "./id-resolver.js";
import { checkLabels, matches, parseSelector } from "./labels.js";
import { type AskedLimits, BUILT_IN_LIMITS, resolveLimits, type SessionLimits } from "./limits.js";
import { Session, type SessionChange } from "./session.js";
import {
  chosenConversation,
  commandForResume,
  commandForStart,
  describeCommand,
  findExecutable,
} from "./session-command.js";
import { SessionError } from "./session-error.js";
import { hostedSessionParts, type SessionParts } from "./session-parts.js";
import {
  isActive,
  type SessionOrigin,
  type SessionRecord,
  type SessionState,
} from "./session-record.js";
import {
  checkCommand,
  checkEnv,
  checkExecSize,
  checkNewName,
  checkSize,
  checkWorkingDir,
} from "./session-validation.js";
import {
  createWorktree,
  defaultBranch,
  discardWorktree,
  removeWorktree,
  uncommittedReason,
  type WorktreeRecord,
} from "./worktree.js";
import { dropRef, keepRef, originRef } from "./worktree-state.js";

/** How many hosts a starting daemon connects to at once. */
const RECONNECT_CONCURRENCY = 16;
/** The grace a host no record names gets to end its program. */
const ORPHAN_GRACE_MS = 2000;
/** At most this many restarts past the memory limit in {@link LIMIT_RESTART_WINDOW_MS}. */
const LIMIT_RESTARTS = 5;
const LIMIT_RESTART_WINDOW_MS = 10 * 60_000;

export type WatchKind = SessionChange | "removed";
export type Watcher = (
  kind: WatchKind,
  record: Readonly<SessionRecord>,
  session: Session | undefined,
) => void;

export interface StartOptions {
  workingDir: string;
  command: readonly string[];
  env: Readonly<Record<string, string>>;
  name: string;
  cols?: number | undefined;
  rows?: number | undefined;
  labels?: Readonly<Record<string, string>>;
  /** Run in a new git worktree, on `branch` (empty: one named after the session) from `base`. */
  worktree?: { branch: string; base: string } | undefined;
  /** Limits asked for; what is left out comes from the defaults. */
  limits?: AskedLimits;
}

/** A new session, every part settled: what {@link SessionManager.startPlanned} starts. */
export interface LaunchPlan {
  id: string;
  name: string;
  /** Where it runs: in its worktree, if it has one. */
  workingDir: string;
  argv: string[];
  /** Its environment, as {@link SessionManager.environmentFor} made it. */
  env: Record<string, string>;
  cols: number;
  rows: number;
  claudeCode: boolean;
  labels: Readonly<Record<string, string>>;
  limits: SessionLimits;
  conversationId?: string;
  worktree?: WorktreeRecord;
  origin?: SessionOrigin;
  /** The log's first event's words: "started", "forked from session <id>", ... */
  event: string;
  /** What the screen shows until the program draws (escape sequences). */
  placeholder?: string;
}

/** What a session gets when its start does not say (the config file's defaults). */
export interface SessionDefaults {
  /** The program when a start names none; empty: Claude Code. */
  command: readonly string[];
  limits: SessionLimits;
}

/** What a prune forgot (or would), and what it kept and why. */
export interface PruneResult {
  pruned: SessionRecord[];
  kept: Array<{ record: SessionRecord; reason: string }>;
  /** The bytes of the pruned sessions' log files and segments. */
  logBytes: number;
}

export interface ResumeOptions {
  env?: Readonly<Record<string, string>>;
  cols?: number | undefined;
  rows?: number | undefined;
}

export class SessionManager {
  private readonly sessions = new Map<string, Session>();
  private readonly watchers = new Set<Watcher>();
  private readonly store: StateStore;
  private readonly parts: SessionParts;
  private closing = false;
  private defaults: SessionDefaults = { command: [], limits: BUILT_IN_LIMITS };
  /** Settles once a {@link load} under way has taken over every session: restarts wait for it. */
  private loaded: Promise<void> = Promise.resolve();
  /** When each session was last restarted past its memory limit (in memory only). */
  private readonly limitRestarts = new Map<string, number[]>();
  /**
   * Restarts past the memory limit under way, by session id: a stop asked for meanwhile cancels
   * one not yet begun, and stops the program of one that was (it waits for the start to end).
   */
  private readonly pendingRestarts = new Map<string, { cancelled: boolean; done: Promise<void> }>();

  constructor(
    private readonly paths: HomePaths,
    private readonly logger: Logger,
    private readonly attachmentCounters?: AttachmentCounters,
  ) {
    this.store = new StateStore(paths.state, (message) => {
      if (message !== undefined) logger.error(`${message}; retrying until a write works`);
      else logger.info(`${paths.state} is written again`);
    });
    ensurePrivateLogsDirectory(paths.logs);
    this.parts = hostedSessionParts(paths, hostKey(paths));
  }

  /** Sets what new sessions get when their start does not say (a config file was read). */
  setDefaults(defaults: SessionDefaults): void {
    this.defaults = defaults;
  }

  /**
   * Loads the saved sessions and reconnects to the host of each one that was running: it is
   * served as running again, same pid, screen rebuilt. A host that ended while no daemon ran
   * left its exit, which is recorded; one that is gone (killed, or the machine restarted)
   * makes its session INTERRUPTED, and any of its processes still alive are ended.
   */
  async load(): Promise<void> {
    const loading = this.loadSessions();
    this.loaded = loading.catch(() => undefined);
    await loading;
  }

  private async loadSessions(): Promise<void> {
    const records = this.store.load((message) => this.logger.warn(message));
    const active: Session[] = [];
    for (const record of records) {
      let lastSeq = 0;
      let logError: string | undefined;
      try {
        lastSeq = await lastSeqOf(this.logPath(record.id));
      } catch (error) {
        // One session's unusable log (a FIFO, a link) must not keep the others from being served.
        if (!(error instanceof UnsafeFileError)) throw error;
        logError = error.message;
        this.logger.warn(`session ${record.id}: ${logError}`);
      }
      const session = this.createSession(record, lastSeq);
      session.logError = logError;
      this.sessions.set(record.id, session);
      if (isActive(record.state)) active.push(session);
    }
    let next = 0;
    const reconnectNext = async (): Promise<void> => {
      for (let session = active[next++]; session !== undefined; session = active[next++])
        await this.reconnect(session);
    };
    await Promise.all(Array.from({ length: RECONNECT_CONCURRENCY }, reconnectNext));
    await this.endUnknownHosts(new Set(records.map((record) => record.id)));
    if (records.length > 0) {
      const running = active.filter((session) => session.isRunning).length;
      this.logger.info(
        `loaded ${records.length} session(s) from ${this.paths.state}; ${running} running, reconnected`,
      );
    }
    await this.persist();
  }

  /**
   * Resumes a session its memory limit stopped with the action restart (for Claude Code, its
   * conversation goes on), unless it was restarted {@link LIMIT_RESTARTS} times in the last
   * {@link LIMIT_RESTART_WINDOW_MS}: a program that passes its limit at once would otherwise be
   * restarted for ever. Then it stays STOPPED, and its reason says so.
   */
  private restartPastLimit(
    session: Session,
    env: Readonly<Record<string, string>> | undefined,
  ): Promise<void> {
    const pending = { cancelled: false, done: Promise.resolve() };
    pending.done = this.restartUnlessCancelled(session, env, pending).finally(() => {
      if (this.pendingRestarts.get(session.id) === pending) this.pendingRestarts.delete(session.id);
    });
    this.pendingRestarts.set(session.id, pending);
    return pending.done;
  }

  private async restartUnlessCancelled(
    session: Session,
    env: Readonly<Record<string, string>> | undefined,
    pending: { cancelled: boolean },
  ): Promise<void> {
    await this.loaded;
    const { id } = session;
    if (pending.cancelled) return;
    if (this.closing || this.sessions.get(id) !== session || session.isRunning) return;
    const now = Date.now();
    const recent = (this.limitRestarts.get(id) ?? []).filter(
      (at) => now - at < LIMIT_RESTART_WINDOW_MS,
    );
    if (recent.length >= LIMIT_RESTARTS) {
      const reason = `${session.record.failureReason ?? "stopped past its memory limit"}; not restarted: ${LIMIT_RESTARTS} restarts in the last ${LIMIT_RESTART_WINDOW_MS / 60_000} minutes`;
      session.update({ failureReason: reason });
      this.logger.warn(`session ${id}: ${reason}`);
      return;
    }
    this.limitRestarts.set(id, [...recent, now]);
    try {
      await this.resume(id, env === undefined ? {} : { env });
      this.logger.info(`session ${id} restarted past its memory limit`);
    } catch (error) {
      this.logger.warn(
        `session ${id}: cannot restart it past its memory limit: ${(error as Error).message}`,
      );
    }
  }

  /** Reconnects to a running session's host, or records why the session is no longer running. */
  private async reconnect(session: Session): Promise<void> {
    const { id } = session;
    try {
      await session.reconnect(await this.parts.reconnect(id));
      return;
    } catch (error) {
      if (!(error instanceof HostUnavailableError)) {
        this.logger.warn(`session ${id}: cannot take it over: ${(error as Error).message}`);
        await session.markInterrupted(
          `this daemon could not take it over: ${(error as Error).message}`,
        );
        return;
      }
      const exit = this.parts.recordedExit(id);
      if (exit !== undefined) {
        await session.recordExit(exit);
        return;
      }
      if (!error.gone) {
        // A host that runs but that this daemon cannot drive: its program is left alone.
        this.logger.warn(`session ${id}: ${error.message}`);
        await session.markInterrupted(error.message);
        return;
      }
      const ended = this.endProcesses(id);
      await session.markInterrupted(
        `its session host is gone (the machine restarted, or the host was killed)${ended > 0 ? `; ${ended} leftover process(es) ended` : ""}`,
      );
      this.parts.forget(id);
    }
  }

  /**
   * Ends the hosts in the run directory that no record names: a daemon that died between
   * starting a host and saving its session never reported that session started, and nothing
   * could reach it again.
   */
  private async endUnknownHosts(known: ReadonlySet<string>): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.paths.run);
    } catch {
      return;
    }
    const unknown = names
      .filter((name) => name.endsWith(".sock"))
      .map((name) => name.slice(0, -".sock".length))
      .filter((id) => !known.has(id));
    await Promise.all(
      unknown.map(async (id) => {
        try {
          const host = await this.parts.reconnect(id);
          this.logger.warn(
            `ending session host ${host.welcome.hostPid}: no session record names ${id}`,
          );
          const ended = new Promise<void>((resolve) =>
            host.listen({
              output: () => undefined,
              record: () => undefined,
              written: () => undefined,
              logProblem: () => undefined,
              logLoss: () => undefined,
              exited: () => resolve(),
              lost: () => resolve(),
              activity: () => undefined,
              usage: () => undefined,
              limit: () => undefined,
              logDropped: () => undefined,
            }),
          );
          host.stop(ORPHAN_GRACE_MS, StopReason.shutdown);
          await ended;
          await host.release();
        } catch {
          // Not a live host: nothing to end.
        }
        this.parts.forget(id);
      }),
    );
  }

  /** Kills the processes that carry a session's id: what its host, now gone, left running. */
  private endProcesses(id: string): number {
    const pids = processesOfSessions(new Set([id])).get(id) ?? [];
    if (pids.length > 0) {
      this.logger.warn(`session ${id}: ending ${pids.length} process(es) its host left`);
      signalEach(pids, "SIGKILL");
    }
    return pids.length;
  }

  private logPath(id: string): string {
    return join(this.paths.logs, `${id}.jsonl`);
  }

  private createSession(record: SessionRecord, lastSeq: number): Session {
    return new Session(
      record,
      this.logPath(record.id),
      lastSeq,
      {
        persist: (session) => {
          if (this.sessions.has(session.id)) void this.persist();
        },
        notify: (session, change) => {
          if (!this.sessions.has(session.id)) return;
          for (const watcher of this.watchers) watcher(change, session.record, session);
        },
        warn: (message) => this.logger.warn(message),
        saved: () => this.store.saved(),
        endProcesses: (id) => this.endProcesses(id),
        restart: (session, env) => void this.restartPastLimit(session, env),
        attachmentCounters: this.attachmentCounters,
      },
      this.parts,
    );
  }

  /** Writes the state; a failure is reported (and retried) by the store. */
  private persist(): Promise<void> {
    return this.store
      .save(() => [...this.sessions.values()].map((session) => session.record))
      .catch(() => undefined);
  }

  /**
   * Resolves once every change made so far is in the state file: a client told about a session
   * can rely on the next daemon knowing it, even if this one is killed the moment after. If the
   * write failed, a session just started (or resumed) would run with no record a next daemon
   * could find: its program is ended again and the start undone, and the error thrown says why.
   */
  async saved(launched?: { session: Session; resumed: boolean }): Promise<void> {
    try {
      await this.store.saved();
      return;
    } catch (error) {
      if (launched === undefined) throw error;
      const { session, resumed } = launched;
      await session.stop(0, "request");
      const reason = `cannot write ${this.paths.state}: ${(error as Error).message}`;
      this.logger.warn(`session ${session.id} ended again: ${reason}`);
      if (resumed) {
        session.update({
          state: "failed",
          failureReason: `its record could not be saved: ${reason}`,
        });
        throw unsaved(
          `the resumed session ${session.id} was ended again: ${reason}; free space on that disk and resume it again`,
          error,
        );
      }
      this.sessions.delete(session.id);
      session.dispose();
      await removeLog(session.log.path);
      // Its worktree and branch too, as for a start that failed before its program ran, so that
      // starting it again can name them again.
      const { worktree, origin } = session.record;
      if (worktree !== undefined) {
        await discardWorktree(worktree);
        if (origin?.commit)
          await dropRef(worktree.repository, originRef(session.id)).catch(() => undefined);
      }
      void this.persist();
      for (const watcher of this.watchers) watcher("removed", session.record, undefined);
      throw unsaved(
        `the session was not started: ${reason}; free space on that disk and start it again`,
        error,
      );
    }
  }

  private checkOpen(): void {
    if (this.closing)
      throw new SessionError(
        "unavailable",
        "the daemon is shutting down; start it again with: claude-sessions daemon",
      );
  }

  /** Starts a new session; throws a {@link SessionError} for bad input. */
  async start(options: StartOptions): Promise<Session> {
    this.checkOpen();
    const workingDir = checkWorkingDir(options.workingDir);
    const name = checkNewName(options.name);
    const { cols, rows } = checkSize(options.cols, options.rows);
    const requested = checkCommand(options.command);
    const labels = checkLabels(options.labels ?? {});
    const limits = resolveLimits(options.limits ?? {}, this.defaults.limits);
    if (name !== "") this.checkNameFree(name);
    checkFreeFds();
    const id = randomUUID();
    const env = sessionEnv(options.env, id, this.paths.home);
    const { argv, claudeCode } = commandForStart(requested, id, env, this.defaults.command);
    findExecutable(argv[0] as string, workingDir, env);
    let runIn = workingDir;
    let worktree: WorktreeRecord | undefined;
    if (options.worktree !== undefined) {
      const made = await createWorktree({
        dir: workingDir,
        branch: options.worktree.branch || defaultBranch(name, id),
        base: options.worktree.base,
        worktreesDir: this.paths.worktrees,
      });
      worktree = made.worktree;
      runIn = made.workingDir;
    }
    const conversationId = claudeCode ? chosenConversation(argv) : undefined;
    return this.startPlanned({
      id,
      name,
      workingDir: runIn,
      argv,
      env,
      cols,
      rows,
      claudeCode,
      labels,
      limits,
      ...(conversationId !== undefined && { conversationId }),
      ...(worktree !== undefined && { worktree }),
      event: "started",
    });
  }

  /**
   * Starts a session whose every part is settled and checked (see {@link start}; fork and
   * restore plan theirs): its program is found, its record made, its host launched. A worktree
   * made for it is discarded again, branch and all, if it cannot start there.
   */
  async startPlanned(plan: LaunchPlan): Promise<Session> {
    let executable: string;
    try {
      // Checked again after the awaits that made the worktree: the name may have been taken.
      this.checkOpen();
      if (plan.name !== "") this.checkNameFree(plan.name);
      checkFreeFds();
      executable = findExecutable(plan.argv[0] as string, plan.workingDir, plan.env);
      checkExecSize(executable, plan.argv, plan.env);
      if (plan.worktree !== undefined && plan.origin?.commit)
        await keepRef(plan.worktree.repository, originRef(plan.id), plan.origin.commit);
    } catch (error) {
      if (plan.worktree !== undefined) await discardWorktree(plan.worktree);
      throw error;
    }
    const record: SessionRecord = {
      id: plan.id,
      name: plan.name,
      workingDir: plan.workingDir,
      command: [...plan.argv],
      state: "starting",
      pid: 0,
      createdAt: new Date().toISOString(),
      cols: plan.cols,
      rows: plan.rows,
      claudeCode: plan.claudeCode,
      ...(plan.conversationId !== undefined && { conversationId: plan.conversationId }),
      ...(Object.keys(plan.labels).length > 0 && { labels: { ...plan.labels } }),
      ...(plan.worktree !== undefined && { worktree: plan.worktree }),
      limits: plan.limits,
      ...(plan.origin !== undefined && { origin: plan.origin }),
    };
    const session = this.createSession(record, 0);
    this.sessions.set(plan.id, session);
    await this.launch(session, executable, plan.argv, plan.env, plan.event, plan.placeholder);
    return session;
  }

  /** The environment a new session `id` runs with when its client asked for `requested`. */
  environmentFor(
    requested: Readonly<Record<string, string>> | undefined,
    id: string,
  ): Record<string, string> {
    return sessionEnv(requested, id, this.paths.home);
  }

  private async launch(
    session: Session,
    executable: string,
    argv: readonly string[],
    env: Readonly<Record<string, string>>,
    event: string,
    placeholder?: string,
  ): Promise<void> {
    try {
      await session.launch(executable, argv, env, event, placeholder);
      this.logger.info(
        `session ${session.id} ${event}: ${describeCommand(argv)} in ${session.record.workingDir}`,
      );
    } catch (error) {
      const reason = (error as Error).message;
      session.fail(reason);
      this.logger.warn(`session ${session.id} failed to start: ${reason}`);
      throw new SessionError(
        "failed-precondition",
        `could not start ${argv[0]}: ${reason} (session ${session.id} is FAILED)`,
      );
    }
  }

  /** Refuses a name another session has (ALREADY_EXISTS, naming it). */
  checkNameFree(name: string, except?: string): void {
    for (const session of this.sessions.values()) {
      if (session.record.name === name && session.id !== except) {
        throw new SessionError(
          "already-exists",
          `the name '${name}' is already used by session ${session.id}; choose another, or remove that session (claude-sessions rm ${name})`,
        );
      }
    }
  }

  /** The sessions, oldest first, optionally filtered (`selector`: a label selector). */
  list(
    filter: { states?: readonly SessionState[]; name?: string; selector?: string } = {},
  ): Session[] {
    const requirements = parseSelector(filter.selector ?? "");
    return [...this.sessions.values()].filter(
      (session) =>
        (filter.states === undefined ||
          filter.states.length === 0 ||
          filter.states.includes(session.state)) &&
        (filter.name === undefined || filter.name === "" || session.record.name === filter.name) &&
        matches(session.record.labels ?? {}, requirements),
    );
  }

  /** Whether a session has the id `id` (whole). */
  has(id: string): boolean {
    return this.sessions.has(id);
  }

  /** The limits a session gets when its start names none. */
  get defaultLimits(): SessionLimits {
    return this.defaults.limits;
  }

  /** The session named by an id, a unique id prefix or a name. */
  get(query: string): Session {
    const { id } = resolveSession(
      query,
      [...this.sessions.values()].map((session) => session.record),
    );
    return this.sessions.get(id) as Session;
  }

  /**
   * Writes `data` (undefined when the request held none) to the program of a running session;
   * refused while the program leaves what the session holds for it unread.
   */
  sendInput(query: string, data: Buffer | undefined): number {
    const session = this.get(query);
    requireRunning(session, "send input");
    if (data === undefined)
      throw new SessionError("invalid-argument", "nothing to send: set data or text");
    if (!session.takesInput) {
      throw new SessionError(
        "resource-exhausted",
        `cannot send input: the program in session ${session.id} is not reading its input: ${session.pendingInput} bytes are waiting for it; send again once fewer than ${MAX_PENDING_INPUT_BYTES} are`,
      );
    }
    session.write(data);
    return data.length;
  }

  /** Resizes the terminal of a running session. */
  resize(query: string, cols: number, rows: number): Session {
    const session = this.get(query);
    requireRunning(session, "resize");
    this.resizeTerminal(session, cols, rows);
    return session;
  }

  /**
   * A terminal client's new size, checked like any size. A session that has ended since its
   * client attached keeps it for its next run.
   */
  resizeTerminal(session: Session, cols: number, rows: number): void {
    const size = checkSize(cols, rows);
    session.resize(size.cols, size.rows);
  }

  /** A read-only terminal client's new size, checked like any size: its viewport. */
  resizeView(attachment: TerminalAttachment, cols: number, rows: number): void {
    const size = checkSize(cols, rows);
    attachment.view(size.cols, size.rows);
  }

  /**
   * Attaches a terminal client to a running session: an interactive one with a size resizes the
   * session to it first (the latest interactive client's size wins); a read-only one's is the
   * part of the screen it is shown. A session that has ended has no attachment to give: the caller shows the client its final screen and how it ended.
   */
  attach(
    query: string,
    sink: AttachmentSink,
    readOnly: boolean,
    size?: { cols: number; rows: number },
  ): { session: Session; attachment: TerminalAttachment | undefined } {
    const session = this.get(query);
    const checked = size !== undefined ? checkSize(size.cols, size.rows) : undefined;
    return { session, attachment: session.attach(sink, readOnly, checked) };
  }

  /**
   * Stops a running session (an ended one is returned unchanged) and waits for the state file to
   * record it; throws if it cannot, saying that the daemon retries.
   */
  async stop(query: string, graceMs = DEFAULT_GRACE_MS): Promise<Session> {
    const session = this.get(query);
    const restart = this.pendingRestarts.get(session.id);
    if (restart !== undefined) {
      // Past its memory limit and about to run again: the stop asked for wins.
      restart.cancelled = true;
      await restart.done;
    }
    await session.stop(graceMs, "request");
    await this.store.saved().catch((error: unknown) => {
      throw unsaved(
        `session ${session.id} is ${session.state}, but cannot write ${this.paths.state}: ${(error as Error).message}; the daemon retries until it can: free space on that disk`,
        error,
      );
    });
    return session;
  }

  /**
   * Forgets an ended session, and deletes its log if asked. Its worktree goes first: one with
   * uncommitted changes is refused unless `force`; its branch is kept.
   */
  async remove(query: string, deleteLog: boolean, force = false): Promise<SessionRecord> {
    this.checkOpen();
    const session = this.get(query);
    if (session.isRunning) {
      throw new SessionError(
        "failed-precondition",
        `session ${session.id} is running; stop it first (claude-sessions stop ${session.record.name || session.id})`,
      );
    }
    await session.exited();
    const { worktree } = session.record;
    if (worktree !== undefined) {
      await removeWorktree(worktree, force, session.record.name || session.id);
      this.logger.info(
        `session ${session.id}: worktree ${worktree.path} removed, branch ${worktree.branch} kept`,
      );
      if (session.record.origin?.commit) {
        const ref = originRef(session.id);
        // The session goes whether or not its ref can: a ref left over holds one commit, no more.
        await dropRef(worktree.repository, ref).catch((error: Error) =>
          this.logger.warn(`session ${session.id}: ${error.message}`),
        );
      }
    }
    this.sessions.delete(session.id);
    session.dispose();
    // Unlinking a large log takes a while; other sessions need not wait for it.
    if (deleteLog) await removeLog(session.log.path);
    this.parts.forget(session.id);
    await this.persist();
    for (const watcher of this.watchers) watcher("removed", session.record, undefined);
    this.logger.info(`session ${session.id} removed${deleteLog ? " with its log" : ""}`);
    return session.record;
  }

  /**
   * Forgets the ended sessions (every state but starting and running) that ended at least
   * `olderThanMs` ago and match `selector`, as {@link remove} does with their logs. A session
   * whose worktree has uncommitted changes is kept, and so is one that cannot be removed, each
   * with why; one does not stop the others. With `dryRun`, says the same and removes nothing.
   */
  async prune(options: {
    olderThanMs: number;
    selector: string;
    dryRun: boolean;
  }): Promise<PruneResult> {
    this.checkOpen();
    const now = Date.now();
    const ended = this.list({ selector: options.selector }).filter((session) => {
      const { state, endedAt, createdAt } = session.record;
      if (isActive(state)) return false;
      const at = Date.parse(endedAt ?? createdAt);
      return !(now - at < options.olderThanMs);
    });
    const result: PruneResult = { pruned: [], kept: [], logBytes: 0 };
    for (const session of ended) {
      const { record } = session;
      const called = record.name || record.id;
      try {
        const dirty =
          record.worktree === undefined
            ? undefined
            : await uncommittedReason(record.worktree, called);
        if (dirty !== undefined) {
          result.kept.push({ record, reason: dirty });
          continue;
        }
        const bytes = logBytesOnDisk(session.log.path);
        if (!options.dryRun) await this.remove(record.id, true);
        result.pruned.push(record);
        result.logBytes += bytes;
      } catch (error) {
        result.kept.push({ record, reason: (error as Error).message });
      }
    }
    if (!options.dryRun && result.pruned.length > 0)
      this.logger.info(
        `pruned ${result.pruned.length} session(s), ${result.logBytes} bytes of log${result.kept.length > 0 ? `; kept ${result.kept.length}` : ""}`,
      );
    return result;
  }

  /**
   * Starts an ended or interrupted session again, same id, directory and command, in the
   * environment given, else the daemon's own (no session's environment is kept). Claude Code
   * looks for its transcript in that environment's HOME, so the check does too.
   */
  async resume(query: string, options: ResumeOptions = {}): Promise<Session> {
    this.checkOpen();
    const session = this.get(query);
    if (session.isRunning) {
      throw new SessionError("failed-precondition", `session ${session.id} is already running`);
    }
    const record = session.record;
    checkWorkingDir(record.workingDir);
    const { cols, rows } = checkSize(options.cols, options.rows, {
      cols: record.cols,
      rows: record.rows,
    });
    const env = sessionEnv(options.env, record.id, this.paths.home);
    checkFreeFds();
    const argv = commandForResume(
      record.command,
      record.id,
      (conversation) => hasClaudeTranscript(conversation, record.workingDir, env),
      record.conversationId,
    );
    const executable = findExecutable(argv[0] as string, record.workingDir, env);
    checkExecSize(executable, argv, env);
    const conversationId = record.conversationId ?? chosenConversation(argv);
    session.amend({ cols, rows, conversationId });
    await this.launch(session, executable, argv, env, "resumed");
    return session;
  }

  /**
   * Gives a session a new name (empty: none), checked as {@link start} checks it, whatever the
   * session's state; resolves once the state file holds it.
   */
  async rename(query: string, newName: string): Promise<Session> {
    this.checkOpen();
    const session = this.get(query);
    const name = checkNewName(newName);
    if (name !== "") this.checkNameFree(name, session.id);
    if (name === session.record.name) return session;
    const previous = session.record.name;
    session.update({ name });
    await this.store.saved().catch((error: unknown) => {
      throw unsaved(
        `session ${session.id} is renamed '${name}', but cannot write ${this.paths.state}: ${(error as Error).message}; the daemon retries until it can: free space on that disk`,
        error,
      );
    });
    this.logger.info(`session ${session.id} renamed from '${previous}' to '${name}'`);
    return session;
  }

  /**
   * Sets and removes labels of a session, checked as {@link start} checks them, whatever its
   * state; resolves once the state file holds them.
   */
  async label(
    query: string,
    set: Readonly<Record<string, string>>,
    remove: readonly string[],
  ): Promise<Session> {
    this.checkOpen();
    const session = this.get(query);
    checkLabels(set);
    const labels: Record<string, string> = { ...session.record.labels };
    for (const key of remove) delete labels[key];
    Object.assign(labels, set);
    const checked = checkLabels(labels);
    const before = JSON.stringify(session.record.labels ?? {});
    if (JSON.stringify(checked) === before) return session;
    session.update({ labels: Object.keys(checked).length > 0 ? checked : undefined });
    await this.store.saved().catch((error: unknown) => {
      throw unsaved(
        `session ${session.id} is labelled, but cannot write ${this.paths.state}: ${(error as Error).message}; the daemon retries until it can: free space on that disk`,
        error,
      );
    });
    this.logger.info(`session ${session.id} labels: ${JSON.stringify(checked)}`);
    return session;
  }

  /**
   * Resumes every INTERRUPTED session (daemon --resume) in the daemon's own environment;
   * failures are logged, not thrown.
   */
  async resumeInterrupted(): Promise<Session[]> {
    const resumed: Session[] = [];
    for (const session of this.list({ states: ["interrupted"] })) {
      try {
        resumed.push(await this.resume(session.id));
      } catch (error) {
        this.logger.warn(`cannot resume session ${session.id}: ${(error as Error).message}`);
      }
    }
    return resumed;
  }

  watch(watcher: Watcher): () => void {
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }

  get isClosing(): boolean {
    return this.closing;
  }

  /**
   * Stops serving: every session's host is let go of and keeps its program running, for the
   * next daemon; with `stopSessions`, every running session is ended first (gracefully, and
   * becomes INTERRUPTED). Logs are flushed and the state is written.
   */
  async shutdown(options: { graceMs?: number; stopSessions?: boolean } = {}): Promise<void> {
    this.closing = true;
    const running = [...this.sessions.values()].filter((session) => session.isRunning);
    if (options.stopSessions === true)
      await Promise.all(
        running.map((session) => session.stop(options.graceMs ?? DEFAULT_GRACE_MS, "shutdown")),
      );
    await Promise.all(running.map((session) => session.letGo()));
    await Promise.all([...this.sessions.values()].map((session) => session.log.close()));
    await this.persist();
    await this.store.settled();
    this.store.close();
    for (const session of this.sessions.values()) session.dispose();
  }
}

/**
 * A program's environment: the client's, else (when it sent none) the daemon's own, with TERM
 * and the session's id added.
 */
function sessionEnv(
  requested: Readonly<Record<string, string>> | undefined,
  id: string,
  home: string,
): Record<string, string> {
  const chosen =
    requested !== undefined && Object.keys(requested).length > 0 ? requested : envOf(process.env);
  // The home, so that `claude-sessions` run inside the session reaches this daemon, unless the
  // environment names one of its own.
  return {
    CLAUDE_SESSIONS_HOME: home,
    ...checkEnv(chosen),
    TERM: "xterm-256color",
    [SESSION_ID_ENV]: id,
  };
}

/** Refuses what only a running session can do (`what`: "send input", "resize", "attach"). */
function requireRunning(session: Session, what: string): void {
  if (!session.isRunning) throw notRunning(session, what);
}

function notRunning(session: Session, what: string): SessionError {
  const called = session.record.name || session.id;
  return new SessionError(
    "failed-precondition",
    `cannot ${what}: session ${called} is ${session.state}; see its output with: claude-sessions logs ${called}`,
  );
}

/**
 * Refuses a new program while the daemon is close to its open-file limit: the session's pty and
 * log would take the descriptors that state writes need, and fail half-way with EMFILE.
 */
function checkFreeFds(): void {
  const free = freeFds();
  if (free > SESSION_RESERVE_FDS) return;
  throw new SessionError(
    "resource-exhausted",
    `the daemon is at its limit of ${openFileLimit()} open files (${Math.max(0, free)} free); stop or remove sessions, close clients, or restart the daemon with a higher limit (ulimit -n)`,
  );
}

function envOf(env: NodeJS.ProcessEnv): Record<string, string> {
  const clean: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) clean[key] = value;
  return clean;
}

/** An error saying what a failed state write undid, with the write's errno for its status. */
function unsaved(message: string, cause: unknown): Error {
  return Object.assign(new Error(message), { code: (cause as NodeJS.ErrnoException).code });
}
