/** The log record codec: one JSON object per line, fields in a fixed order, torn lines ignored. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeRecord, encodeRecord, type LogRecord } from "../../daemon/log/log-record.js";

const time = "2026-01-02T03:04:05.678Z";

describe("log record codec", () => {
  it("encodes one line, newline-terminated, with seq, time, kind, data in that order", () => {
    const line = encodeRecord({ seq: 7, time, kind: "output", data: "hi" });
    assert.equal(line, `{"seq":7,"time":"${time}","kind":"output","data":"hi"}\n`);
  });

  it("round-trips terminal output exactly: escapes, control bytes, newlines, quotes, non-ASCII", () => {
    const samples = [
      "",
      "plain",
      "line one\r\nline two\n",
      '\u001b[1;31mred\u001b[0m \u001b]0;title\u0007 "quoted" \\back\\slash',
      "\u0000\u0001\u001f\u007f",
      "héllo wörld ✓ 日本語 🎉",
      "\u2028\u2029 separators",
    ];
    for (const data of samples) {
      for (const kind of ["output", "event"] as const) {
        const record: LogRecord = { seq: 123456, time, kind, data };
        const line = encodeRecord(record);
        assert.equal(line.indexOf("\n"), line.length - 1, `one line for ${JSON.stringify(data)}`);
        assert.deepEqual(decodeRecord(line.slice(0, -1)), record);
        // Any JSON reader gets the same record.
        assert.deepEqual(JSON.parse(line), record);
      }
    }
  });

  it("rejects torn, empty and foreign lines", () => {
    const full = encodeRecord({ seq: 3, time, kind: "output", data: "abcdef" }).slice(0, -1);
    for (let cut = 0; cut < full.length; cut++) {
      assert.equal(decodeRecord(full.slice(0, cut)), undefined, `cut at ${cut}`);
    }
    const foreign = [
      "null",
      "42",
      '"text"',
      "[]",
      "{}",
      `{"seq":0,"time":"${time}","kind":"output","data":""}`,
      `{"seq":-1,"time":"${time}","kind":"output","data":""}`,
      `{"seq":1.5,"time":"${time}","kind":"output","data":""}`,
      `{"seq":"1","time":"${time}","kind":"output","data":""}`,
      `{"seq":9007199254740993,"time":"${time}","kind":"output","data":""}`,
      `{"seq":1,"time":5,"kind":"output","data":""}`,
      `{"seq":1,"time":"${time}","kind":"input","data":""}`,
      `{"seq":1,"time":"${time}","kind":"output"}`,
      `{"seq":1,"time":"${time}","kind":"output","data":7}`,
    ];
    for (const line of foreign) assert.equal(decodeRecord(line), undefined, line);
  });

  it("ignores extra fields a later version may add", () => {
    assert.deepEqual(
      decodeRecord(`{"seq":2,"time":"${time}","kind":"event","data":"x","extra":true}`),
      { seq: 2, time, kind: "event", data: "x" },
    );
  });
});
