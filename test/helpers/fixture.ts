/**
 * The usual setting of an integration suite: a real daemon on its own temp home and a temp
 * working directory, both set up before the suite's tests and removed after them.
 */
import { after, before } from "node:test";
import type { DaemonClient } from "../../cli/client.js";
import type { Session, SessionState } from "../../gen/claude_sessions/v1/session_pb.js";
import { type DaemonHandle, withDaemon } from "./daemon-process.js";
import { type TempHome, tempDir } from "./temp-home.js";
import { waitFor } from "./wait.js";

export interface DaemonFixture {
  daemon: DaemonHandle & { cleanup(): Promise<void> };
  work: TempHome;
  /** The environment sessions get in these tests: just a PATH. */
  env: Record<string, string>;
}

/** Registers the suite's hooks; the returned object is filled in before the first test. */
export function useDaemon(): DaemonFixture {
  const fixture = {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
  } as unknown as DaemonFixture;
  before(async () => {
    fixture.daemon = await withDaemon();
    fixture.work = tempDir();
  });
  after(async () => {
    await fixture.daemon?.cleanup();
    fixture.work?.remove();
  });
  return fixture;
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
