/** Waiting for a condition that a real process will make true. */
import type { DaemonClient } from "../../cli/client.js";
import type { Session, SessionState } from "../../gen/claude_sessions/v1/session_pb.js";

export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 10_000,
  intervalMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits until the session is in `state`; resolves with it. */
export function waitForState(
  client: DaemonClient,
  sessionId: string,
  state: SessionState,
  timeoutMs = 10_000,
): Promise<Session> {
  return waitFor(
    `session ${sessionId} to be in state ${state}`,
    async () => {
      const { session } = await client.sessions.getSession({ sessionId });
      return session?.state === state ? session : undefined;
    },
    timeoutMs,
    25,
  );
}
