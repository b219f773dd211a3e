/**
 * The state file's writer: `saved()` settles once every change made so far has been written (or
 * its write has failed, which it reports), a failed write is retried until it works, a link
 * planted at the temp path is never written through, `state.json` stays in place throughout a
 * write, and load() picks the right copy whatever a crash left on disk.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Worker } from "node:worker_threads";
import type { SessionRecord } from "../../daemon/session/session-record.js";
import { StateStore } from "../../daemon/store/state-store.js";

/** A record named `label`, with an id of its own as the daemon makes them. */
function record(label: string): SessionRecord {
  return {
    id: randomUUID(),
    name: label,
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
      written.sessions.map((saved) => saved.name),
      ["a", "b", "c"],
    );
    assert.equal(await within(store.saved(), 100), "resolved", "nothing pending: at once");
  });

  it("a change made while a write fails is still attempted, and saved() reports the failure", async () => {
    // The directory does not exist: every write fails (ENOENT).
    const store = new StateStore(join(dir, "missing", "state.json"));
    const first = store.save(() => [record("a")]);
    // Made while the first write is under way.
    const second = store.save(() => [record("a"), record("b")]);
    const saved = store.saved();
    await assert.rejects(first, { code: "ENOENT" });
    await assert.rejects(second, { code: "ENOENT" });
    await assert.rejects(saved, { code: "ENOENT" });
    store.close();
  });

  it("a failed write is retried with no further change, until it works", async () => {
    const home = join(dir, "later");
    const errors: Array<string | undefined> = [];
    const store = new StateStore(join(home, "state.json"), (message) => errors.push(message));
    await assert.rejects(
      store.save(() => [record("a")]),
      { code: "ENOENT" },
    );
    // The cause goes away (space freed, the directory back); nothing else changes.
    mkdirSync(home);
    // The file appears at the rename; the write is done (and the error cleared) only after the
    // directory's fsync that follows it.
    await waitUntil(() => errors.length > 1 && errors.at(-1) === undefined);
    assert.match(readFileSync(join(home, "state.json"), "utf8"), /"name": "a"/);
    assert.match(errors[0] ?? "", /ENOENT/);
    assert.equal(await within(store.saved(), 1000), "resolved");
    store.close();
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
    assert.match(readFileSync(path, "utf8"), /"name": "a"/);
  });

  it("state.json never goes missing while it is rewritten, and the backup is the previous copy", async () => {
    const path = join(dir, "watched.json");
    const store = new StateStore(path);
    await store.save(() => [record("first")]);
    // Another thread looks at the path as fast as it can while the writes go on.
    const stop = new Int32Array(new SharedArrayBuffer(4));
    const watcher = new Worker(
      `const { parentPort, workerData } = require("node:worker_threads");
       const { existsSync } = require("node:fs");
       let missing = 0;
       while (Atomics.load(workerData.stop, 0) === 0) if (!existsSync(workerData.path)) missing += 1;
       parentPort.postMessage(missing);`,
      { eval: true, workerData: { path, stop } },
    );
    const missing = new Promise<number>((resolve) => watcher.once("message", resolve));
    for (let i = 0; i < 200; i++) await store.save(() => [record(`write-${i}`)]);
    Atomics.store(stop, 0, 1);
    assert.equal(await missing, 0, "times state.json was seen missing");
    assert.match(readFileSync(path, "utf8"), /"name": "write-199"/);
    assert.match(readFileSync(`${path}.bak`, "utf8"), /"name": "write-198"/);
    await watcher.terminate();
  });
});

/** What a crash can leave of one write: each combination of files, and what load() must use. */
describe("state store: load() after a crash at any point of a write", () => {
  let dir: string;
  const OLD = JSON.stringify({ version: 1, sessions: [record("old")] });
  const CURRENT = JSON.stringify({ version: 1, sessions: [record("current")] });
  const NEW = JSON.stringify({ version: 1, sessions: [record("new")] });
  // A temp file cut short: the crash came in the middle of writing it.
  const PARTIAL = NEW.slice(0, NEW.length - 10);

  before(() => {
    dir = mkdtempSync("/tmp/cs-state-load-");
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  const cases: Array<{
    left: string;
    files: { state?: string; bak?: string; tmp?: string };
    loads: string[];
    warns?: RegExp;
  }> = [
    {
      left: "while the temp file was written (state, backup, a partial temp)",
      files: { state: CURRENT, bak: OLD, tmp: PARTIAL },
      loads: ["current"],
    },
    {
      left: "after the temp file was synced, before the backup was replaced",
      files: { state: CURRENT, bak: OLD, tmp: NEW },
      loads: ["current"],
    },
    {
      left: "after the old backup was removed, before the link",
      files: { state: CURRENT, tmp: NEW },
      loads: ["current"],
    },
    {
      left: "after the link, before the rename (state and backup the same file)",
      files: { state: CURRENT, bak: CURRENT, tmp: NEW },
      loads: ["current"],
    },
    {
      left: "after the rename",
      files: { state: NEW, bak: CURRENT },
      loads: ["new"],
    },
    {
      left: "during the very first write, after the temp file was synced",
      files: { tmp: NEW },
      loads: ["new"],
      warns: /missing; loaded 1 session\(s\) from .*\.tmp/,
    },
    {
      left: "by a writer that renamed state.json away first (between its two renames)",
      files: { bak: CURRENT, tmp: NEW },
      loads: ["new"],
      warns: /missing; loaded 1 session\(s\) from .*\.tmp/,
    },
    {
      left: "state.json removed, a partial temp file",
      files: { bak: CURRENT, tmp: PARTIAL },
      loads: ["current"],
      warns: /missing; loaded 1 session\(s\) from .*\.bak/,
    },
    {
      left: "a damaged state.json and its backup",
      files: { state: "{ not json", bak: CURRENT },
      loads: ["current"],
      warns: /damaged \(kept as .*\.damaged\); loaded 1 session\(s\) from .*\.bak/,
    },
    {
      left: "nothing at all (a new home)",
      files: {},
      loads: [],
    },
  ];

  for (const [index, { left, files, loads, warns }] of cases.entries()) {
    it(`a crash ${left}: loads ${loads.join(", ") || "nothing"}`, () => {
      const path = join(dir, `state-${index}.json`);
      if (files.state !== undefined) writeFileSync(path, files.state);
      if (files.bak !== undefined) writeFileSync(`${path}.bak`, files.bak);
      if (files.tmp !== undefined) writeFileSync(`${path}.tmp`, files.tmp);
      const warnings: string[] = [];
      const loaded = new StateStore(path).load((message) => warnings.push(message));
      assert.deepEqual(
        loaded.map((saved) => saved.name),
        loads,
      );
      if (warns === undefined) assert.deepEqual(warnings, []);
      else assert.match(warnings.join("\n"), warns);
    });
  }
});

async function waitUntil(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
