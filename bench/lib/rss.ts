/** A process's resident memory, from /proc (Linux). */
import { readFileSync } from "node:fs";
import { median } from "./stats.js";

/** The resident set size of `pid`, in MB (10^6 bytes). */
export function rssMB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = status.match(/^VmRSS:\s+(\d+)\s+kB$/m)?.[1];
  if (kib === undefined) throw new Error(`no VmRSS for pid ${pid}`);
  return (Number(kib) * 1024) / 1e6;
}

/** The median of `samples` readings, `intervalMs` apart: one reading can catch a passing peak. */
export async function settledRssMB(pid: number, samples = 5, intervalMs = 200): Promise<number> {
  const readings: number[] = [];
  for (let i = 0; i < samples; i++) {
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, intervalMs));
    readings.push(rssMB(pid));
  }
  return median(readings);
}

/** The highest RSS of `pid` seen, in MB, read every `intervalMs` until `stop()`. */
export function sampleRssPeak(pid: number, intervalMs = 100): { stop(): number } {
  let peak = rssMB(pid);
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rssMB(pid));
    } catch {
      // The process has ended: its peak is what was seen.
    }
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      peak = Math.max(peak, rssMB(pid));
      return peak;
    },
  };
}

/** A process's memory as its own and as its share, in MB (10^6 bytes). */
export interface PrivateMemory {
  /** Unique set size: Private_Clean + Private_Dirty, the pages no other process maps. */
  ussMB: number;
  /** Proportional set size: each page divided among the processes that map it. */
  pssMB: number;
}

/**
 * `pid`'s unique and proportional set sizes, from `/proc/<pid>/smaps_rollup` (Linux 4.14+).
 * Pages of a file another process maps too (the node binary, a shared library) are shared, not
 * private: what a process counts as its own depends on what else runs.
 */
export function privateMemory(pid: number): PrivateMemory {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const kib = (field: string) => {
    const value = rollup.match(new RegExp(`^${field}:\\s+(\\d+) kB$`, "m"))?.[1];
    if (value === undefined) throw new Error(`no ${field} in smaps_rollup of pid ${pid}`);
    return Number(value);
  };
  const mb = (kibibytes: number) => (kibibytes * 1024) / 1e6;
  return {
    ussMB: mb(kib("Private_Clean") + kib("Private_Dirty")),
    pssMB: mb(kib("Pss")),
  };
}
