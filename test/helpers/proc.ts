/**
 * What the kernel says about processes, read straight from /proc (Linux), so tests check the
 * daemon's claims about its children with an independent reading.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

export interface ProcInfo {
  pid: number;
  /** One letter: R, S, D, Z (zombie), T... */
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
  command: string;
}

export function procInfo(pid: number): ProcInfo | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  const fields = text.slice(close + 2).split(" ");
  return {
    pid,
    state: fields[0] ?? "?",
    ppid: Number(fields[1]),
    pgrp: Number(fields[2]),
    session: Number(fields[3]),
    command: text.slice(open + 1, close),
  };
}

export function allProcesses(): ProcInfo[] {
  const found: ProcInfo[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const info = procInfo(Number(entry));
    if (info !== undefined) found.push(info);
  }
  return found;
}

/** Every process (zombies included) whose session or process group is `leader`. */
export function sessionProcesses(leader: number): ProcInfo[] {
  return allProcesses().filter((info) => info.session === leader || info.pgrp === leader);
}

/**
 * Processes of a session the daemon is still responsible for: live ones, and zombies it has not
 * reaped. A zombie whose parent is init (pid 1) was re-parented after its parent died; reaping it
 * is init's job (this sandbox's init does so only every couple of seconds).
 */
export function leftovers(leader: number): ProcInfo[] {
  return sessionProcesses(leader).filter((info) => info.state !== "Z" || info.ppid !== 1);
}

/** Whether `pid` is a process that still runs (a zombie has ended). */
export function isRunning(pid: number): boolean {
  const info = procInfo(pid);
  return info !== undefined && info.state !== "Z";
}

/** Zombie children of `parent`: exits it has not reaped. */
export function zombieChildren(parent: number): ProcInfo[] {
  return allProcesses().filter((info) => info.ppid === parent && info.state === "Z");
}

/** Children of `parent` that still run. */
export function liveChildren(parent: number): ProcInfo[] {
  return allProcesses().filter((info) => info.ppid === parent && info.state !== "Z");
}

/** How many file descriptors `pid` has open. */
export function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** What `pid`'s open file descriptors point at, for a readable failure message. */
export function fdTargets(pid: number): string[] {
  return readdirSync(`/proc/${pid}/fd`).map((fd) => {
    try {
      return `${fd} -> ${readlinkSync(`/proc/${pid}/fd/${fd}`)}`;
    } catch {
      return `${fd} -> (closed)`;
    }
  });
}

/** Whether `pid` was started with `NAME=value` in its environment (false if unreadable). */
function hasEnv(pid: number, entry: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes(entry);
  } catch {
    return false;
  }
}

/** Live processes whose command line (NUL-separated, as in /proc) `matches`. */
function processesWhose(matches: (cmdline: string, pid: number) => boolean): number[] {
  return allProcesses()
    .filter((info) => info.state !== "Z")
    .map((info) => info.pid)
    .filter((pid) => {
      try {
        return matches(readFileSync(`/proc/${pid}/cmdline`, "utf8"), pid);
      } catch {
        return false;
      }
    });
}

/** Daemon processes (any `daemon/main.js`) serving `home`, found by their environment. */
export function daemonsFor(home: string): number[] {
  return processesWhose(
    (cmdline, pid) =>
      cmdline.includes("daemon/main.js") && hasEnv(pid, `CLAUDE_SESSIONS_HOME=${home}`),
  );
}

/** Session hosts serving sessions of `home`, found by the socket path they are started with. */
export function hostsFor(home: string): number[] {
  return processesWhose(
    (cmdline) => cmdline.includes("session-host.cjs") && cmdline.includes(`${home}/run/`),
  );
}

/**
 * Live processes of session `id` wherever they went (a new session with setsid, re-parented by
 * a double fork): found by the `CLAUDE_SESSIONS_ID` every process of a session inherits.
 */
export function carryingSessionId(id: string): ProcInfo[] {
  return allProcesses().filter(
    (info) => info.state !== "Z" && hasEnv(info.pid, `CLAUDE_SESSIONS_ID=${id}`),
  );
}

/** Resident memory of `pid`, in bytes. */
export function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(match?.[1] ?? 0) * 1024;
}

/**
 * CPU time `pid` has used, user and system, in clock ticks (1/100 s: /proc's USER_HZ), from
 * fields 14 and 15 of its stat line.
 */
export function cpuTicks(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}
