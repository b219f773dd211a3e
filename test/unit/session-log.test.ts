/** A session's log: records reach the file in order, and closing and reopening it loses none. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { decodeRecord } from "../../daemon/log/log-record.js";
import { SessionLog } from "../../daemon/log/session-log.js";
import { type TempHome, tempHome } from "../helpers/temp-home.js";

function recordsIn(path: string): Array<{ seq: number; data: string }> {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => {
      const record = decodeRecord(line);
      assert.ok(record, `a record: ${line}`);
      return { seq: record.seq, data: record.data };
    });
}

describe("SessionLog", () => {
  let dir: TempHome;
  let path: string;

  beforeEach(() => {
    dir = tempHome("csl-");
    path = join(dir.path, "session.jsonl");
  });

  afterEach(() => dir.remove());

  it("reopened while its close waits for the last writes, it keeps writing to the same file", async () => {
    const log = new SessionLog(path, 0);
    log.openForAppend();
    log.appendEvent("failed to start");
    const closing = log.close();
    // A session that failed to start, resumed at once.
    log.openForAppend();
    await closing;
    assert.equal(log.isOpen, true, "the close was called off");
    log.appendEvent("resumed");
    log.appendOutput("still logged");
    await log.close();
    assert.equal(log.isOpen, false);
    assert.deepEqual(recordsIn(path), [
      { seq: 1, data: "failed to start" },
      { seq: 2, data: "resumed" },
      { seq: 3, data: "still logged" },
    ]);
  });

  it("closes once however many wait for it, and a close after a reopen still closes", async () => {
    const log = new SessionLog(path, 0);
    log.openForAppend();
    log.appendOutput("a");
    const first = log.close();
    log.openForAppend();
    const second = log.close();
    await Promise.all([first, second, log.close()]);
    assert.equal(log.isOpen, false);
    assert.deepEqual(recordsIn(path), [{ seq: 1, data: "a" }]);
  });

  it("reopened while its close syncs the file, the new file is closed by the next close", async () => {
    const log = new SessionLog(path, 0);
    log.openForAppend();
    log.appendOutput("a");
    const first = log.close();
    // Let the close get past its writes, to the sync.
    while (log.isOpen) await new Promise((resolve) => setImmediate(resolve));
    log.openForAppend();
    log.appendOutput("b");
    const second = log.close();
    assert.notEqual(second, first, "a close of its own");
    await Promise.all([first, second]);
    assert.equal(log.isOpen, false);
    assert.deepEqual(recordsIn(path), [
      { seq: 1, data: "a" },
      { seq: 2, data: "b" },
    ]);
  });

  it("output appended after a reopen is written even when a second close overtakes it", async () => {
    const log = new SessionLog(path, 0);
    log.openForAppend();
    log.appendEvent("first");
    const first = log.close();
    log.openForAppend();
    log.appendOutput("unsealed");
    const second = log.close();
    await Promise.all([first, second]);
    assert.equal(log.isOpen, false);
    assert.deepEqual(recordsIn(path), [
      { seq: 1, data: "first" },
      { seq: 2, data: "unsealed" },
    ]);
  });

  it("forgets a reader that stops waiting for newer records, and wakes those that wait", async () => {
    const log = new SessionLog(path, 0);
    log.openForAppend();
    for (let reader = 0; reader < 100; reader++) {
      const gone = new AbortController();
      const waiting = log.waitForNewerThan(0, gone.signal);
      gone.abort();
      await waiting;
    }
    assert.equal(log.waitingReaders, 0, "no waiter is kept for a reader that has gone");
    const waiting = log.waitForNewerThan(0);
    assert.equal(log.waitingReaders, 1);
    log.appendEvent("newer");
    await waiting;
    assert.equal(log.waitingReaders, 0);
    await log.close();
  });

  describe("as the mirror of a log a session host writes", () => {
    /** Reads every record a cursor gives from `seq` until it has caught up. */
    async function readAll(log: SessionLog, seq: number): Promise<number[]> {
      const cursor = log.cursor(seq);
      const seqs: number[] = [];
      for (let records = await cursor.next(1 << 20); records.length > 0; ) {
        seqs.push(...records.map((record) => record.seq));
        records = await cursor.next(1 << 20);
      }
      await cursor.close();
      return seqs;
    }

    it("a new run whose host wrote records before the mirror starts: read from the file, none skipped", async () => {
      // A first run this log wrote itself (records 1-3), then a host writes 4 and 5 to the file.
      const log = new SessionLog(path, 0);
      log.openForAppend();
      for (const data of ["one", "two", "three"]) log.appendEvent(data);
      await log.close();
      const host = new SessionLog(path, 3);
      host.openForAppend();
      host.appendEvent("resumed");
      host.appendOutput("four");
      host.sealOpen();
      await host.flush();
      // The mirror starts with records up to 5 in the file; 6 comes from the host.
      log.startMirroring(5);
      log.receive({ seq: 6, time: new Date().toISOString(), kind: "output", data: "six" });
      assert.deepEqual(await readAll(log, 1), [1, 2, 3, 4, 5, 6]);
      assert.deepEqual(await readAll(log, 4), [4, 5, 6]);
      assert.deepEqual(await readAll(log, 6), [6]);
      await host.close();
    });

    it("refuses a record that does not follow the last one", () => {
      const log = new SessionLog(path, 0);
      log.startMirroring(2);
      assert.throws(
        () => log.receive({ seq: 4, time: new Date().toISOString(), kind: "output", data: "x" }),
        /record 4 after 2/,
      );
    });

    it("records the host never wrote are written by the mirror once the host is gone", async () => {
      const log = new SessionLog(path, 0);
      log.startMirroring(0);
      for (const [seq, data] of [
        [1, "a"],
        [2, "b"],
      ] as const)
        log.receive({ seq, time: new Date().toISOString(), kind: "output", data });
      assert.equal(log.isOpen, true);
      log.stopMirroring(0);
      await log.close();
      assert.equal(log.isOpen, false);
      assert.deepEqual(recordsIn(path), [
        { seq: 1, data: "a" },
        { seq: 2, data: "b" },
      ]);
    });
  });
});
