/**
 * AttachSession: replay then follow with no gap and no duplicate, resumable by seq, and slow
 * clients that neither slow the session nor lose anything.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { status } from "@grpc/grpc-js";
import type { DaemonClient } from "../../cli/client.js";
import { LogEntryKind, SessionState } from "../../gen/claude_sessions/v1/session_pb.js";
import type { AttachSessionResponse } from "../../gen/claude_sessions/v1/session_service_pb.js";
import { useDaemon } from "../helpers/daemon-fixture.js";
import { readLog } from "../helpers/log-reader.js";
import { waitFor, waitForState } from "../helpers/wait.js";

interface Collected {
  seqs: number[];
  output: string;
}

/** Follows from `fromSeq` until the stream ends (or `stopAfter` entries, then cancels). */
async function follow(
  client: DaemonClient,
  sessionId: string,
  fromSeq: number,
  collected: Collected,
  stopAfter?: number,
) {
  const stream = client.sessions.attachSession({
    sessionId,
    follow: true,
    start: { case: "fromSeq", value: BigInt(fromSeq) },
  });
  let seen = 0;
  try {
    for await (const response of stream as AsyncIterable<AttachSessionResponse>) {
      for (const entry of response.entries) {
        collected.seqs.push(Number(entry.seq));
        if (entry.kind === LogEntryKind.OUTPUT) collected.output += entry.data;
        seen += 1;
      }
      if (stopAfter !== undefined && seen >= stopAfter) {
        stream.cancel();
        return;
      }
    }
  } catch (error) {
    // CANCELLED is our own cancel above.
    if ((error as { code?: number }).code !== status.CANCELLED) throw error;
  }
}

function numbersIn(output: string): number[] {
  return output
    .split("\r\n")
    .filter((line) => /^\d+$/.test(line))
    .map(Number);
}

function assertEveryNumberOnce(numbers: number[], count: number, who: string) {
  assert.equal(numbers.length, count, `${who}: ${numbers.length} numbers`);
  for (let i = 0; i < count; i++) {
    if (numbers[i] !== i + 1)
      assert.fail(`${who}: position ${i} holds ${numbers[i]}, expected ${i + 1}`);
  }
}

describe("log following", () => {
  const fixture = useDaemon();

  it("a midway replay-then-follow and a reconnect at last+1 both get every line exactly once", async () => {
    // Long enough that the midway follower joins while the session still writes.
    const count = 1_000_000;
    const { session } = await fixture.daemon.client.sessions.startSession({
      workingDir: fixture.work.path,
      command: ["bash", "-c", `for ((i = 1; i <= ${count}; i++)); do echo $i; done`],
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    });
    assert.ok(session);
    // The second follower starts at once and drops its stream after a while.
    const reconnecting: Collected = { seqs: [], output: "" };
    await follow(fixture.daemon.client, session.id, 1, reconnecting, 5);
    // The first joins midway, replaying from the start.
    const joined = await waitFor("output midway", async () => {
      const current = (await fixture.daemon.client.sessions.getSession({ sessionId: session.id }))
        .session;
      return Number(current?.lastSeq ?? 0) > 20 ? current : undefined;
    });
    assert.equal(
      joined.state,
      SessionState.RUNNING,
      "the follower joins while the session still writes",
    );
    const midway: Collected = { seqs: [], output: "" };
    const midwayDone = follow(fixture.daemon.client, session.id, 1, midway);
    const last = reconnecting.seqs[reconnecting.seqs.length - 1] as number;
    await follow(fixture.daemon.client, session.id, last + 1, reconnecting);
    await midwayDone;

    const final = (await fixture.daemon.client.sessions.getSession({ sessionId: session.id }))
      .session;
    assert.equal(final?.state, SessionState.EXITED);
    const fileRecords = readLog(final?.logPath as string).records;
    const fileOutput = fileRecords
      .filter((record) => record.kind === "output")
      .map((record) => record.data)
      .join("");
    for (const [who, collected] of [
      ["midway", midway],
      ["reconnecting", reconnecting],
    ] as const) {
      assert.deepEqual(
        collected.seqs,
        fileRecords.map((record) => record.seq),
        `${who}: seqs match the file`,
      );
      assertEveryNumberOnce(numbersIn(collected.output), count, who);
      assert.equal(collected.output, fileOutput, `${who}: output matches the file`);
    }
    assertEveryNumberOnce(numbersIn(fileOutput), count, "file");
  });

  it("tail N and from_seq replay exactly those records; without follow the stream ends", async () => {
    const { session } = await fixture.daemon.client.sessions.startSession({
      workingDir: fixture.work.path,
      command: ["bash", "-c", "for i in 1 2 3 4 5; do echo line-$i; done"],
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    });
    assert.ok(session);
    const ended = await waitForState(fixture.daemon.client, session.id, SessionState.EXITED);
    const all = readLog(ended.logPath).records;
    const collect = async (start: { case: "tail" | "fromSeq"; value: bigint }) => {
      const seqs: number[] = [];
      for await (const response of fixture.daemon.client.sessions.attachSession({
        sessionId: session.id,
        start,
      }) as AsyncIterable<AttachSessionResponse>) {
        for (const entry of response.entries) seqs.push(Number(entry.seq));
      }
      return seqs;
    };
    assert.deepEqual(
      await collect({ case: "tail", value: 2n }),
      all.slice(-2).map((record) => record.seq),
    );
    assert.deepEqual(
      await collect({ case: "fromSeq", value: 2n }),
      all.slice(1).map((record) => record.seq),
    );
    assert.deepEqual(await collect({ case: "fromSeq", value: BigInt(all.length + 5) }), []);
  });

  it("a follow stream ends only once its session is seen to have ended", async () => {
    // The log's last sync runs in the thread pool after its last record is read: a follower
    // that ended then would hang up on a session still listed as running.
    const { sessions } = fixture.daemon.client;
    for (let round = 0; round < 20; round++) {
      const { session } = await sessions.startSession({
        workingDir: fixture.work.path,
        command: ["sh", "-c", `echo round-${round}`],
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
      });
      assert.ok(session);
      const collected: Collected = { seqs: [], output: "" };
      await follow(fixture.daemon.client, session.id, 1, collected);
      assert.match(collected.output, new RegExp(`round-${round}`));
      const { session: after } = await sessions.getSession({ sessionId: session.id });
      assert.equal(after?.state, SessionState.EXITED, `round ${round}: the stream ended first`);
    }
  });

  it("from a position log retention dropped: the first response says how many, and starts at the oldest kept", async () => {
    const { client } = fixture.daemon;
    const { session } = await client.sessions.startSession({
      workingDir: fixture.work.path,
      command: ["bash", "-c", "seq -f '%079g' 1 20000"],
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
      limits: { maxLogBytes: 64n * 1024n },
    });
    assert.ok(session);
    const ended = await waitForState(client, session.id, SessionState.EXITED);
    assert.ok(ended.logDroppedEntries > 0n, "nothing was dropped");
    const stream = client.sessions.attachSession({
      sessionId: session.id,
      start: { case: "fromSeq", value: 1n },
    });
    const responses: AttachSessionResponse[] = [];
    for await (const response of stream as AsyncIterable<AttachSessionResponse>)
      responses.push(response);
    assert.equal(responses[0]?.droppedEntries, ended.logDroppedEntries);
    const seqs = responses.flatMap((response) => response.entries.map((entry) => entry.seq));
    assert.equal(seqs[0], ended.logDroppedEntries + 1n);
    assert.equal(seqs.at(-1), ended.lastSeq);
    assert.equal(BigInt(seqs.length), ended.lastSeq - ended.logDroppedEntries, "a gap or a repeat");
    // Only the first response says so.
    assert.ok(responses.slice(1).every((response) => response.droppedEntries === 0n));
    // From a position still kept, nothing was dropped.
    const kept = client.sessions.attachSession({
      sessionId: session.id,
      start: { case: "fromSeq", value: ended.lastSeq },
    });
    for await (const response of kept as AsyncIterable<AttachSessionResponse>) {
      assert.equal(response.droppedEntries, 0n);
      break;
    }
  });
});
