/**
 * A log follower and a read-only terminal that stop reading, like clients whose process or
 * network stalls: their streams fill, and the daemon must neither wait for them nor buffer for
 * them.
 */
import type { DaemonClient } from "../../cli/client.js";
import type { AttachSessionResponse } from "../../gen/claude_sessions/v1/session_service_pb.js";
import { attachTerminalClient, type TerminalClient } from "./terminal-client.js";
import { waitFor } from "./wait.js";

export interface StalledClients {
  /** What the follower has been sent so far (nothing arrives while it is paused). */
  received: AttachSessionResponse[];
  /** Resolves when the follower's stream ends, rejects if it fails. */
  followerEnded: Promise<void>;
  terminal: TerminalClient;
  /** Both read again. */
  resume(): void;
  /** Cancels the follower and detaches the terminal. */
  close(): void;
}

/** Attaches both to `sessionId`, paused; resolves once the terminal is attached. */
export async function stallClients(
  client: DaemonClient,
  sessionId: string,
): Promise<StalledClients> {
  const follower = client.sessions.attachSession({ sessionId, follow: true });
  const received: AttachSessionResponse[] = [];
  follower.on("data", (response: AttachSessionResponse) => received.push(response));
  const followerEnded = new Promise<void>((resolve, reject) => {
    follower.on("end", resolve);
    follower.on("error", reject);
  });
  // Awaited by the caller; a cancel after a failed step must not be an unhandled rejection.
  followerEnded.catch(() => undefined);
  follower.pause();
  const terminal = attachTerminalClient(client, sessionId, { readOnly: true });
  terminal.pause();
  const close = () => {
    follower.cancel();
    terminal.detach();
  };
  try {
    await waitFor("the terminal to be attached", async () => {
      const { session } = await client.sessions.getSession({ sessionId });
      return session?.attachedClients === 1;
    });
  } catch (error) {
    close();
    throw error;
  }
  return {
    received,
    followerEnded,
    terminal,
    resume: () => {
      follower.resume();
      terminal.resume();
    },
    close,
  };
}
