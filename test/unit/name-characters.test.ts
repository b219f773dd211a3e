/**
 * A session name is typed, printed and matched: it may hold nothing that a terminal acts on or
 * that cannot be seen (controls, zero-width and bidi characters, other format characters,
 * unassigned code points), and the refusal names the code point instead of echoing it.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkName } from "../../daemon/session/session-validation.js";

function refusal(name: string): { code: string; message: string } {
  try {
    checkName(name);
  } catch (error) {
    return error as { code: string; message: string };
  }
  assert.fail(`the name ${JSON.stringify(name)} was accepted`);
}

describe("session name characters", () => {
  it("refuses C0, DEL, C1, zero-width, bidi, other format and unassigned characters, naming each", () => {
    const refused: Array<[char: string, codePoint: string]> = [
      ["\u0001", "U+0001"],
      ["\u001b", "U+001B"],
      ["\u007f", "U+007F"],
      ["\u0085", "U+0085"],
      ["\u009b", "U+009B"],
      ["\u00ad", "U+00AD"],
      ["\u200b", "U+200B"],
      ["\u200c", "U+200C"],
      ["\u200d", "U+200D"],
      ["\u200e", "U+200E"],
      ["\u200f", "U+200F"],
      ["\u202a", "U+202A"],
      ["\u202e", "U+202E"],
      ["\u2060", "U+2060"],
      ["\u2066", "U+2066"],
      ["\u2069", "U+2069"],
      ["\ufeff", "U+FEFF"],
      ["\u{e0001}", "U+E0001"],
      ["\u0378", "U+0378"],
      ["\u{10ffff}", "U+10FFFF"],
    ];
    for (const [char, codePoint] of refused) {
      const error = refusal(`api${char}x`);
      assert.equal(error.code, "invalid-argument", codePoint);
      assert.ok(error.message.includes(codePoint), `${codePoint}: ${error.message}`);
      assert.ok(!error.message.includes(char), `${codePoint} is not echoed raw`);
    }
  });

  it("refuses whitespace, naming it", () => {
    for (const [char, codePoint] of [
      [" ", "U+0020"],
      ["\u00a0", "U+00A0"],
      ["\u2028", "U+2028"],
      ["\u3000", "U+3000"],
    ] as const) {
      const error = refusal(`two${char}words`);
      assert.equal(error.code, "invalid-argument");
      assert.ok(error.message.includes(codePoint), `${codePoint}: ${error.message}`);
    }
  });

  it("accepts printable names in any script", () => {
    for (const name of ["api", "web-2", "a.b_c", "café", "日本語", "rocket🚀", "Ωmega"]) {
      assert.equal(checkName(name), name);
    }
  });
});
