/** Where `attach --bell` may put its bell: between the session's sequences and characters. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { OutputBoundary } from "../../cli/attention-bell.js";

/** Whether a bell may go right after `chunks`, fed one by one. */
function boundaryAfter(...chunks: Array<string | Uint8Array>): boolean {
  const boundary = new OutputBoundary();
  for (const chunk of chunks)
    boundary.feed(typeof chunk === "string" ? Buffer.from(chunk, "latin1") : chunk);
  return boundary.atBoundary;
}

describe("OutputBoundary", () => {
  it("plain text and whole sequences leave it at a boundary", () => {
    assert.equal(boundaryAfter(""), true);
    assert.equal(boundaryAfter("hello\r\n"), true);
    assert.equal(boundaryAfter("\x1b[1;31mred\x1b[0m"), true);
    assert.equal(boundaryAfter("\x1b]0;title\x07"), true);
    assert.equal(boundaryAfter("\x1b]0;title\x1b\\"), true);
    assert.equal(boundaryAfter("\x1b(B"), true);
    assert.equal(boundaryAfter("\x1b7"), true);
    assert.equal(boundaryAfter("\x1bP1$r\x1b\\"), true);
  });

  it("a chunk that ends inside an escape, a CSI or an OSC is no boundary until it ends", () => {
    assert.equal(boundaryAfter("text\x1b"), false);
    assert.equal(boundaryAfter("\x1b[1;3"), false);
    assert.equal(boundaryAfter("\x1b]2;half a ti"), false);
    assert.equal(boundaryAfter("\x1b]2;title\x1b"), false, "maybe the start of its ST");
    assert.equal(boundaryAfter("\x1b(", "B"), true);
    assert.equal(boundaryAfter("\x1b[1;3", "1m"), true);
    assert.equal(boundaryAfter("\x1b]2;half a ti", "tle\x07"), true);
    assert.equal(boundaryAfter("\x1b]2;title\x1b", "\\"), true);
  });

  it("a chunk that ends inside a UTF-8 character is no boundary until it is whole", () => {
    const emoji = Buffer.from("😀", "utf8");
    const accent = Buffer.from("é", "utf8");
    assert.equal(boundaryAfter(emoji), true);
    assert.equal(boundaryAfter(emoji.subarray(0, 1)), false);
    assert.equal(boundaryAfter(emoji.subarray(0, 3)), false);
    assert.equal(boundaryAfter(emoji.subarray(0, 2), emoji.subarray(2)), true);
    assert.equal(boundaryAfter(accent.subarray(0, 1)), false);
    assert.equal(boundaryAfter(accent.subarray(0, 1), accent.subarray(1), "x"), true);
  });
});
