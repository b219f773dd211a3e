/**
 * Finding and signalling every process of a session through /proc (Linux). Signalling the
 * process group is not enough: an interactive shell puts background jobs in groups of their own,
 * but they stay in the terminal's session.
 */
import { readdirSync, readFileSync } from "node:fs";

interface ProcStat {
  pid: number;
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
}

function readStat(pid: number): ProcStat | undefined {
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

/** Live (non-zombie) processes whose session or process group is `leader`. */
export function sessionMembers(leader: number): number[] {
  if (leader <= 1) return [];
  const members: number[] = [];
  for (const pid of allPids()) {
    const stat = readStat(pid);
    if (stat === undefined || stat.state === "Z") continue;
    if (stat.session === leader || stat.pgrp === leader) members.push(pid);
  }
  return members;
}

/**
 * Sends `signal` to the process group `leader` and to every member of its session (`members`,
 * when the caller has just looked them up: each look-up reads all of /proc).
 */
export function signalSession(
  leader: number,
  signal: NodeJS.Signals,
  members: readonly number[] = sessionMembers(leader),
): void {
  if (leader <= 1) return;
  try {
    process.kill(-leader, signal);
  } catch {
    // The group is already gone; members in other groups may remain.
  }
  for (const pid of members) {
    if (pid === process.pid) continue;
    try {
      process.kill(pid, signal);
    } catch {
      // Exited in the meantime.
    }
  }
}

/** Whether `pid` carries `NAME=value` in its initial environment. */
export function processHasEnv(pid: number, name: string, value: string): boolean {
  try {
    const environ = readFileSync(`/proc/${pid}/environ`, "utf8");
    return environ.split("\0").includes(`${name}=${value}`);
  } catch {
    return false;
  }
}
