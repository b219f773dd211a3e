/**
 * Finding and signalling every process of a session through /proc (Linux). Signalling the
 * process group is not enough: an interactive shell puts background jobs in groups of their own,
 * but they stay in the terminal's session; and the terminal's session is not enough either:
 * `setsid` and double-forked daemons leave it. Every process of a session inherits its id in the
 * environment, so that finds them wherever they went.
 *
 * A cgroup per session would also catch a process that clears its environment (`env -i`), but
 * it is not used: the daemon runs as an ordinary user, who may not create cgroups. Under systemd
 * a login's processes sit in a session scope that is not delegated to the user; cgroup v1
 * hierarchies, and the v2 one of hybrid set-ups (`/sys/fs/cgroup/unified`), are writable by root
 * only. Putting the program into a cgroup before it can fork would also need a step between fork
 * and exec, which node-pty does not offer, or a wrapper exec'd in its place. The environment is
 * what every user can read for their own processes (and only for those, which are all the daemon
 * may signal anyway).
 */
import { readdirSync, readFileSync } from "node:fs";

export interface ProcStat {
  pid: number;
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
  /** The foreground process group of its controlling terminal, or -1 without one. */
  tpgid: number;
  /** The CPU time it has used (utime + stime), in clock ticks. */
  ticks: number;
}

/** A process's /proc/<pid>/stat, or undefined if it has gone (or was never there). */
export function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name is in parentheses and may itself contain spaces and parentheses.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return {
    pid,
    state: fields[0] ?? "?",
    ppid: Number(fields[1]),
    pgrp: Number(fields[2]),
    session: Number(fields[3]),
    tpgid: Number(fields[5]),
    ticks: Number(fields[11]) + Number(fields[12]),
  };
}

function allPids(): number[] {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const entry of entries) {
    const pid = Number(entry);
    if (Number.isInteger(pid) && pid > 0) pids.push(pid);
  }
  return pids;
}

/**
 * Whether `pid` still runs. A zombie has ended: it only waits for its parent to reap it, which
 * for an orphan is init, and init may take its time (some container inits reap only every few
 * seconds), so `kill(pid, 0)` would call it alive.
 */
export function isLive(pid: number): boolean {
  const stat = readStat(pid);
  return stat !== undefined && stat.state !== "Z";
}

/**
 * The variable every process of a session inherits from its program, naming the session. A
 * process that leaves the terminal's session (setsid, a double-forked daemon) still carries it.
 */
export const SESSION_ID_ENV = "CLAUDE_SESSIONS_ID";

const SESSION_ID_PREFIX = Buffer.from(`${SESSION_ID_ENV}=`);

/**
 * The session `pid` belongs to, from {@link SESSION_ID_ENV} in its initial environment
 * (/proc/<pid>/environ). Undefined if it has none or we may not read it (another user's).
 */
export function sessionIdOf(pid: number): string | undefined {
  let environ: Buffer;
  try {
    environ = readFileSync(`/proc/${pid}/environ`);
  } catch {
    return undefined;
  }
  for (
    let at = environ.indexOf(SESSION_ID_PREFIX);
    at >= 0;
    at = environ.indexOf(SESSION_ID_PREFIX, at + 1)
  ) {
    if (at > 0 && environ[at - 1] !== 0) continue;
    const start = at + SESSION_ID_PREFIX.length;
    const end = environ.indexOf(0, start);
    return environ.toString("utf8", start, end < 0 ? environ.length : end);
  }
  return undefined;
}

/**
 * Live (non-zombie) processes of session `id`: those whose terminal session or process group is
 * `leader` (its program, which the caller knows to be its own), and those anywhere that carry
 * {@link SESSION_ID_ENV}=`id`, which escaped with setsid or a double fork. A pid reused by a
 * stranger never carries the id, so it is never signalled. One pass over /proc: a few hundred
 * small reads, done on a stop or an exit, never on a timer.
 */
export function sessionMembers(leader: number, id: string): number[] {
  const members: number[] = [];
  for (const pid of allPids()) {
    if (pid === process.pid) continue;
    const stat = readStat(pid);
    if (stat === undefined || stat.state === "Z") continue;
    const inTerminal = leader > 1 && (stat.session === leader || stat.pgrp === leader);
    if (inTerminal || sessionIdOf(pid) === id) members.push(pid);
  }
  return members;
}

/**
 * For each of `ids`, its live processes found by {@link SESSION_ID_ENV} alone (one pass over
 * /proc): after a crash the recorded pids may have been reused, so only the id identifies ours.
 */
export function processesOfSessions(ids: ReadonlySet<string>): Map<string, number[]> {
  const found = new Map<string, number[]>();
  if (ids.size === 0) return found;
  for (const pid of allPids()) {
    if (pid === process.pid) continue;
    const id = sessionIdOf(pid);
    if (id === undefined || !ids.has(id) || !isLive(pid)) continue;
    found.set(id, [...(found.get(id) ?? []), pid]);
  }
  return found;
}

/**
 * Hangs up the terminal `leader` controls, as the kernel does when a terminal is closed (or
 * `tmux kill-session` closes it): SIGHUP, then SIGCONT so that a stopped process gets it, to
 * the controlling process and to the terminal's foreground process group. An interactive shell
 * ignores SIGTERM but ends on SIGHUP, and passes it on to its jobs.
 */
export function hangUpTerminal(leader: number): void {
  if (leader <= 1) return;
  const foreground = readStat(leader)?.tpgid ?? -1;
  for (const signal of ["SIGHUP", "SIGCONT"] as const) {
    signalEach([leader], signal);
    if (foreground > 1) {
      try {
        process.kill(-foreground, signal);
      } catch {
        // The group is already gone.
      }
    }
  }
}

/**
 * Sends `signal` to the process group `leader` and to every process in `members` (as just
 * found by {@link sessionMembers}).
 */
export function signalSession(
  leader: number,
  signal: NodeJS.Signals,
  members: readonly number[],
): void {
  if (leader > 1) {
    try {
      process.kill(-leader, signal);
    } catch {
      // The group is already gone; members in other groups may remain.
    }
  }
  signalEach(members, signal);
}

/** Sends `signal` to each of `pids` that still exists. */
export function signalEach(pids: readonly number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    if (pid === process.pid) continue;
    try {
      process.kill(pid, signal);
    } catch {
      // Exited in the meantime.
    }
  }
}
