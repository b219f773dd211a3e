/**
 * Many clients at once: 50 concurrent starts, then 50 concurrent stops, all succeed; afterwards
 * no session process is left, the daemon has reaped every child, and its open file descriptors
 * are back to where they were.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { SessionState } from "../../gen/claude_sessions/v1/session_pb.js";
import { type DaemonHandle, useDaemon } from "../helpers/daemon-fixture.js";
import { outputText, readLog } from "../helpers/log-reader.js";
import {
  fdTargets,
  isRunning,
  leftovers,
  liveChildren,
  openFds,
  zombieChildren,
} from "../helpers/proc.js";
import type { TempHome } from "../helpers/temp-home.js";
import { waitFor } from "../helpers/wait.js";

const COUNT = 50;

describe("50 sessions at once", () => {
  const fixture = useDaemon();
  let daemon: DaemonHandle;
  let work: TempHome;

  before(async () => {
    daemon = fixture.daemon;
    work = fixture.work;
  });

  it("50 concurrent StartSession then 50 concurrent StopSession: no process, zombie or fd left", async () => {
    const { sessions } = daemon.client;
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: work.path };
    const fdsBefore = openFds(daemon.pid);
    const targetsBefore = fdTargets(daemon.pid);

    const started = await Promise.all(
      Array.from({ length: COUNT }, (_, index) =>
        sessions.startSession({
          workingDir: work.path,
          command: ["sh", "-c", `echo started-${index}; exec cat`],
          env,
          name: `s${index}`,
        }),
      ),
    );
    const ids = new Set(started.map(({ session }) => session?.id));
    assert.equal(ids.size, COUNT, "every start made its own session");
    const leaders = started.map(({ session }) => {
      assert.equal(SessionState[session?.state ?? 0], "RUNNING");
      return session?.pid as number;
    });
    // One host per session, the daemon's child; each program is its host's child.
    const hosts = liveChildren(daemon.pid);
    assert.equal(hosts.length, COUNT, "one host per session");
    for (const { session } of started) {
      assert.ok(
        session && hosts.some((host) => host.pid === session.hostPid),
        "the session's host",
      );
      assert.deepEqual(
        liveChildren(session.hostPid).map((child) => child.pid),
        [session.pid],
        "the program is its host's one child",
      );
    }
    // Each program's output lands in its own session's log, and only there.
    await waitFor("every session's output in its log", () =>
      started.every(({ session }, index) => {
        const text = outputText(readLog(session?.logPath as string).records);
        return text.includes(`started-${index}\r\n`) && text.split("started-").length === 2;
      }),
    );
    assert.ok(
      openFds(daemon.pid) >= fdsBefore + COUNT,
      "each session holds a connection to its host",
    );

    const stopped = await Promise.all(
      [...ids].map((sessionId) =>
        sessions.stopSession({ sessionId: sessionId as string, gracePeriod: { seconds: 2n } }),
      ),
    );
    for (const { session } of stopped) {
      assert.equal(SessionState[session?.state ?? 0], "STOPPED");
      assert.equal(session?.exitSignal, "SIGHUP", "ended by the hang-up, the first a stop sends");
    }
    for (const leader of leaders) {
      assert.ok(!isRunning(leader), `session process ${leader} still runs`);
      assert.deepEqual(leftovers(leader), [], `session ${leader}`);
    }
    assert.deepEqual(liveChildren(daemon.pid), []);
    assert.deepEqual(zombieChildren(daemon.pid), []);

    // Host connections close as each program exits. The only descriptor allowed to be
    // open a moment longer is the state file being rewritten after the last change.
    await waitFor(
      "the daemon's fds to return to their count before",
      () => (openFds(daemon.pid) <= fdsBefore ? true : undefined),
      3000,
    ).catch(() => {
      assert.fail(
        `${openFds(daemon.pid)} fds open after, ${fdsBefore} before:\nbefore: ${targetsBefore.join(", ")}\nafter: ${fdTargets(daemon.pid).join(", ")}`,
      );
    });
    assert.equal((await daemon.client.daemon.ping({})).runningCount, 0);
  });

  it("10 concurrent starts with one name: exactly one wins, the others are ALREADY_EXISTS", async () => {
    const { sessions } = daemon.client;
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () =>
        sessions.startSession({ workingDir: work.path, command: ["cat"], name: "contested" }),
      ),
    );
    const won = results.filter((result) => result.status === "fulfilled");
    assert.equal(won.length, 1);
    for (const result of results) {
      if (result.status === "rejected") {
        assert.equal((result.reason as grpc.ServiceError).code, grpc.status.ALREADY_EXISTS);
      }
    }
    const winner = won[0]?.status === "fulfilled" ? won[0].value.session : undefined;
    assert.ok(winner);
    const listed = (await sessions.listSessions({ name: "contested" })).sessions;
    assert.deepEqual(
      listed.map((session) => session.id),
      [winner.id],
    );
    await sessions.stopSession({ sessionId: "contested", gracePeriod: { seconds: 2n } });
  });
});
