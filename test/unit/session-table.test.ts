/** `list`'s compact table: relative ages, one line per session, within the width, paths cut on the left. */
import assert from "node:assert/strict";
import { homedir } from "node:os";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { relativeAge } from "../../cli/output.js";
import { cutLeft, sessionLabel, sessionTable } from "../../cli/session-table.js";
import { Activity, SessionSchema, SessionState } from "../../gen/claude_sessions/v1/session_pb.js";

const NOW = Date.parse("2026-12-02T12:00:00Z");

function session(fields: {
  id: string;
  name?: string;
  dir: string;
  ageMs: number;
  state?: SessionState;
  activity?: Activity;
  foreground?: string;
}) {
  return create(SessionSchema, {
    id: fields.id,
    name: fields.name ?? "",
    workingDir: fields.dir,
    state: fields.state ?? SessionState.RUNNING,
    createdAt: timestampFromMs(NOW - fields.ageMs),
    activity: fields.activity ?? Activity.UNSPECIFIED,
    foregroundCommand: fields.foreground ?? "",
  });
}

describe("session table", () => {
  it("ages are relative, in their largest whole unit", () => {
    const ago = (ms: number) => relativeAge(timestampFromMs(NOW - ms), NOW);
    assert.equal(ago(0), "0s");
    assert.equal(ago(59_999), "59s");
    assert.equal(ago(3 * 60_000), "3m");
    assert.equal(ago(2 * 3_600_000 + 59 * 60_000), "2h");
    assert.equal(ago(5 * 86_400_000), "5d");
    // A clock a little ahead of ours is not a negative age.
    assert.equal(ago(-5000), "0s");
    assert.equal(relativeAge(undefined, NOW), "-");
  });

  it("a long path keeps its end, behind an ellipsis", () => {
    assert.equal(cutLeft("/short", 10), "/short");
    assert.equal(cutLeft("/a/b/c/project", 10), "…c/project");
    assert.equal([...cutLeft("/a/b/c/project", 10)].length, 10);
  });

  it("one line per session, within 80 columns, name or '-' and the short id", () => {
    const deep = `/srv/${"nested/".repeat(20)}repository`;
    const table = sessionTable(
      [
        session({
          id: "3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b",
          name: "api",
          dir: "/srv/api",
          ageMs: 180_000,
          activity: Activity.WAITING_FOR_INPUT,
          foreground: "claude",
        }),
        session({
          id: "77aa0000-5b7d-4e8f-9a0b-1c2d3e4f5a6b",
          name: "a-name-much-longer-than-a-column",
          dir: deep,
          ageMs: 7_200_000,
          state: SessionState.INTERRUPTED,
        }),
        session({
          id: "0b1c0000-5b7d-4e8f-9a0b-1c2d3e4f5a6b",
          dir: `${homedir()}/src/web`,
          ageMs: 5 * 86_400_000,
          activity: Activity.WORKING,
          foreground: "a-very-long-program-name",
        }),
      ],
      { color: false, now: NOW },
    );
    const lines = table.trimEnd().split("\n");
    assert.equal(lines.length, 4, table);
    for (const line of lines) assert.ok([...line].length <= 80, `wider than 80: ${line}`);
    assert.match(lines[0] as string, /^ID +NAME +STATE +ACTIVITY +FOREGROUND +AGE +DIRECTORY$/);
    assert.deepEqual((lines[1] as string).split(/ {2,}/), [
      "3f2a9c1e",
      "api",
      "running",
      "waiting",
      "claude",
      "3m",
      "/srv/api",
    ]);
    const [id, name, state, activity, foreground, age, dir] = (lines[2] as string).split(/ {2,}/);
    assert.deepEqual(
      [id, state, activity, foreground, age],
      ["77aa0000", "interrupted", "-", "-", "2h"],
    );
    assert.match(name as string, /^a-name-much-lon…$/);
    // The widest row of all leaves the directory its minimum: 12 characters, its end kept.
    assert.equal(dir, "…/repository");
    assert.deepEqual((lines[3] as string).split(/ {2,}/), [
      "0b1c0000",
      "-",
      "running",
      "working",
      "a-very-lo…",
      "5d",
      "~/src/web",
    ]);
    // A wider terminal shows more of the path.
    const wide = sessionTable([session({ id: "77aa0000-x", dir: deep, ageMs: 0 })], {
      color: false,
      width: 240,
      now: NOW,
    });
    assert.ok(wide.includes(deep), wide);
  });

  it("colour goes to the state and the activity only, and the columns still line up", () => {
    const rows = [
      session({ id: "3f2a9c1e-x", dir: "/a", ageMs: 0, activity: Activity.WAITING_FOR_INPUT }),
      session({ id: "4f2a9c1e-x", dir: "/b", ageMs: 0, state: SessionState.FAILED }),
    ];
    const plain = sessionTable(rows, { color: false, now: NOW });
    const colored = sessionTable(rows, { color: true, now: NOW });
    assert.match(colored, /\x1b\[32mrunning\x1b\[0m/);
    assert.match(colored, /\x1b\[33mwaiting\x1b\[0m/, "what needs you stands out");
    assert.equal(colored.replace(/\x1b\[\d+m/g, ""), plain);
  });

  it("the widest row still fits 80 columns, the directory keeps its minimum", () => {
    const table = sessionTable(
      [
        session({
          id: "3f2a9c1e-x",
          name: "n".repeat(40),
          dir: `/${"d".repeat(200)}`,
          ageMs: 2 * 86_400_000,
          state: SessionState.INTERRUPTED,
          activity: Activity.UNKNOWN,
          foreground: "f".repeat(40),
        }),
      ],
      { color: false, now: NOW },
    );
    for (const line of table.trimEnd().split("\n"))
      assert.ok([...line].length <= 80, `wider than 80: ${line}`);
    assert.match(table, /…d{11}\n$/);
  });

  it("a session is labelled by its name, else its short id", () => {
    assert.equal(sessionLabel({ id: "3f2a9c1e-5b7d", name: "api" }), "api");
    assert.equal(sessionLabel({ id: "3f2a9c1e-5b7d", name: "" }), "3f2a9c1e");
  });
});
