/**
 * The state file's writer: `saved()` resolves once every change made so far has been written,
 * even when writes fail, and a link planted at the temp path is never written through.
 */
import assert from "node:assert/strict";
import { lstatSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { SessionRecord } from "../../daemon/session-record.js";
import { StateStore } from "../../daemon/state-store.js";

function record(id: string): SessionRecord {
  return {
    id,
    name: "",
    workingDir: "/tmp",
    command: ["true"],
    state: "running",
    pid: 1234,
    createdAt: "2026-01-01T00:00:00.000Z",
    cols: 80,
    rows: 24,
    claudeCode: false,
  };
}

/** Resolves with "resolved", or "pending" if `promise` has not settled within `ms`. */
function within(promise: Promise<unknown>, ms: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.then(() => "resolved"),
    new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve("pending"), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

describe("state store", () => {
  let dir: string;

  before(() => {
    dir = mkdtempSync("/tmp/cs-state-");
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it("saved() resolves once every change so far is on disk", async () => {
    const store = new StateStore(join(dir, "state.json"));
    const records: SessionRecord[] = [];
    for (const id of ["a", "b", "c"]) {
      records.push(record(id));
      void store.save(() => [...records]);
    }
    await store.saved();
    const written = JSON.parse(readFileSync(join(dir, "state.json"), "utf8")) as {
      sessions: SessionRecord[];
    };
    assert.deepEqual(
      written.sessions.map((saved) => saved.id),
      ["a", "b", "c"],
    );
    assert.equal(await within(store.saved(), 100), "resolved", "nothing pending: at once");
  });

  it("a change made while a write fails is still attempted, so saved() never hangs", async () => {
    // The directory does not exist: every write fails (ENOENT).
    const store = new StateStore(join(dir, "missing", "state.json"));
    const first = store.save(() => [record("a")]);
    // Made while the first write is under way.
    const second = store.save(() => [record("a"), record("b")]);
    const saved = store.saved();
    await assert.rejects(first, { code: "ENOENT" });
    await assert.rejects(second, { code: "ENOENT" });
    assert.equal(await within(saved, 2000), "resolved");
  });

  it("a symbolic link planted at the temp path is replaced, its target untouched", async () => {
    const path = join(dir, "linked.json");
    const target = join(dir, "precious");
    writeFileSync(target, "do not touch\n");
    symlinkSync(target, `${path}.tmp`);
    const store = new StateStore(path);
    await store.save(() => [record("a")]);
    assert.equal(readFileSync(target, "utf8"), "do not touch\n");
    assert.ok(lstatSync(path).isFile());
    assert.match(readFileSync(path, "utf8"), /"id": "a"/);
  });
});
