/** Detach keys in docker's notation, and spotting them in typed input. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { UsageError } from "clipanion";
import { DEFAULT_DETACH_KEYS, DetachDetector, parseDetachKeys } from "../../cli/detach-keys.js";

function bytes(...values: number[]): Uint8Array {
  return new Uint8Array(values);
}

function text(value: string): Uint8Array {
  return new Uint8Array(Buffer.from(value));
}

describe("detach keys: parsing", () => {
  it("the default is ctrl-\\ (0x1c)", () => {
    assert.equal(DEFAULT_DETACH_KEYS, "ctrl-\\");
    assert.deepEqual(parseDetachKeys(DEFAULT_DETACH_KEYS), bytes(0x1c));
  });

  it("ctrl-<key> maps like a terminal does", () => {
    assert.deepEqual(parseDetachKeys("ctrl-p,ctrl-q"), bytes(0x10, 0x11));
    assert.deepEqual(parseDetachKeys("ctrl-P,CTRL-Q"), bytes(0x10, 0x11));
    assert.deepEqual(parseDetachKeys("ctrl-a"), bytes(0x01));
    assert.deepEqual(parseDetachKeys("ctrl-@"), bytes(0x00));
    assert.deepEqual(parseDetachKeys("ctrl-["), bytes(0x1b));
    assert.deepEqual(parseDetachKeys("ctrl-]"), bytes(0x1d));
    assert.deepEqual(parseDetachKeys("ctrl-^"), bytes(0x1e));
    assert.deepEqual(parseDetachKeys("ctrl-_"), bytes(0x1f));
    assert.deepEqual(parseDetachKeys("ctrl-?"), bytes(0x7f));
  });

  it("single characters stand for themselves, mixed with ctrl keys", () => {
    assert.deepEqual(parseDetachKeys("q"), bytes(0x71));
    assert.deepEqual(parseDetachKeys("ctrl-a,d"), bytes(0x01, 0x64));
  });

  it("anything else is a one-line usage error naming the key", () => {
    for (const [spec, bad] of [
      ["ctrl-1", "ctrl-1"],
      ["ctrl-", "ctrl-"],
      ["ctrl-ab", "ctrl-ab"],
      ["ab", "ab"],
      ["", ""],
      ["ctrl-p,", ""],
      [",", ""],
      ["é", "é"],
    ] as const) {
      assert.throws(
        () => parseDetachKeys(spec),
        (error: unknown) => {
          assert.ok(error instanceof UsageError, String(error));
          assert.ok(error.message.includes(`'${bad}'`), error.message);
          assert.ok(!error.message.includes("\n"));
          return true;
        },
        spec,
      );
    }
  });
});

describe("detach keys: detecting them in input", () => {
  it("a single-key sequence detaches and forwards what came before it", () => {
    const detector = new DetachDetector(parseDetachKeys("ctrl-\\"));
    assert.deepEqual(detector.feed(text("ls\r")), { forward: text("ls\r"), detach: false });
    assert.deepEqual(detector.feed(bytes(0x61, 0x1c, 0x62)), { forward: text("a"), detach: true });
  });

  it("a sequence split across reads is still found, and nothing of it is forwarded", () => {
    const detector = new DetachDetector(parseDetachKeys("ctrl-p,ctrl-q"));
    assert.deepEqual(detector.feed(bytes(0x61, 0x10)), { forward: text("a"), detach: false });
    assert.deepEqual(detector.feed(bytes(0x11)), { forward: bytes(), detach: true });
  });

  it("a prefix that turns out not to be the sequence is forwarded, in order", () => {
    const detector = new DetachDetector(parseDetachKeys("ctrl-p,ctrl-q"));
    assert.deepEqual(detector.feed(bytes(0x10)), { forward: bytes(), detach: false });
    assert.deepEqual(detector.feed(text("x")), { forward: bytes(0x10, 0x78), detach: false });
    // ctrl-p ctrl-p ctrl-q: the first ctrl-p is typed through, the rest detaches.
    assert.deepEqual(detector.feed(bytes(0x10, 0x10, 0x11)), {
      forward: bytes(0x10),
      detach: true,
    });
  });

  it("a sequence that overlaps itself is found after a false start", () => {
    // "aab" inside "aaab": after "aa" the third "a" fails to be "b", but "aa" (its last two
    // bytes) is again the start of the sequence.
    const detector = new DetachDetector(parseDetachKeys("a,a,b"));
    assert.deepEqual(detector.feed(text("aaab")), { forward: text("a"), detach: true });
    const split = new DetachDetector(parseDetachKeys("a,b,a,c"));
    assert.deepEqual(split.feed(text("xabab")), { forward: text("xab"), detach: false });
    assert.deepEqual(split.feed(text("ac")), { forward: bytes(), detach: true });
  });

  it("after detaching, the detector starts over", () => {
    const detector = new DetachDetector(parseDetachKeys("ctrl-p,ctrl-q"));
    assert.equal(detector.feed(bytes(0x10, 0x11)).detach, true);
    assert.deepEqual(detector.feed(text("ok")), { forward: text("ok"), detach: false });
  });
});
