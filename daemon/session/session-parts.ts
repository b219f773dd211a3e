/**
 * What a {@link Session} is given: its program's terminal (a connection to the session's host),
 * its log and its screen, as the interfaces of what it uses of them, and the factory that builds
 * the real ones. A session never builds them itself, so its logic runs in unit tests on fakes,
 * with no process and no PTY (as VS Code passes the process into `PersistentTerminalProcess`).
 */
import { rmSync, statSync } from "node:fs";
import type { HomePaths, HostPaths } from "../common/paths.js";
import { hostPaths } from "../common/paths.js";
import { readExitRecord } from "../host/exit-record.js";
import {
  connectHost,
  type HostListener,
  type SpawnRequest,
  spawnHost,
} from "../host/host-client.js";
import type { ExitStatus, StopReason, Welcome } from "../host/host-wire.js";
import type { LogRecord } from "../log/log-record.js";
import { SessionLog, type SessionLogOptions } from "../log/session-log.js";
import type { ScreenSource } from "../terminal/terminal-attachment.js";
import { type ScreenText, TerminalScreen } from "../terminal/terminal-screen.js";
import {
  argsWithHooks,
  claudeStatusDir,
  HOOKS_DIR_ENV,
  installClaudeHooks,
} from "./claude-hooks.js";
import { readCheckpoint, type ScreenCheckpoint, writeCheckpoint } from "./screen-checkpoint.js";

/**
 * A session's program in its terminal, as its host holds it ({@link HostConnection}): what the
 * host said when the daemon connected, what it tells from then on, and what it is asked to do.
 */
export interface SessionPty {
  readonly pid: number;
  readonly welcome: Welcome;
  /** Starts hearing from the host: first what came with its welcome. */
  listen(listener: HostListener): void;
  /** Takes `data` whole, to be written in order; callers check {@link takesInput} first. */
  write(data: string | Buffer): void;
  resize(cols: number, rows: number): void;
  readonly pendingInput: number;
  readonly takesInput: boolean;
  waitForInputRoom(stop: AbortSignal): Promise<void>;
  /** Hang-up and SIGTERM, then SIGKILL after `graceMs` (at once if 0). */
  stop(graceMs: number, reason: StopReason): void;
  /** Asks the program to draw its screen again. */
  redraw(): void;
  /** The exit is recorded: the host may end. Resolves once it has (or has not in time). */
  release(): Promise<void>;
  /** Lets go of the host; the program runs on. */
  close(): void;
}

/** A reader of a log from a seq ({@link LogCursor}). */
export interface SessionLogReader {
  /** The next seq it returns. */
  readonly seq: number;
  /** How many of the records it was asked for log retention had dropped. */
  readonly dropped: number;
  /** The next records, or none once it has caught up with the log. */
  next(maxBytes: number): Promise<LogRecord[]>;
  close(): Promise<void>;
}

/** A session's output log ({@link SessionLog}); its host writes it while the program runs. */
export interface SessionOutputLog {
  readonly path: string;
  readonly lastSeq: number;
  /** Whether it can still grow (its session is running). */
  readonly isOpen: boolean;
  openForAppend(): void;
  appendEvent(data: string): unknown;
  /** Writes out and closes; readers see the end of the log. */
  close(): Promise<void>;
  startMirroring(writtenSeq: number): void;
  receive(record: LogRecord): void;
  confirmWritten(seq: number): void;
  stopMirroring(fileLastSeq: number): void;
  cursor(seq: number, onFileRead?: () => void): SessionLogReader;
  seqAtTime(time: Date): Promise<number>;
  /** The oldest seq its files hold (1 when nothing was dropped). */
  readonly firstKeptSeq: number;
  /** Its host dropped every record before `seq` (log retention). */
  dropBefore(seq: number): void;
  waitForNewerThan(seq: number, signal?: AbortSignal): Promise<void>;
}

/** A session's screen ({@link TerminalScreen}). */
export interface SessionScreen extends ScreenSource {
  write(data: Uint8Array): void;
  resize(cols: number, rows: number): void;
  capture(options: { escapes: boolean; scrollback: boolean }): Promise<ScreenText>;
  /** Resolves once everything written so far has been parsed. */
  settled(): Promise<void>;
  dispose(): void;
}

/** Builds a session's parts, and keeps what its host leaves in the run directory. */
export interface SessionParts {
  /**
   * Starts a program in a new host; resolves once it runs and the host has welcomed us. Claude
   * Code (`claudeCode`) is given the hooks that report its activity.
   */
  spawn(request: SessionSpawn): Promise<SessionPty>;
  /** Connects to the host of a session a daemon started earlier. */
  reconnect(sessionId: string): Promise<SessionPty>;
  /** The exit a host recorded when no daemon heard it, if any. */
  recordedExit(sessionId: string): ExitStatus | undefined;
  /** The last screen checkpoint of a session's run, if any. */
  checkpoint(sessionId: string): ScreenCheckpoint | undefined;
  saveCheckpoint(sessionId: string, checkpoint: ScreenCheckpoint): void;
  /** Removes what a host left in the run directory (its run is over and recorded). */
  forget(sessionId: string): void;
  log(path: string, lastSeq: number, options: SessionLogOptions): SessionOutputLog;
  screen(cols: number, rows: number): SessionScreen;
}

/** What a session asks of a new host. */
export type SessionSpawn = Omit<
  SpawnRequest,
  "socketPath" | "exitPath" | "key" | "hooksDir" | "claudeStatusDir"
> & { claudeCode: boolean };

/** The real parts: session hosts, the JSONL log file, a headless xterm. */
export function hostedSessionParts(paths: HomePaths, key: Buffer): SessionParts {
  let hooksInstalled = false;
  /** Claude Code's arguments and environment with its hooks, and where the host reads. */
  const withHooks = (request: SessionSpawn, files: HostPaths): SpawnRequest => {
    const { claudeCode, ...spawn } = request;
    const plain = { ...spawn, socketPath: files.socket, exitPath: files.exit, key };
    if (!claudeCode) return { ...plain, hooksDir: "", claudeStatusDir: "" };
    const statusDir = claudeStatusDir(spawn.env);
    let args: string[] | undefined;
    try {
      if (!hooksInstalled) installClaudeHooks(paths);
      hooksInstalled = true;
      args = argsWithHooks(spawn.args, spawn.workingDir, paths, files.settings);
    } catch {
      // No hooks (the run directory cannot be written): the status file still tells.
      args = undefined;
    }
    if (args === undefined) return { ...plain, hooksDir: "", claudeStatusDir: statusDir };
    return {
      ...plain,
      args,
      env: { ...spawn.env, [HOOKS_DIR_ENV]: files.hooks },
      hooksDir: files.hooks,
      claudeStatusDir: statusDir,
    };
  };
  return {
    spawn: async (request) => {
      const files = hostPaths(paths, request.sessionId);
      // What a previous run of this session left is no longer true; its host, if it has not
      // ended yet, keeps its socket open but no longer at this path.
      for (const path of [files.exit, files.screen, files.socket]) rmSync(path, { force: true });
      const host = await spawnHost(withHooks(request, files), files.errors);
      return connectHost(files.socket, key, host.ended);
    },
    reconnect: (sessionId) => connectHost(hostPaths(paths, sessionId).socket, key),
    recordedExit: (sessionId) => readExitRecord(hostPaths(paths, sessionId).exit),
    checkpoint: (sessionId) => readCheckpoint(hostPaths(paths, sessionId).screen),
    saveCheckpoint: (sessionId, checkpoint) =>
      writeCheckpoint(hostPaths(paths, sessionId).screen, checkpoint),
    forget: (sessionId) => {
      const files = hostPaths(paths, sessionId);
      for (const path of [files.exit, files.screen, files.socket, files.settings])
        rmSync(path, { force: true });
      rmSync(files.hooks, { recursive: true, force: true });
      removeIfEmpty(files.errors);
    },
    log: (path, lastSeq, options) => new SessionLog(path, lastSeq, options),
    screen: (cols, rows) => new TerminalScreen(cols, rows),
  };
}

/** A host's error file goes once its run is over, unless the host had something to say. */
function removeIfEmpty(path: string): void {
  try {
    if (statSync(path).size === 0) rmSync(path, { force: true });
  } catch {
    // Not there.
  }
}
