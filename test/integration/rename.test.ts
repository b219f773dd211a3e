/**
 * RenameSession on a real daemon: the new name names the session at once, is checked as
 * StartSession checks a name, is in state.json before the call returns, and watchers hear of it.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import {
  SessionEventKind,
  type WatchSessionsResponse,
} from "../../gen/claude_sessions/v1/session_service_pb.js";
import { useDaemon } from "../helpers/daemon-fixture.js";
import { expectStatus } from "../helpers/rpc.js";
import { waitFor } from "../helpers/wait.js";

describe("RenameSession", () => {
  const fixture = useDaemon();

  it("renames, refuses bad and taken names, persists, and tells watchers", async () => {
    const { sessions } = fixture.daemon.client;
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin" };
    const start = async (name: string, command: string[]) => {
      const { session } = await sessions.startSession({
        workingDir: fixture.work.path,
        command,
        env,
        name,
      });
      assert.ok(session);
      return session;
    };
    const running = await start("before", ["cat"]);
    const ended = await start("other", ["true"]);

    const events: WatchSessionsResponse[] = [];
    const stream = sessions.watchSessions({});
    stream.on("data", (event: WatchSessionsResponse) => events.push(event));
    stream.on("error", () => undefined);

    const { session } = await sessions.renameSession({ sessionId: "before", name: "after" });
    assert.equal(session?.id, running.id);
    assert.equal(session?.name, "after");
    const saved = JSON.parse(readFileSync(join(fixture.daemon.home, "state.json"), "utf8"));
    const records = (Array.isArray(saved) ? saved : saved.sessions) as Array<{
      id: string;
      name: string;
    }>;
    assert.equal(records.find((record) => record.id === running.id)?.name, "after");
    assert.equal((await sessions.getSession({ sessionId: "after" })).session?.id, running.id);
    await expectStatus(sessions.getSession({ sessionId: "before" }), grpc.status.NOT_FOUND);
    await waitFor("the watchers' event", () =>
      events.some(
        (event) => event.kind === SessionEventKind.STATE_CHANGED && event.session?.name === "after",
      ),
    );

    // An ended session can be renamed too; a name in use, or one start refuses, cannot.
    const renamed = await sessions.renameSession({ sessionId: ended.id, name: "done" });
    assert.equal(renamed.session?.name, "done");
    await expectStatus(
      sessions.renameSession({ sessionId: "done", name: "after" }),
      grpc.status.ALREADY_EXISTS,
    );
    await expectStatus(
      sessions.renameSession({ sessionId: "done", name: "two words" }),
      grpc.status.INVALID_ARGUMENT,
    );
    await expectStatus(
      sessions.renameSession({ sessionId: "nothing-here", name: "x" }),
      grpc.status.NOT_FOUND,
    );
    // Its own name again is no change, and no error.
    assert.equal(
      (await sessions.renameSession({ sessionId: "done", name: "done" })).session?.name,
      "done",
    );

    stream.cancel();
    await sessions.stopSession({ sessionId: running.id, gracePeriod: { seconds: 1n } });
  });
});
