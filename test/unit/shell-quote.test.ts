/** Commands shown as a shell would need them typed. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { shellQuote } from "../../cli/shell-quote.js";

describe("shellQuote", () => {
  it("quotes only the words a shell would split or expand", () => {
    assert.equal(shellQuote(["vim", "-c", "syntax on", "test.py"]), "vim -c 'syntax on' test.py");
    assert.equal(
      shellQuote(["claude", "--session-id", "3f2a-9c1e"]),
      "claude --session-id 3f2a-9c1e",
    );
    assert.equal(shellQuote(["echo", "it's"]), "echo 'it'\\''s'");
    assert.equal(shellQuote(["printf", ""]), "printf ''");
    for (const word of ["$HOME", "a*", "~", "x;y", "a|b", "(x)", "`id`", "a\tb", "!x", "#c"])
      assert.equal(shellQuote([word]), `'${word}'`, word);
    assert.equal(
      shellQuote(["/usr/bin/env", "KEY=v", "a,b", "user@host:/x", "50%"]),
      "/usr/bin/env KEY=v a,b user@host:/x 50%",
    );
  });
});
