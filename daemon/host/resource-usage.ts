/**
 * What a session's process tree uses, read from /proc (Linux): the program and every process
 * descended from it, found through `/proc/<pid>/task/<tid>/children` (the reads are as many as
 * the tree is large, not as the machine is busy), or, on a kernel without those files, through
 * one pass over every process's parent. Memory is the sum of each process's resident set
 * (VmRSS), as `ps` and pm2 count it: pages shared between processes count once per process,
 * which errs on the side of a limit acting early. CPU is the time the tree's processes ran
 * between two samples, per wall-clock time: 1000 per mille is one core busy.
 *
 * A process that left the tree (a double fork reparents it to init) is no longer counted.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { readStat } from "../terminal/process-tree.js";

/** Linux's USER_HZ, the unit of utime and stime in /proc/<pid>/stat, on every architecture. */
const CLOCK_TICKS_PER_SECOND = 100;

export interface TreeUsage {
  memoryBytes: number;
  /** CPU time per wall-clock time since the previous sample, in per mille; 0 on the first. */
  cpuPermille: number;
  processes: number;
}

/** Samples one tree again and again: CPU is what ran between two samples. */
export class TreeSampler {
  private previousTicks = new Map<number, number>();
  private previousAt = 0;
  private childrenFiles: boolean | undefined;

  /** `byParent` finds the tree as a kernel without children files makes it. */
  constructor(
    private readonly root: number,
    options: { byParent?: boolean } = {},
  ) {
    if (options.byParent) this.childrenFiles = false;
  }

  sample(now = Date.now()): TreeUsage {
    const pids = this.members();
    let memoryBytes = 0;
    let ranTicks = 0;
    let processes = 0;
    const ticks = new Map<number, number>();
    for (const pid of pids) {
      const facts = readStat(pid);
      if (facts === undefined || facts.state === "Z") continue;
      processes++;
      memoryBytes += residentBytes(pid);
      ticks.set(pid, facts.ticks);
      // A process first seen now started since the last sample (or this is the first): all of
      // its time is recent, except on the first sample, which has nothing to compare with.
      const before = this.previousTicks.get(pid) ?? 0;
      if (this.previousAt !== 0) ranTicks += Math.max(0, facts.ticks - before);
    }
    const elapsedMs = now - this.previousAt;
    const cpuPermille =
      this.previousAt === 0 || elapsedMs <= 0
        ? 0
        : Math.round((ranTicks / CLOCK_TICKS_PER_SECOND / (elapsedMs / 1000)) * 1000);
    this.previousTicks = ticks;
    this.previousAt = now;
    return { memoryBytes, cpuPermille, processes };
  }

  /** The root and its descendants, root first. */
  private members(): number[] {
    this.childrenFiles ??= haveChildrenFiles();
    if (!this.childrenFiles) return descendantsByParent(this.root);
    const found: number[] = [];
    const seen = new Set<number>();
    const pending = [this.root];
    for (let pid = pending.pop(); pid !== undefined; pid = pending.pop()) {
      if (seen.has(pid)) continue;
      seen.add(pid);
      found.push(pid);
      pending.push(...readChildren(pid));
    }
    return found;
  }
}

/** The children of every thread of `pid` (a thread that forks is the child's parent). */
function readChildren(pid: number): number[] {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const children: number[] = [];
  for (const tid of tasks) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8");
    } catch {
      continue;
    }
    for (const word of text.split(" ")) {
      const child = Number(word);
      if (word !== "" && Number.isInteger(child)) children.push(child);
    }
  }
  return children;
}

/** Whether the kernel has the children files (CONFIG_PROC_CHILDREN), as this process shows. */
function haveChildrenFiles(): boolean {
  return existsSync(`/proc/${process.pid}/task/${process.pid}/children`);
}

/** Descendants of `root` from every process's parent: one pass over /proc. */
function descendantsByParent(root: number): number[] {
  const children = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [root];
  }
  for (const entry of entries) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const facts = readStat(pid);
    if (facts === undefined) continue;
    const siblings = children.get(facts.ppid);
    if (siblings === undefined) children.set(facts.ppid, [pid]);
    else siblings.push(pid);
  }
  const found: number[] = [];
  const pending = [root];
  for (let pid = pending.pop(); pid !== undefined; pid = pending.pop()) {
    found.push(pid);
    pending.push(...(children.get(pid) ?? []));
  }
  return found;
}

/** VmRSS, in bytes; 0 for a process that has gone or has no memory of its own (a kernel one). */
function residentBytes(pid: number): number {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return 0;
  }
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(text);
  return match === null ? 0 : Number(match[1]) * 1024;
}
