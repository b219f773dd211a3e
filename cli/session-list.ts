/** Every session the daemon lists, however many pages they take. */
import type { Session, SessionState } from "../gen/claude_sessions/v1/session_pb.js";
import type { DaemonConnection } from "./daemon-connection.js";

/**
 * The sessions in one of `states` (any state when empty) whose labels match `labelSelector`
 * (any labels when empty), oldest first, every page of them.
 */
export async function listAllSessions(
  client: DaemonConnection,
  states: readonly SessionState[],
  labelSelector = "",
): Promise<Session[]> {
  const all: Session[] = [];
  let pageToken = "";
  do {
    const page = await client.sessions.listSessions({
      states: [...states],
      pageToken,
      labelSelector,
    });
    all.push(...page.sessions);
    pageToken = page.nextPageToken;
  } while (pageToken !== "");
  return all;
}
