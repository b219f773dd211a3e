/**
 * What the daemon knows and persists about a session. The program's environment is not part of
 * it: it may hold secrets, and nothing needs it once the program has started (a resume takes the
 * client's environment, or the daemon's own).
 */

export type SessionState = "starting" | "running" | "exited" | "stopped" | "failed" | "interrupted";

export interface SessionRecord {
  id: string;
  name: string;
  workingDir: string;
  /** The argv as first started (resuming derives its own from it). */
  command: string[];
  state: SessionState;
  /** The program's pid, which is also its process group and session id; 0 when not running. */
  pid: number;
  exitCode?: number;
  exitSignal?: string;
  createdAt: string;
  startedAt?: string;
  endedAt?: string;
  cols: number;
  rows: number;
  failureReason?: string;
  claudeCode: boolean;
  /** How many bytes of the session's output never reached its log (a full disk), in total. */
  logBytesLost?: number;
  /** What the log says about the latest loss (the event that marks it). */
  logLoss?: string;
}

export function isActive(state: SessionState): boolean {
  return state === "starting" || state === "running";
}
