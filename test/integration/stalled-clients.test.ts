/**
 * Clients whose processes are stopped (SIGSTOP) while sessions flood them, then killed or
 * continued: the daemon releases what it held for them when their call or connection goes or
 * their session ends, whichever comes first, and never delivers a later run's output to them.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SessionState } from "../../gen/claude_sessions/v1/session_pb.js";
import { useDaemon } from "../helpers/daemon-fixture.js";
import { type StoppedClients, stoppedClients } from "../helpers/stalled-clients.js";
import { attachTerminalClient } from "../helpers/terminal-client.js";
import { waitFor, waitForState } from "../helpers/wait.js";

/** More than a terminal client's backlog (4 MiB), so a stopped client falls behind for good. */
const FLOOD_BYTES = 6_000_000;

/**
 * Session changes made while a watcher is stopped. A change is an event of a few hundred bytes;
 * this many are several times what the stopped CLI's socket and HTTP/2 window (2 MiB) take.
 */
const RESIZES = 20_000;

/** One line of `watch --json`. */
interface WatchLine {
  event: string;
  session?: { id: string; cols: number };
  skipped_events?: number;
  sessions?: number;
}

describe("stalled clients", () => {
  const fixture = useDaemon();

  it("terminals stopped during a flood are released when the session ends; a resumed run never reaches them", async () => {
    const { client } = fixture.daemon;
    const attached = async (sessionId: string) =>
      (await client.sessions.getSession({ sessionId })).session?.attachedClients;
    // Each run counts itself in a file, so the output says which run wrote it.
    const script = `n=$(( $(cat "run-$CLAUDE_SESSIONS_ID" 2>/dev/null || echo 0) + 1 )); echo $n > "run-$CLAUDE_SESSIONS_ID"; read go; yes "flood of run $n" | head -c ${FLOOD_BYTES}; echo; echo "run-$n-done"`;
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const { session } = await client.sessions.startSession({
        workingDir: fixture.work.path,
        command: ["bash", "-c", script],
        env: fixture.env,
      });
      assert.ok(session);
      ids.push(session.id);
    }
    const groups: StoppedClients[] = [];
    try {
      for (const id of ids) {
        groups.push(
          await stoppedClients(
            fixture.daemon.home,
            ["attach", "--read-only", id],
            3,
            async () => (await attached(id)) === 3,
          ),
        );
      }
      for (const id of ids) {
        await client.sessions.sendInput({ sessionId: id, input: { case: "text", value: "go\n" } });
      }
      for (const id of ids) await waitForState(client, id, SessionState.EXITED, 30_000);

      // The session ended while its clients were stopped: none of them counts any more, and
      // killing two of each (their connections go) changes nothing.
      for (const id of ids) {
        await waitFor(`session ${id} to count no attached client`, async () => {
          return (await attached(id)) === 0;
        });
      }
      for (const group of groups) {
        process.kill(group.pids[0] as number, "SIGKILL");
        process.kill(group.pids[1] as number, "SIGKILL");
      }

      // A resumed run starts with no client of the previous one.
      for (const id of ids) {
        const { session } = await client.sessions.resumeSession({ sessionId: id });
        assert.equal(session?.state, SessionState.RUNNING);
        assert.equal(session?.attachedClients, 0, "the resumed session has no attachment");
      }
      const fresh = attachTerminalClient(client, ids[0] as string, { readOnly: true });
      await waitFor(
        "the new client to be attached",
        async () => (await attached(ids[0] as string)) === 1,
      );
      await client.sessions.sendInput({
        sessionId: ids[0] as string,
        input: { case: "text", value: "go\n" },
      });
      // The whole flood passes through the terminal first: on a loaded machine, longer than a
      // quick wait's 10 s (the first run's end is given 30 s above for the same reason).
      await fresh.waitForText("run-2-done", 30_000);

      // The client still stopped from the first run, continued, gets that run's last screen
      // and its end, and nothing of the second.
      for (const group of groups) {
        process.kill(group.pids[2] as number, "SIGCONT");
        assert.equal(await group.exited(2), 0, "the CLI exited with the first run's exit code");
        const output = group.output(2);
        assert.match(output, /run-1-done/);
        assert.match(output, /ended with exit code 0/);
        assert.doesNotMatch(output, /run 2/);
      }
      await fresh.exited;
      await waitForState(client, ids[0] as string, SessionState.EXITED);
      assert.equal(await attached(ids[0] as string), 0);
    } finally {
      for (const group of groups) await group.kill();
      for (const id of ids) {
        await client.sessions.stopSession({ sessionId: id, gracePeriod: { seconds: 1n } });
      }
    }
  });

  it("a watcher stopped during a storm of events is not queued for: it gets a resync, then the current list, then live events", async () => {
    const { client } = fixture.daemon;
    const { session } = await client.sessions.startSession({
      workingDir: fixture.work.path,
      command: ["sleep", "1000"],
      env: fixture.env,
    });
    assert.ok(session);
    const id = session.id;
    const events = (watcher: StoppedClients) =>
      watcher
        .output(0)
        .split("\n")
        // The last piece is a line still being written.
        .slice(0, -1)
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as WatchLine);
    const watcher = await stoppedClients(
      fixture.daemon.home,
      ["watch", "--existing", "--json"],
      1,
      (clients) => events(clients).some((event) => event.session?.id === id),
    );
    const terminal = attachTerminalClient(client, id);
    try {
      // Every resize is an event: far more than the stopped watcher's socket and window take.
      for (let i = 0; i < RESIZES; i++) terminal.resize(40 + (i % 2), 20);
      terminal.resize(123, 45);
      await waitFor(
        "the last resize",
        async () => (await client.sessions.getSession({ sessionId: id })).session?.cols === 123,
        30_000,
      );

      watcher.resume();
      const resynced = await waitFor("the watcher's resync and list", () => {
        const seen = events(watcher);
        const at = seen.findIndex((event) => event.event === "resync");
        return at >= 0 && seen.length > at + (seen[at]?.sessions ?? 0) ? { seen, at } : undefined;
      });
      const { seen, at } = resynced;
      const resync = seen[at] as WatchLine;
      assert.ok((resync.skipped_events ?? 0) > 0, "the resync says events were skipped");
      const { sessions } = await client.sessions.listSessions({});
      assert.equal(resync.sessions, sessions.length, "the resync says how many sessions follow");
      assert.ok(
        seen.length < RESIZES / 2,
        `the watcher was sent ${seen.length} events for ${RESIZES} changes: it was not queued for`,
      );
      const listed = seen.slice(at + 1, at + 1 + sessions.length);
      assert.ok(listed.every((event) => event.event === "existing"));
      const mine = listed.find((event) => event.session?.id === id);
      assert.equal(mine?.session?.cols, 123, "the list shows the session as it is now");

      // Live events again after the list.
      terminal.resize(100, 30);
      await waitFor("a live event after the resync", () =>
        events(watcher)
          .slice(at + 1 + sessions.length)
          .some((event) => event.event === "changed" && event.session?.cols === 100),
      );
    } finally {
      terminal.detach();
      await watcher.kill();
      await client.sessions.stopSession({ sessionId: id, gracePeriod: { seconds: 1n } });
    }
  });
});
