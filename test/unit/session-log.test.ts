/** A session's log: records reach the file in order, and closing and reopening it loses none. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { decodeRecord } from "../../daemon/log-record.js";
import { SessionLog } from "../../daemon/session-log.js";
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
});
