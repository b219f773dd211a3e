/** Stopping a session from a command other than `stop` (`restart`, `rm --force`). */
import { DEFAULT_GRACE_MS } from "../daemon/common/grace.js";
import type { Session } from "../gen/claude_sessions/v1/session_pb.js";
import type { DaemonConnection } from "./daemon-connection.js";
import { durationMessage } from "./durations.js";

/**
 * Stops `sessionId` with a grace of `graceMs` (the daemon's default when undefined), waiting as
 * long as the grace takes; an ended session comes back as it is.
 */
export async function stopSession(
  client: DaemonConnection,
  sessionId: string,
  graceMs: number | undefined,
): Promise<Session | undefined> {
  const { session } = await client.sessions.stopSession(
    {
      sessionId,
      ...(graceMs === undefined ? {} : { gracePeriod: durationMessage(graceMs) }),
    },
    { deadline: client.deadlineAfter(graceMs ?? DEFAULT_GRACE_MS) },
  );
  return session;
}
