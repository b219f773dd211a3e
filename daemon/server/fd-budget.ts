/**
 * The daemon's file descriptors, counted against its open-file limit (Linux /proc). Every
 * connection, running session (a pty and a log), log reader and state write takes one, and at
 * the limit each of them fails with EMFILE: so connections, the one thing anyone who can reach
 * the socket can open without end, stop short of the limit and leave a reserve to the rest, and
 * a new session stops short of the last few, which are the state file's.
 *
 * Holding a spare descriptor (one on /dev/null, released just before a state write) would not
 * do: the state file is opened on the thread pool while the event loop goes on accepting, so a
 * connection could take the released descriptor first.
 */
import { readdirSync, readFileSync } from "node:fs";

/** Descriptors no connection may take: for sessions, log readers and state writes. */
export const CONNECTION_RESERVE_FDS = 64;
/**
 * Descriptors a new session may not take (it needs two: its pty and its log), so that a state
 * write, and the log of a session that ends, always find one.
 */
export const SESSION_RESERVE_FDS = 16;
/** How often the connection budget counts the daemon's other descriptors again. */
const RECOUNT_MS = 1000;

/** The soft limit on open files (RLIMIT_NOFILE); Infinity if unlimited or unreadable. */
export function openFileLimit(): number {
  let text: string;
  try {
    text = readFileSync("/proc/self/limits", "utf8");
  } catch {
    return Number.POSITIVE_INFINITY;
  }
  const soft = /^Max open files\s+(\S+)/m.exec(text)?.[1];
  const limit = Number(soft);
  return Number.isFinite(limit) ? limit : Number.POSITIVE_INFINITY;
}

/** How many descriptors the daemon has open (0 if /proc cannot say). */
export function openFdCount(): number {
  try {
    // Less the one readdir itself holds on the directory.
    return readdirSync("/proc/self/fd").length - 1;
  } catch {
    return 0;
  }
}

/** Descriptors the daemon can still open before the limit. */
export function freeFds(): number {
  return openFileLimit() - openFdCount();
}

/**
 * Whether one more connection fits. The caller counts its connections exactly; the other
 * descriptors are counted at most once every {@link RECOUNT_MS}, since a count reads all of
 * /proc/self/fd and a flood of connections must not cost that each (the reserve covers what
 * sessions open in between).
 */
export class ConnectionBudget {
  private others = 0;
  private limit = Number.POSITIVE_INFINITY;
  private countedAt = Number.NEGATIVE_INFINITY;

  allows(connections: number): boolean {
    const now = performance.now();
    if (now - this.countedAt >= RECOUNT_MS) {
      this.countedAt = now;
      this.limit = openFileLimit();
      this.others = Math.max(0, openFdCount() - connections);
    }
    return connections + this.others < this.limit - CONNECTION_RESERVE_FDS;
  }
}
