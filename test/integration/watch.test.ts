/** WatchSessions: existing sessions first, then started, state changes, exits and removals. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { SessionState } from "../../gen/claude_sessions/v1/session_pb.js";
import {
  SessionEventKind,
  type WatchSessionsResponse,
} from "../../gen/claude_sessions/v1/session_service_pb.js";
import { type DaemonHandle, withDaemon } from "../helpers/daemon-process.js";
import { type TempHome, tempDir } from "../helpers/temp-home.js";
import { waitFor } from "../helpers/wait.js";

describe("watching sessions", () => {
  let daemon: DaemonHandle & { cleanup(): Promise<void> };
  let work: TempHome;

  before(async () => {
    daemon = await withDaemon();
    work = tempDir();
  });

  after(async () => {
    await daemon.cleanup();
    work.remove();
  });

  it("reports existing sessions, then a session's start, exit and removal, in order", async () => {
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin" };
    const { session: existing } = await daemon.client.sessions.startSession({
      workingDir: work.path,
      command: ["sleep", "1000"],
      env,
      name: "existing",
    });
    assert.ok(existing);

    const events: WatchSessionsResponse[] = [];
    const stream = daemon.client.sessions.watchSessions({ includeExisting: true });
    stream.on("data", (event: WatchSessionsResponse) => events.push(event));
    stream.on("error", () => undefined);
    await waitFor("the existing session", () => events.length >= 1);
    assert.equal(events[0]?.kind, SessionEventKind.EXISTING);
    assert.equal(events[0]?.session?.id, existing.id);

    const { session } = await daemon.client.sessions.startSession({
      workingDir: work.path,
      command: ["bash", "-c", "exit 5"],
      env,
    });
    assert.ok(session);
    await waitFor("the exit", () => events.some((event) => event.kind === SessionEventKind.EXITED));
    await daemon.client.sessions.removeSession({ sessionId: session.id });
    await waitFor("the removal", () =>
      events.some((event) => event.kind === SessionEventKind.REMOVED),
    );

    const mine = events.filter((event) => event.session?.id === session.id);
    const kinds = mine.map((event) => event.kind);
    assert.equal(kinds[0], SessionEventKind.STARTED);
    assert.equal(kinds[kinds.length - 1], SessionEventKind.REMOVED);
    const exited = mine.find((event) => event.kind === SessionEventKind.EXITED);
    assert.equal(exited?.session?.state, SessionState.EXITED);
    assert.equal(exited?.session?.exitCode, 5);
    assert.ok(kinds.indexOf(SessionEventKind.EXITED) < kinds.indexOf(SessionEventKind.REMOVED));
    stream.cancel();
    await daemon.client.sessions.stopSession({
      sessionId: "existing",
      gracePeriod: { seconds: 1n },
    });
  });
});
