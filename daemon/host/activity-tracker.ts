/**
 * Gathers, in a session's host, the facts that tell what its program is doing, and reports the
 * activity they make whenever it changes (see ./activity.ts for how facts become an activity):
 *
 * - every program: the terminal's foreground process group (`tpgid` in /proc/<pid>/stat, as
 *   `ps` and tmux read it) and whether output flows;
 * - Claude Code: the events its hooks drop in the session's hooks directory (one file each,
 *   named `<epoch ns>.<pid>`, renamed into place whole), and its status file,
 *   `~/.claude/sessions/<pid>.json`.
 *
 * The host runs with no daemon as well, so what happens meanwhile (a /clear, a turn ending) is
 * known to the next daemon from its Welcome.
 */
import {
  closeSync,
  constants,
  type FSWatcher,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  watch,
} from "node:fs";
import { join } from "node:path";
import {
  type ActivityFact,
  claudeActivity,
  commName,
  hookActivity,
  isFlow,
  parseClaudeStatus,
  parseHookEvent,
  statusActivity,
  terminalActivity,
} from "./activity.js";
import {
  type ActivityReport,
  ActivitySource,
  type ActivityState,
  type Conversation,
} from "./host-wire.js";

/** How often /proc, the status file and the hooks directory are read. */
export const ACTIVITY_POLL_MS = 250;
/** The most of a hook's payload read: its start holds every field that tells activity. */
const HOOK_READ_BYTES = 256 * 1024;

export interface ActivityTrackerOptions {
  /** The program's pid: its process group and the terminal's session. */
  pid: number;
  /** The program started (the file and arguments exec'd): its name until it has exec'd. */
  command: readonly string[];
  /** Claude Code only: where its hooks drop events ("" for other programs). */
  hooksDir: string;
  /** Claude Code only: the directory of its status files. */
  claudeStatusDir: string;
  /** Told each change of the report. */
  onChange(report: ActivityReport): void;
}

export class ActivityTracker {
  private hook: ActivityFact | undefined;
  private status: ActivityFact | undefined;
  private statusStamp = "";
  private readonly conversations: Conversation[] = [];
  private foregroundPgid = 0;
  private foregroundCommand = "";
  private foregroundCommandLine = "";
  private lastInputAt = 0;
  private foregroundChangedAt = 0;
  /** The program has exec'd (it is no longer a copy of this host); read once, then known. */
  private execed = false;
  private lastFlowAt = 0;
  private state: ActivityState = 0;
  private since = Date.now();
  private reported = "";
  private report_: ActivityReport;
  private timer: NodeJS.Timeout | undefined;
  private watcher: FSWatcher | undefined;
  private stopped = false;

  constructor(private readonly options: ActivityTrackerOptions) {
    this.report_ = this.compute(Date.now());
  }

  /** Starts reading; the first report is ready at once. */
  start(): void {
    const { hooksDir } = this.options;
    if (hooksDir !== "") {
      mkdirSync(hooksDir, { recursive: true, mode: 0o700 });
      try {
        this.watcher = watch(hooksDir, () => this.readHooks() && this.update());
        this.watcher.on("error", () => undefined);
      } catch {
        // Polling alone, then.
      }
    }
    this.timer = setInterval(() => this.tick(), ACTIVITY_POLL_MS);
    this.timer.unref();
    this.tick();
  }

  /** Stops reading (the program has ended) and removes the hooks directory. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.watcher?.close();
    if (this.options.hooksDir !== "")
      rmSync(this.options.hooksDir, { recursive: true, force: true });
  }

  /** The activity as it is now. */
  get report(): ActivityReport {
    return this.report_;
  }

  /** Input was written to the terminal: output that follows at once is its echo. */
  input(now = Date.now()): void {
    this.lastInputAt = now;
  }

  /** Output was read from the terminal. */
  output(now = Date.now()): void {
    if (!isFlow(now, this.lastInputAt, this.foregroundChangedAt)) return;
    const flowing = this.lastFlowAt !== 0 && now - this.lastFlowAt < ACTIVITY_POLL_MS;
    this.lastFlowAt = now;
    // Only a start of flow can change the activity; the tick sees it stop.
    if (!flowing && !this.stopped) this.update(now);
  }

  private tick(): void {
    if (this.stopped) return;
    this.readForeground();
    this.readStatus();
    this.readHooks();
    this.update();
  }

  private update(now = Date.now()): void {
    const report = this.compute(now);
    const key = JSON.stringify([
      report.state,
      report.detail,
      report.foregroundCommand,
      report.source,
      report.conversations,
    ]);
    this.report_ = report;
    if (key === this.reported) return;
    this.reported = key;
    this.options.onChange(report);
  }

  private compute(now: number): ActivityReport {
    const claude = claudeActivity(this.hook, this.status);
    const { state, detail } =
      claude?.fact ??
      terminalActivity(
        {
          foregroundIsProgram:
            this.foregroundPgid === 0 || this.foregroundPgid === this.options.pid,
          foregroundCommandLine: this.foregroundCommandLine,
          lastFlowAt: this.lastFlowAt,
        },
        now,
      );
    if (state !== this.state) {
      this.state = state;
      this.since = now;
    }
    return {
      state,
      detail,
      since: new Date(this.since).toISOString(),
      foregroundCommand: this.foregroundCommand,
      source:
        claude === undefined
          ? ActivitySource.process
          : claude.from === "hook"
            ? ActivitySource.hook
            : ActivitySource.statusFile,
      conversations: [...this.conversations],
    };
  }

  /**
   * The terminal's foreground process group, and its leader's command, read each time: a
   * program that has just been forked is still its parent until it execs, and a program may exec
   * another.
   */
  private readForeground(): void {
    const { pid } = this.options;
    const stat = procStat(pid);
    if (stat === undefined) return;
    const pgid = stat.tpgid > 0 ? stat.tpgid : pid;
    // Forked but not yet exec'd, the program is still a copy of this host: it is named by what
    // it is about to exec, as the kernel will name it.
    if (!this.execed) {
      if (procText(pid, "cmdline") === hostCommandLine()) {
        if (this.foregroundPgid === 0) this.provisionalForeground();
        return;
      }
      this.execed = true;
    }
    const command = procText(pgid, "comm").trim();
    // A group whose leader has gone keeps the last name known.
    if (command === "" && pgid === this.foregroundPgid) return;
    if (pgid !== this.foregroundPgid) {
      // A command that ended and gave the terminal back: its output was its own, and what comes
      // next (the prompt) is no work either.
      this.lastFlowAt = 0;
      this.foregroundChangedAt = Date.now();
    } else if (command === this.foregroundCommand) return;
    this.foregroundPgid = pgid;
    this.foregroundCommand = command || procText(pid, "comm").trim();
    this.foregroundCommandLine = procText(pgid, "cmdline").replaceAll("\0", " ").trim();
  }

  /**
   * The program's own group in the foreground, named as the kernel names a process after exec:
   * the basename of the file, cut to 15 bytes.
   */
  private provisionalForeground(): void {
    const { command, pid } = this.options;
    this.foregroundPgid = pid;
    this.foregroundChangedAt = Date.now();
    this.foregroundCommand = commName(command[0] ?? "");
    this.foregroundCommandLine = command.join(" ");
  }

  /** Claude Code's status file, read again whenever it changes. */
  private readStatus(): void {
    const { claudeStatusDir, pid } = this.options;
    if (claudeStatusDir === "") return;
    const path = join(claudeStatusDir, `${pid}.json`);
    const stat = statSync(path, { throwIfNoEntry: false, bigint: true });
    if (stat === undefined) return;
    const stamp = `${stat.mtimeNs}:${stat.size}:${stat.ino}`;
    if (stamp === this.statusStamp) return;
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch {
      return;
    }
    const status = parseClaudeStatus(text);
    // Caught half-written: read again next time.
    if (status === undefined) return;
    this.statusStamp = stamp;
    if (status.sessionId !== "") this.enterConversation(status.sessionId, "");
    const activity = statusActivity(status);
    if (activity !== undefined) this.status = { ...activity, at: status.at };
  }

  /** Takes every hook event dropped since the last read, oldest first; true if any. */
  private readHooks(): boolean {
    const { hooksDir } = this.options;
    if (hooksDir === "" || this.stopped) return false;
    let names: string[];
    try {
      names = readdirSync(hooksDir).filter((name) => !name.startsWith("."));
    } catch {
      return false;
    }
    if (names.length === 0) return false;
    names.sort();
    for (const name of names) {
      const path = join(hooksDir, name);
      const text = readStart(path);
      rmSync(path, { force: true });
      if (text === undefined) continue;
      const event = parseHookEvent(text);
      if (event === undefined) continue;
      const nanos = /^(\d+)\./.exec(name)?.[1];
      const at = nanos !== undefined ? Number(BigInt(nanos) / 1_000_000n) : Date.now();
      if (event.name === "SessionStart" && event.sessionId !== "")
        this.enterConversation(event.sessionId, event.source);
      const activity = hookActivity(event);
      if (activity !== undefined) this.hook = { ...activity, at };
    }
    return true;
  }

  /** The conversation is now `id`; `source` says how it began, if known. */
  private enterConversation(id: string, source: string): void {
    const last = this.conversations.at(-1);
    if (last?.id === id) {
      if (last.source === "" && source !== "") last.source = source;
      return;
    }
    this.conversations.push({ id, source });
  }
}

/** The fields of /proc/<pid>/stat the tracker needs, or undefined if the process is gone. */
function procStat(pid: number): { tpgid: number } | undefined {
  const text = procText(pid, "stat");
  const close = text.lastIndexOf(")");
  if (close < 0) return undefined;
  // After "pid (comm) ": state ppid pgrp session tty_nr tpgid ...
  const fields = text.slice(close + 2).split(" ");
  return { tpgid: Number(fields[5]) };
}

let ownCommandLine: string | undefined;

/** This process's own command line, as /proc has it. */
function hostCommandLine(): string {
  ownCommandLine ??= procText(process.pid, "cmdline");
  return ownCommandLine;
}

function procText(pid: number, file: string): string {
  try {
    return readFileSync(`/proc/${pid}/${file}`, "utf8");
  } catch {
    return "";
  }
}

/**
 * The start of a hook's event file, if it is a regular file: a link or a FIFO put in the
 * private directory is not read.
 */
function readStart(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    if (!fstatSync(fd).isFile()) return undefined;
    const buffer = Buffer.alloc(HOOK_READ_BYTES);
    let length = 0;
    for (;;) {
      const read = readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
      if (length === buffer.length) break;
    }
    return buffer.toString("utf8", 0, length);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}
