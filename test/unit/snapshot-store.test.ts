/**
 * Snapshots on disk: written whole, read back checked field by field (a tampered record is
 * skipped, saying why), found by id, prefix or name, and removed with their files.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { LISTED_CHANGED_FILES, snapshotMessage } from "../../daemon/rpc/session-message.js";
import { SessionError } from "../../daemon/session/session-error.js";
import {
  parseSnapshotRecord,
  type SnapshotRecord,
  SnapshotStore,
} from "../../daemon/snapshot/snapshot-store.js";

const root = mkdtempSync(join(tmpdir(), "css-unit-"));
after(() => rmSync(root, { recursive: true, force: true }));

const commit = "a".repeat(40);

function record(id: string, overrides: Partial<SnapshotRecord> = {}): SnapshotRecord {
  return {
    id,
    name: "",
    createdAt: "2026-12-01T10:00:00.000Z",
    sessionId: "11111111-2222-4333-8444-555555555555",
    sessionName: "api",
    workingDir: "/work/api",
    command: ["claude", "--session-id", "11111111-2222-4333-8444-555555555555"],
    claudeCode: true,
    seq: 42,
    cols: 120,
    rows: 40,
    screenText: "❯ hello",
    conversationId: "11111111-2222-4333-8444-555555555555",
    hasTranscript: true,
    files: {
      repository: "/work/api",
      commit,
      head: "b".repeat(40),
      branch: "main",
      relativeDir: "src",
      changedFiles: ["src/app.ts"],
      base: "b".repeat(40),
      uncommitted: true,
    },
    labels: { team: "api" },
    ...overrides,
  };
}

const first = "aaaaaaaa-1111-4111-8111-111111111111";
const second = "bbbbbbbb-2222-4222-8222-222222222222";

describe("snapshot records", () => {
  it("read back as written", () => {
    const written = record(first);
    assert.deepEqual(parseSnapshotRecord(JSON.parse(JSON.stringify(written))), written);
    const plain = record(first, { claudeCode: false, hasTranscript: false });
    delete plain.files;
    delete plain.conversationId;
    assert.deepEqual(parseSnapshotRecord(JSON.parse(JSON.stringify(plain))), plain);
  });

  it("are refused for any field that is not sound, naming it", () => {
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ id: "../x" }, /RecordError: id "\.\.\/x" is not an id$/],
      [{ workingDir: "relative" }, /RecordError: workingDir must be an absolute path/],
      [{ seq: -1 }, /RecordError: seq must be a whole number/],
      [{ conversationId: "a b" }, /RecordError: conversationId "a b" is not a conversation id$/],
      [{ files: { ...record(first).files, head: "main" } }, /RecordError: files must hold/],
      [
        { files: { ...record(first).files, relativeDir: "../outside" } },
        /RecordError: files must hold/,
      ],
      [{ files: { ...record(first).files, commit: "HEAD" } }, /RecordError: files must hold/],
    ];
    for (const [change, message] of bad)
      assert.throws(() => parseSnapshotRecord({ ...record(first), ...change }), message);
  });
});

describe("the snapshot store", () => {
  it("writes a snapshot whole, finds it by id, prefix or name, lists by session, removes it", () => {
    const dir = join(root, "store");
    const store = new SnapshotStore(dir);
    assert.deepEqual(store.load(), []);
    const transcript = join(root, "transcript.jsonl");
    writeFileSync(transcript, '{"type":"user"}\n');
    store.add(record(first, { name: "before" }), "\x1b[1mframe", transcript);
    store.add(
      record(second, { createdAt: "2026-12-01T11:00:00.000Z", sessionId: second }),
      "",
      undefined,
    );
    assert.deepEqual(readdirSync(dir).sort(), [first, second], "no partial directory is left");
    assert.equal(store.frame(first), "\x1b[1mframe");
    assert.ok(existsSync(store.transcriptPath(first)));
    assert.ok(!existsSync(store.transcriptPath(second)));

    const again = new SnapshotStore(dir);
    assert.deepEqual(again.load(), []);
    assert.equal(again.get("before").id, first);
    assert.equal(again.get("bbbb").id, second);
    assert.deepEqual(
      again.list().map((one) => one.id),
      [first, second],
    );
    assert.deepEqual(
      again.list(second).map((one) => one.id),
      [second],
    );
    assert.throws(
      () => again.checkNameFree("before"),
      (error: unknown) => error instanceof SessionError && error.code === "already-exists",
    );
    assert.throws(() => again.get("nope"), /^SessionError: no snapshot matches 'nope'$/);

    again.remove(first);
    assert.deepEqual(readdirSync(dir), [second]);
    assert.throws(() => again.get("before"), /no snapshot matches/);
  });

  it("skips a record that cannot be read, saying which and why, and keeps the others", () => {
    const dir = join(root, "tampered");
    const store = new SnapshotStore(dir);
    store.load();
    store.add(record(first), "", undefined);
    mkdirSync(join(dir, second));
    writeFileSync(join(dir, second, "snapshot.json"), JSON.stringify(record(first)));
    const reread = new SnapshotStore(dir);
    const problems = reread.load();
    assert.equal(problems.length, 1);
    assert.match(
      problems[0] ?? "",
      new RegExp(`^snapshot .*${second}/snapshot\\.json skipped: its id is ${first}$`),
    );
    assert.deepEqual(
      reread.list().map((one) => one.id),
      [first],
    );
  });
});

describe("snapshots on the wire", () => {
  it("a list leaves the screen out and names at most 20 changed files, counting them all", () => {
    const many = record(first);
    many.files = {
      ...(many.files as NonNullable<SnapshotRecord["files"]>),
      changedFiles: Array.from({ length: 25 }, (_, i) => `file${i}.ts`),
    };
    const whole = snapshotMessage(many);
    assert.equal(whole.screenText, "❯ hello");
    assert.equal(whole.files?.changedFiles?.length, 25);
    assert.equal(whole.files?.changedFileCount, 25);
    const listed = snapshotMessage(many, true);
    assert.equal(listed.screenText, "");
    assert.deepEqual(
      listed.files?.changedFiles,
      many.files.changedFiles.slice(0, LISTED_CHANGED_FILES),
    );
    assert.equal(listed.files?.changedFileCount, 25);
  });
});
