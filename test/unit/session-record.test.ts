/**
 * Checking a session record read back from state.json: a sound one comes back with only a
 * record's fields; one unsound field names itself in the error, and a value shown in it is cut
 * short.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseSessionRecord, RecordError } from "../../daemon/session/session-record.js";

const ID = "3f2c1b0a-9e8d-4c7b-a6f5-e4d3c2b1a090";

function sound(): Record<string, unknown> {
  return {
    id: ID,
    name: "keeper",
    workingDir: "/tmp",
    command: ["bash"],
    state: "stopped",
    pid: 0,
    exitSignal: "SIGTERM",
    createdAt: "2026-01-01T00:00:00.000Z",
    endedAt: "2026-01-01T00:00:01.000Z",
    cols: 80,
    rows: 24,
    claudeCode: false,
  };
}

function problemOf(changes: Record<string, unknown>): string {
  try {
    parseSessionRecord({ ...sound(), ...changes });
  } catch (error) {
    assert.ok(error instanceof RecordError, String(error));
    return error.message;
  }
  assert.fail(`accepted ${JSON.stringify(changes)}`);
}

describe("parseSessionRecord", () => {
  it("returns a sound record with only a record's fields; an environment kept by older versions is dropped", () => {
    assert.deepEqual(
      parseSessionRecord({ ...sound(), env: { SECRET: "1" }, extra: { deep: 1 } }),
      sound(),
    );
    const lost = { ...sound(), logBytesLost: 12, logLoss: "12 bytes of output were not logged" };
    assert.deepEqual(parseSessionRecord(lost), lost);
  });

  it("names the first unsound field", () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ id: "../../pwned" }, /^id "\.\.\/\.\.\/pwned" is not a session id/],
      [{ id: `${ID}/x` }, /^id .* is not a session id/],
      [{ id: undefined }, /^id undefined is not a session id/],
      [{ name: 7 }, /^name must be a string/],
      [{ name: ID }, /^name .* looks like a session id/],
      [{ workingDir: "tmp" }, /^workingDir must be an absolute path/],
      [{ command: ["a", 1] }, /^command must be a list of strings/],
      [{ command: [""] }, /^command must be a list of strings/],
      [{ logBytesLost: 1.5 }, /^logBytesLost must be a whole number/],
      [{ logLoss: 3 }, /^logLoss must be a string/],
      [{ state: "RUNNING" }, /^state "RUNNING" is not one of starting, running/],
      [{ pid: 1.5 }, /^pid must be an integer/],
      [{ pid: 2 ** 40 }, /^pid must be an integer/],
      [{ exitCode: "0" }, /^exitCode must be an integer/],
      [{ exitSignal: 9 }, /^exitSignal must be a string/],
      [{ createdAt: "soon" }, /^createdAt "soon" is not a time/],
      [{ startedAt: null }, /^startedAt null is not a time/],
      [{ cols: 1001 }, /^cols must be an integer from 1 to 1000, got 1001/],
      [{ rows: "24" }, /^rows must be an integer from 1 to 1000, got "24"/],
      [{ claudeCode: 1 }, /^claudeCode must be true or false/],
    ];
    for (const [changes, message] of cases) {
      assert.match(problemOf(changes), message, JSON.stringify(changes));
    }
    assert.throws(() => parseSessionRecord([sound()]), /the record is not an object/);
  });

  it("keeps labels and a worktree, copied; refuses a bad label or an incomplete worktree", () => {
    const worktree = {
      path: "/home/me/.claude-sessions/worktrees/shop-1a2b3c4d/feat-x",
      branch: "feat-x",
      repository: "/home/me/src/shop",
      baseCommit: "a".repeat(40),
    };
    const record = { ...sound(), labels: { team: "api", tier: "" }, worktree };
    const parsed = parseSessionRecord(record);
    assert.deepEqual(parsed, record);
    assert.notEqual(parsed.labels, record.labels, "a copy, not the object read");
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ labels: ["team=api"] }, /^labels must be an object of strings/],
      [{ labels: { team: 1 } }, /^label "team" must be a string, got 1/],
      [{ labels: { "bad key": "x" } }, /^label key 'bad key' is not valid/],
      [{ labels: { team: "a b" } }, /^label team=a b is not valid/],
      [{ worktree: { ...worktree, path: "relative" } }, /^worktree must hold an absolute path/],
      [{ worktree: { ...worktree, branch: "" } }, /^worktree must hold/],
      [{ worktree: { ...worktree, baseCommit: "HEAD" } }, /^worktree must hold/],
    ];
    for (const [changes, message] of cases)
      assert.match(problemOf(changes), message, JSON.stringify(changes));
  });

  it("cuts a long value short in its message", () => {
    const problem = problemOf({ id: "x".repeat(1_000_000) });
    assert.ok(problem.length < 200, `${problem.length} characters`);
  });
});
