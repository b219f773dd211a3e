/**
 * The web UI's checks of a request, without a server: the Host and Origin a page may send, the
 * cookie, the token compared whole; and how a command typed in the page is split into words.
 */
import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { describe, it } from "node:test";
import { splitWords } from "../../cli/shell-quote.js";
import { closeCodeForStatus, truncateUtf8 } from "../../cli/web/socket-relay.js";
import { cookieValue, WebAccess } from "../../cli/web/web-access.js";

function request(headers: Record<string, string>): IncomingMessage {
  return { headers } as unknown as IncomingMessage;
}

describe("WebAccess", () => {
  const access = new WebAccess(7681, "t".repeat(43));

  it("lets in the loopback address or localhost with the port, from the page's own origin", () => {
    for (const host of ["127.0.0.1:7681", "localhost:7681", "LOCALHOST:7681"]) {
      assert.equal(access.checkSource(request({ host })), undefined, host);
    }
    const origin = { host: "127.0.0.1:7681", origin: "http://127.0.0.1:7681" };
    assert.equal(access.checkSource(request(origin)), undefined);
    assert.equal(
      access.checkSource(request({ ...origin, "sec-fetch-site": "same-origin" })),
      undefined,
    );
  });

  it("refuses another Host, a missing one, a foreign or null Origin, another site's fetch", () => {
    const refused: Array<Record<string, string>> = [
      { host: "attacker.example:7681" },
      { host: "127.0.0.1" },
      { host: "127.0.0.1:7682" },
      { host: "0.0.0.0:7681" },
      {},
      { host: "127.0.0.1:7681", origin: "http://attacker.example" },
      { host: "127.0.0.1:7681", origin: "null" },
      { host: "127.0.0.1:7681", origin: "http://127.0.0.1:7682" },
      { host: "127.0.0.1:7681", origin: "https://127.0.0.1:7681" },
      { host: "127.0.0.1:7681", "sec-fetch-site": "cross-site" },
      { host: "127.0.0.1:7681", "sec-fetch-site": "same-site" },
    ];
    for (const headers of refused) {
      const refusal = access.checkSource(request(headers));
      assert.equal(refusal?.status, 403, JSON.stringify(headers));
      assert.match(refusal.reason, /^refused: /);
    }
  });

  it("wants its own cookie holding the whole token", () => {
    const cookie = (value: string) => request({ cookie: value });
    assert.equal(
      access.checkCookie(cookie(`a=b; claude_sessions_7681=${access.token}`)),
      undefined,
    );
    assert.equal(access.checkCookie(request({}))?.status, 401);
    assert.equal(access.checkCookie(cookie(`claude_sessions_7682=${access.token}`))?.status, 401);
    assert.equal(access.checkCookie(cookie(`claude_sessions_7681=${"t".repeat(42)}`))?.status, 401);
    assert.equal(access.checkCookie(cookie(`claude_sessions_7681=${access.token}x`))?.status, 401);
    assert.equal(access.isToken(""), false);
  });

  it("makes a new URL-safe token of 32 random bytes for every start", () => {
    const first = new WebAccess(1);
    const second = new WebAccess(1);
    assert.match(first.token, /^[\w-]{43}$/);
    assert.notEqual(first.token, second.token);
    assert.equal(first.url, `http://127.0.0.1:1/?token=${first.token}`);
    assert.equal(
      first.cookie(),
      `claude_sessions_1=${first.token}; Path=/; HttpOnly; SameSite=Strict`,
    );
  });

  it("reads one cookie out of a Cookie header", () => {
    assert.equal(cookieValue("a=1; b=2", "b"), "2");
    assert.equal(cookieValue("a=1;b = 2 ", "b"), "2");
    assert.equal(cookieValue("ab=1", "b"), undefined);
    assert.equal(cookieValue("broken; b=x=y", "b"), "x=y");
    assert.equal(cookieValue(undefined, "b"), undefined);
  });
});

describe("the socket relay's close", () => {
  it("carries the gRPC status in the close code and a reason cut to 123 bytes", () => {
    assert.equal(closeCodeForStatus(5), 4005);
    assert.equal(truncateUtf8("short", 123), "short");
    const long = truncateUtf8("é".repeat(100), 123);
    assert.ok(Buffer.byteLength(long) <= 123);
    assert.ok(long.endsWith("…"));
    assert.ok(long.startsWith("éé"));
  });
});

describe("splitWords", () => {
  it("splits a typed command as a shell would", () => {
    assert.deepEqual(splitWords(""), []);
    assert.deepEqual(splitWords("  bash --norc  -i "), ["bash", "--norc", "-i"]);
    assert.deepEqual(splitWords(`vim -c 'syntax on' "my file.py"`), [
      "vim",
      "-c",
      "syntax on",
      "my file.py",
    ]);
    assert.deepEqual(splitWords(`echo '' ""`), ["echo", "", ""]);
    assert.deepEqual(splitWords(`a\\ b "say \\"hi\\"" 'it''s'`), ["a b", 'say "hi"', "its"]);
    assert.deepEqual(splitWords(`"$HOME" '\\n'`), ["$HOME", "\\n"]);
  });

  it("refuses an unclosed quote", () => {
    assert.throws(() => splitWords("echo 'oops"), /unclosed '/);
    assert.throws(() => splitWords('echo "oops'), /unclosed "/);
  });
});
