/**
 * Slow clients: a follower and a read-only terminal stop reading while a session writes 20 MB,
 * five times the backlog a terminal client may hold. Nothing is lost for the follower, the
 * terminal gets a fresh screen and its exit, and the daemon's own counters show it never held
 * more for either than its design allows. What this costs the session's speed and the daemon's
 * RSS is measured by the `slow-clients` benchmark row, not asserted here.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LogEntryKind, SessionState } from "../../gen/claude_sessions/v1/session_pb.js";
import { useDaemon } from "../helpers/daemon-fixture.js";
import { readLog } from "../helpers/log-reader.js";
import { stallClients } from "../helpers/stalled-clients.js";
import { waitForState } from "../helpers/wait.js";

const BYTES = 20 * 1024 * 1024;
const DONE = "writer-done";
/**
 * A terminal read: node-pty reads its terminal through a libuv stream, which reads at most
 * 64 KiB at a time (the daemon's read of the last output at exit uses the same size).
 */
const MAX_TERMINAL_READ = 64 * 1024;

describe("slow clients", () => {
  const fixture = useDaemon();

  it("a stalled follower gets every entry, a stalled terminal a fresh screen; the daemon holds no more than its limits", async () => {
    const { client } = fixture.daemon;
    const { session } = await client.sessions.startSession({
      workingDir: fixture.work.path,
      command: [
        "bash",
        "-c",
        `read go; yes 'the quick brown fox jumps over the lazy dog 0123456789' | head -c ${BYTES}; echo; echo ${DONE}`,
      ],
      env: fixture.env,
    });
    assert.ok(session);
    const id = session.id;

    // Both stop reading before the session writes.
    const stalled = await stallClients(client, id);
    const { received, terminal } = stalled;
    try {
      await client.sessions.sendInput({ sessionId: id, input: { case: "text", value: "go\n" } });
      const final = await waitForState(client, id, SessionState.EXITED, 120_000);
      assert.equal(final.exitCode, 0);

      // Now both read. The follower gets every entry of the file, in order, all the bytes.
      stalled.resume();
      await stalled.followerEnded;
      const entries = received.flatMap((response) => response.entries);
      const file = readLog(final.logPath).records;
      assert.deepEqual(
        entries.map((entry) => Number(entry.seq)),
        file.map((record) => record.seq),
        "the follower got every entry once, in order",
      );
      const text = (kind: "output" | "event") =>
        entries
          .filter(
            (entry) =>
              entry.kind === (kind === "output" ? LogEntryKind.OUTPUT : LogEntryKind.EVENT),
          )
          .map((entry) => entry.data)
          .join("");
      const fileOutput = file
        .filter((record) => record.kind === "output")
        .map((record) => record.data)
        .join("");
      assert.ok(text("output") === fileOutput, "the follower's output is the log's, byte for byte");
      // The terminal turns each "\n" into "\r\n".
      assert.ok(fileOutput.length > BYTES, `the log holds all ${BYTES} bytes of output`);
      assert.ok(fileOutput.endsWith(`${DONE}\r\n`));
      assert.match(text("event"), /exited/);

      // The terminal is given a fresh screen instead of the output it could not take, then the
      // session's exit.
      const exit = await terminal.exited;
      assert.equal(exit?.message.case, "exit", "the terminal was told the session exited");
      assert.ok(terminal.screens >= 2, `a fresh screen after the first (${terminal.screens})`);
      assert.ok(terminal.text().includes(DONE), "the fresh screen shows the last output");

      const { counters } = await client.daemon.ping({});
      assert.ok(counters);
      const limit = Number(counters.terminalBacklogLimitBytes);
      assert.equal(limit, 4 * 1024 * 1024);
      assert.ok(BYTES > 4 * limit, "the session wrote several backlogs' worth");
      // A backlog is counted as each read is queued, before the check that drops it: the read
      // that takes it past the limit is held for that moment, and no other.
      const backlogPeak = Number(counters.terminalBacklogPeakBytes);
      assert.ok(
        backlogPeak > 0 && backlogPeak <= limit + MAX_TERMINAL_READ,
        `the terminal's backlog peaked at ${backlogPeak} bytes, limit ${limit}`,
      );
      assert.ok(counters.terminalResyncs >= 1n, "the stalled terminal was resynchronised");
      const heldPeak = Number(counters.followerHeldPeakBytes);
      const heldLimit = Number(counters.followerHeldLimitBytes);
      assert.ok(
        heldPeak > 0 && heldPeak <= heldLimit,
        `the follower's stream held at most ${heldPeak} bytes, limit ${heldLimit}`,
      );
      assert.ok(
        heldLimit < limit,
        "a follower costs less than a terminal's backlog: it is bounded by its stream",
      );
      assert.ok(
        counters.followerFileReads >= 1n,
        "the stalled follower caught up from the file, not from memory",
      );
    } finally {
      stalled.close();
    }
  });
});
