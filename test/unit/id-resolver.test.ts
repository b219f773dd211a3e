/** Finding a session from what a user typed: full id, unique prefix of 4+ characters, or name. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  couldBeIdPrefix,
  MIN_PREFIX_LENGTH,
  resolveSession,
} from "../../daemon/session/id-resolver.js";
import { SessionError } from "../../daemon/session/session-error.js";

const sessions = [
  { id: "abcd1234-0000-4000-8000-000000000001", name: "" },
  { id: "abcd5678-0000-4000-8000-000000000002", name: "web" },
  { id: "ef012345-0000-4000-8000-000000000003", name: "abcd" },
  { id: "99990000-0000-4000-8000-000000000004", name: "api" },
];

function failure(query: string): SessionError {
  try {
    resolveSession(query, sessions);
  } catch (error) {
    assert.ok(error instanceof SessionError, String(error));
    assert.ok(!error.message.includes("\n"), "one line");
    return error;
  }
  assert.fail(`'${query}' resolved, but should not have`);
}

describe("session id resolution", () => {
  it("finds a session by its full id, in any case, with surrounding spaces", () => {
    for (const session of sessions) {
      assert.equal(resolveSession(session.id, sessions), session);
      assert.equal(resolveSession(` ${session.id.toUpperCase()} `, sessions), session);
    }
  });

  it("finds a session by its name, exactly", () => {
    assert.equal(resolveSession("web", sessions), sessions[1]);
    assert.equal(resolveSession("api", sessions), sessions[3]);
    assert.equal(failure("WEB").code, "not-found");
  });

  it("finds a session by a unique prefix of at least 4 characters", () => {
    assert.equal(MIN_PREFIX_LENGTH, 4);
    assert.equal(resolveSession("9999", sessions), sessions[3]);
    assert.equal(resolveSession("abcd1", sessions), sessions[0]);
    assert.equal(resolveSession("ABCD5", sessions), sessions[1]);
    assert.equal(resolveSession("ef012345-0000", sessions), sessions[2]);
  });

  it("a stored name that is also another session's id prefix is ambiguous, never picked over it", () => {
    const error = failure("abcd");
    assert.equal(error.code, "failed-precondition");
    assert.match(error.message, /'abcd' matches 3 sessions/);
    assert.ok(error.message.includes(`${sessions[2]?.id} (abcd)`), error.message);
    assert.ok(error.message.includes(sessions[0]?.id as string), error.message);
    // Where no id starts with it, the name still finds its session.
    assert.equal(resolveSession("abcd", sessions.slice(2)), sessions[2]);
  });

  it("tells the names that could be read as an id prefix", () => {
    for (const name of [
      "37e0",
      "ABCD",
      "deadbeefcafe",
      "abcd1234-",
      "abcd1234-00",
      sessions[0]?.id,
    ])
      assert.ok(couldBeIdPrefix(name as string), name);
    for (const name of ["abc", "web", "37e0-x", "abcd-1234", "abcd1234-00000", "g123"])
      assert.ok(!couldBeIdPrefix(name), name);
  });

  it("an ambiguous prefix is FAILED_PRECONDITION listing every candidate", () => {
    // "abcd" is also a session's name above; ask among the others.
    const withoutName = sessions.filter((session) => session.name !== "abcd");
    try {
      resolveSession("abcd", withoutName);
      assert.fail("resolved an ambiguous prefix");
    } catch (caught) {
      assert.ok(caught instanceof SessionError);
      assert.equal(caught.code, "failed-precondition");
      assert.match(caught.message, /matches 2 sessions/);
      assert.ok(caught.message.includes(sessions[0]?.id as string), caught.message);
      assert.ok(caught.message.includes(`${sessions[1]?.id} (web)`), caught.message);
      assert.ok(!caught.message.includes(sessions[2]?.id as string), caught.message);
    }
  });

  it("a prefix shorter than 4 characters never matches, and says why", () => {
    for (const short of ["a", "ab", "abc", "999"]) {
      const error = failure(short);
      assert.equal(error.code, "not-found");
      assert.match(error.message, /at least 4 characters/);
    }
  });

  it("an unknown id is NOT_FOUND naming what was asked for", () => {
    const error = failure("0123456789");
    assert.equal(error.code, "not-found");
    assert.match(error.message, /no session matches '0123456789'/);
    assert.doesNotMatch(error.message, /at least/);
  });

  it("an empty query is INVALID_ARGUMENT", () => {
    for (const empty of ["", "   "]) assert.equal(failure(empty).code, "invalid-argument");
  });

  it("a query with control characters is INVALID_ARGUMENT, and the message shows them escaped", () => {
    for (const query of ["abcd\0", "ab\u001b[2Jcd", "abcd\u007f", "abcd\u009b31m"]) {
      const error = failure(query);
      assert.equal(error.code, "invalid-argument");
      assert.match(error.message, /contains control characters/);
      assert.doesNotMatch(error.message, /[\x00-\x1f\x7f-\x9f]/, "printable");
    }
    assert.match(failure("ab\u001bcd").message, /'ab\\u001bcd'/);
  });
});
