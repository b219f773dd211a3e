/** WatchSessions: existing sessions first, then started, state changes, exits and removals. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SessionState } from "../../gen/claude_sessions/v1/session_pb.js";
import {
  SessionEventKind,
  type WatchSessionsResponse,
} from "../../gen/claude_sessions/v1/session_service_pb.js";
import { useDaemon } from "../helpers/daemon-fixture.js";
import { waitFor } from "../helpers/wait.js";

describe("watching sessions", () => {
  const fixture = useDaemon();

  it("reports existing sessions, then a session's start, exit and removal, in order", async () => {
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin" };
    const { session: existing } = await fixture.daemon.client.sessions.startSession({
      workingDir: fixture.work.path,
      command: ["sleep", "1000"],
      env,
      name: "existing",
    });
    assert.ok(existing);

    const events: WatchSessionsResponse[] = [];
    const stream = fixture.daemon.client.sessions.watchSessions({ includeExisting: true });
    stream.on("data", (event: WatchSessionsResponse) => events.push(event));
    stream.on("error", () => undefined);
    await waitFor("the existing session", () => events.length >= 1);
    assert.equal(events[0]?.kind, SessionEventKind.EXISTING);
    assert.equal(events[0]?.session?.id, existing.id);

    const { session } = await fixture.daemon.client.sessions.startSession({
      workingDir: fixture.work.path,
      command: ["bash", "-c", "exit 5"],
      env,
    });
    assert.ok(session);
    await waitFor("the exit", () => events.some((event) => event.kind === SessionEventKind.EXITED));
    await fixture.daemon.client.sessions.removeSession({ sessionId: session.id });
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
    await fixture.daemon.client.sessions.stopSession({
      sessionId: "existing",
      gracePeriod: { seconds: 1n },
    });
  });
});
