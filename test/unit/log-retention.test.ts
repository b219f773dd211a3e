/**
 * Log retention (SessionLog with maxBytes): the file is cut into whole segments, the oldest are
 * deleted past the limit, seq goes on, and a reader from a dropped position starts at the oldest
 * record kept, told how many were dropped, with every later record once and in order.
 */
import assert from "node:assert/strict";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { firstKeptOf, lastSeqOf, removeLog, segmentsDirOf } from "../../daemon/log/log-file.js";
import { type LogCursor, SessionLog } from "../../daemon/log/session-log.js";
import { assertContiguous, bytesOnDisk, firstKeptSeq, readLog } from "../helpers/log-reader.js";
import { type TempHome, tempHome } from "../helpers/temp-home.js";

const MAX = 256 * 1024;

async function drain(cursor: LogCursor): Promise<number[]> {
  const seqs: number[] = [];
  for (;;) {
    const records = await cursor.next(64 * 1024);
    if (records.length === 0) return seqs;
    for (const record of records) seqs.push(record.seq);
  }
}

describe("log retention", () => {
  let dir: TempHome;
  let path: string;

  beforeEach(() => {
    dir = tempHome("csr-");
    path = join(dir.path, "session.jsonl");
  });

  afterEach(() => dir.remove());

  it("keeps the files within about the limit, in whole segments, and says what it dropped", async () => {
    const dropped: number[] = [];
    const log = new SessionLog(path, 0, {
      maxBytes: MAX,
      ringBudget: 0,
      onDropped: (seq) => dropped.push(seq),
    });
    log.openForAppend();
    // 4 MiB in 1 KiB records: sixteen times the limit.
    for (let i = 0; i < 4096; i++) {
      log.appendEvent(`${String(i).padStart(6, "0")} ${"x".repeat(1000)}`);
      if (i % 256 === 255) await log.flush();
    }
    await log.close();
    assert.ok(bytesOnDisk(path) <= MAX * 1.3, `on disk: ${bytesOnDisk(path)} bytes`);
    assert.ok(dropped.length > 0, "segments were dropped");
    const firstKept = dropped.at(-1) as number;
    assert.equal(log.firstKeptSeq, firstKept);
    assert.equal(firstKeptOf(path), firstKept, "a next daemon finds the same from the files");
    assert.equal(firstKeptSeq(path), firstKept, "and an outside reader, from the names");
    assertContiguous(readLog(path).records, firstKept);
    assert.equal(await lastSeqOf(path), 4096, "seq goes on where it was");

    const cursor = log.cursor(1);
    const seqs = await drain(cursor);
    assert.equal(cursor.dropped, firstKept - 1);
    assert.equal(seqs[0], firstKept);
    assert.deepEqual(
      seqs,
      Array.from({ length: 4096 - firstKept + 1 }, (_, i) => firstKept + i),
      "every record kept, once, in order",
    );
  });

  it("a reader that follows while segments are cut and dropped misses nothing it was not told of", async () => {
    const log = new SessionLog(path, 0, { maxBytes: MAX, ringBudget: 0 });
    log.openForAppend();
    const cursor = log.cursor(1);
    const seen: number[] = [];
    for (let round = 0; round < 32; round++) {
      for (let i = 0; i < 64; i++) log.appendEvent(`${round}.${i} ${"y".repeat(1000)}`);
      await log.flush();
      // Every other round the reader takes only part of what is there.
      const records = await cursor.next(round % 2 === 0 ? 16 * 1024 : 1024 * 1024);
      for (const record of records) seen.push(record.seq);
    }
    await log.close();
    seen.push(...(await drain(cursor)));
    const total = 32 * 64;
    assert.equal(seen.length + cursor.dropped, total, "each record seen or counted as dropped");
    for (let i = 1; i < seen.length; i++)
      assert.ok((seen[i] as number) > (seen[i - 1] as number), "in order, none twice");
    assert.equal(seen.at(-1), total);
  });

  it("a log with no limit is never cut, and removing a log removes its segments", async () => {
    const log = new SessionLog(path, 0, { ringBudget: 0 });
    log.openForAppend();
    for (let i = 0; i < 600; i++) log.appendEvent("z".repeat(1000));
    await log.close();
    assert.equal(statSync(segmentsDirOf(path), { throwIfNoEntry: false }), undefined);
    assert.equal(firstKeptOf(path), 1);

    const cut = new SessionLog(join(dir.path, "cut.jsonl"), 0, { maxBytes: MAX });
    cut.openForAppend();
    for (let i = 0; i < 600; i++) cut.appendEvent("z".repeat(1000));
    await cut.close();
    assert.ok(readdirSync(segmentsDirOf(cut.path)).length > 0);
    await removeLog(cut.path);
    assert.equal(statSync(cut.path, { throwIfNoEntry: false }), undefined);
    assert.equal(statSync(segmentsDirOf(cut.path), { throwIfNoEntry: false }), undefined);
  });
});
