/**
 * Reading a JSONL log without loading it: binary search by seq or time, forward reads in
 * batches, the last records from the end, and a torn last line (a crash mid-write) ignored.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import {
  lastSeqOf,
  readLastRecords,
  readRecords,
  searchOffset,
} from "../../daemon/log/log-file.js";
import { encodeRecord, type LogRecord } from "../../daemon/log/log-record.js";

const RECORDS = 3000;
/** The seq after which a crash left half a line, terminated by the next append. */
const GARBAGE_AFTER = 1234;
/** A record longer than the reader's 64 KiB chunk. */
const LONG_SEQ = 2000;
const TORN = '{"seq":3001,"time":"2026-01-01T00:00:00.000Z","kind":"out';

function recordAt(seq: number): LogRecord {
  const data =
    seq === LONG_SEQ
      ? "L".repeat(100_000)
      : `line ${seq} ${"x".repeat((seq * 37) % 300)}\u001b[0m ✓\r\n`;
  return {
    seq,
    time: new Date(Date.UTC(2026, 0, 1) + seq * 1000).toISOString(),
    kind: seq % 10 === 0 ? "event" : "output",
    data,
  };
}

describe("log file reading", () => {
  let dir: string;
  let path: string;
  let size: number;
  /** Byte offset of each record's line, by seq. */
  const offsets = new Map<number, number>();
  let file: FileHandle;

  before(async () => {
    dir = mkdtempSync("/tmp/csl-");
    path = `${dir}/log.jsonl`;
    const parts: Buffer[] = [];
    let offset = 0;
    for (let seq = 1; seq <= RECORDS; seq++) {
      const line = Buffer.from(encodeRecord(recordAt(seq)));
      offsets.set(seq, offset);
      parts.push(line);
      offset += line.length;
      if (seq === GARBAGE_AFTER) {
        const garbage = Buffer.from('{"seq":99999,"time":"2026-0\n');
        parts.push(garbage);
        offset += garbage.length;
      }
    }
    parts.push(Buffer.from(TORN));
    const content = Buffer.concat(parts);
    size = content.length;
    writeFileSync(path, content);
    file = await open(path, "r");
  });

  after(async () => {
    await file.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("the file is big enough for the search to bisect, not just scan", () => {
    assert.ok(size > 8 * 64 * 1024, `size ${size}`);
  });

  it("finds the line of a seq by binary search, also next to a long line and a torn one", async () => {
    const seqs = new Set([1, 2, RECORDS - 1, RECORDS]);
    for (let seq = 1; seq <= RECORDS; seq += 29) seqs.add(seq);
    for (const near of [GARBAGE_AFTER, LONG_SEQ])
      for (let seq = near - 2; seq <= near + 2; seq++) seqs.add(seq);
    for (const seq of seqs) {
      const offset = await searchOffset(file, size, (record) => record.seq >= seq);
      assert.equal(offset, offsets.get(seq), `seq ${seq}`);
    }
  });

  it("finds records by time the same way", async () => {
    for (const seq of [1, 2, 77, GARBAGE_AFTER, GARBAGE_AFTER + 1, LONG_SEQ, RECORDS]) {
      const time = recordAt(seq).time;
      const offset = await searchOffset(file, size, (record) => record.time >= time);
      assert.equal(offset, offsets.get(seq), `time of seq ${seq}`);
    }
  });

  it("past the last complete record, it lands where nothing complete follows", async () => {
    const offset = await searchOffset(file, size, (record) => record.seq > RECORDS);
    assert.ok(offset > (offsets.get(RECORDS) as number), `offset ${offset}`);
    const { records } = await readRecords(file, offset, 64 * 1024);
    assert.deepEqual(records, []);
  });

  it("reads forward in batches: every record once, in order, no torn tail", async () => {
    let offset = 0;
    let expected = 1;
    let batches = 0;
    for (;;) {
      const { records, next } = await readRecords(file, offset, 16 * 1024);
      if (records.length === 0) {
        assert.equal(next, offset, "no progress without records");
        break;
      }
      batches += 1;
      for (const record of records) {
        assert.deepEqual(record, recordAt(expected));
        expected += 1;
      }
      offset = next;
    }
    assert.equal(expected, RECORDS + 1);
    assert.ok(batches > 10, `${batches} batches`);
    assert.ok(offset < size && offset === size - Buffer.byteLength(TORN), "stops before the tear");
  });

  it("reads a line longer than its buffer whole", async () => {
    const { records, next } = await readRecords(file, offsets.get(LONG_SEQ) as number, 1024);
    assert.deepEqual(records, [recordAt(LONG_SEQ)]);
    assert.equal(next, offsets.get(LONG_SEQ + 1));
  });

  it("the last records come from the end of the file, ignoring the torn line", async () => {
    assert.deepEqual(await readLastRecords(path, 1), [recordAt(RECORDS)]);
    const last = await readLastRecords(path, 1100);
    assert.equal(last.length, 1100);
    assert.deepEqual(
      last.map((record) => record.seq),
      Array.from({ length: 1100 }, (_, i) => RECORDS - 1100 + 1 + i),
    );
    assert.equal(await lastSeqOf(path), RECORDS);
  });

  it("lastSeqOf is 0 for a missing file, an empty one, or one holding only a torn line", async () => {
    assert.equal(await lastSeqOf(`${dir}/missing.jsonl`), 0);
    writeFileSync(`${dir}/empty.jsonl`, "");
    assert.equal(await lastSeqOf(`${dir}/empty.jsonl`), 0);
    writeFileSync(`${dir}/torn.jsonl`, TORN);
    assert.equal(await lastSeqOf(`${dir}/torn.jsonl`), 0);
    assert.deepEqual(await readLastRecords(`${dir}/torn.jsonl`, 5), []);
  });

  it("a small file with a torn last line: search and reads agree", async () => {
    const small = `${dir}/small.jsonl`;
    const lines = [1, 2, 3].map((seq) => encodeRecord(recordAt(seq)));
    writeFileSync(small, `${lines.join("")}{"seq":4,"ti`);
    const handle = await open(small, "r");
    try {
      const { size: smallSize } = await handle.stat();
      assert.equal(
        await searchOffset(handle, smallSize, (record) => record.seq >= 3),
        Buffer.byteLength(`${lines[0]}${lines[1]}`),
      );
      const { records } = await readRecords(handle, 0, 1 << 20);
      assert.deepEqual(
        records.map((record) => record.seq),
        [1, 2, 3],
      );
      assert.equal(await lastSeqOf(small), 3);
    } finally {
      await handle.close();
    }
  });
});
