/**
 * `kill -9` of a process that rewrites `state.json` as fast as it can: wherever the kill lands,
 * `state.json` is there, complete, and is what the next load uses (no fallback to the backup).
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { StateStore } from "../../daemon/store/state-store.js";
import { fixturePerTest } from "../helpers/daemon-fixture.js";
import { repoRoot } from "../helpers/paths.js";
import { waitFor } from "../helpers/wait.js";

const fixture = fixturePerTest();

/** Rewrites the state at argv[1] in a loop, one session named after the write's number. */
const WRITER = `
const { StateStore } = await import(${JSON.stringify(join(repoRoot, "dist/daemon/store/state-store.js"))});
const store = new StateStore(process.argv[1]);
const { randomUUID } = await import("node:crypto");
const record = (name) => ({ id: randomUUID(), name, workingDir: "/tmp", command: ["true"],
  state: "exited", pid: 0, createdAt: "2026-01-01T00:00:00.000Z", cols: 80, rows: 24,
  claudeCode: false });
for (let i = 0; ; i++) await store.save(() => [record("write-" + i)]);
`;

describe("kill -9 while state.json is rewritten", () => {
  it("every kill leaves a complete state.json that load() uses as it is", async () => {
    const KILLS = 32;
    const { home } = fixture();
    const path = join(home.path, "state.json");
    let last = -1;
    for (let kill = 0; kill < KILLS; kill++) {
      const writer = spawn(process.execPath, ["--input-type=module", "-e", WRITER, path], {
        stdio: "ignore",
      });
      const exited = new Promise((resolve) => writer.once("exit", resolve));
      // Past the first write, and then a little further each time: kills land all over a write.
      await waitFor("the writer to write", () => {
        if (!existsSync(path)) return false;
        const now = JSON.parse(readFileSync(path, "utf8")) as { sessions: Array<{ name: string }> };
        return Number(now.sessions[0]?.name.replace("write-", "")) >= 2 + (kill % 4);
      });
      // A different moment of a write each time: the checks above take part of one.
      for (let spin = 0; spin < (kill % 8) * 20_000; spin++) existsSync(path);
      writer.kill("SIGKILL");
      await exited;
      assert.ok(existsSync(path), `kill ${kill + 1}: state.json is missing`);
      const warnings: string[] = [];
      const loaded = new StateStore(path).load((message) => warnings.push(message));
      assert.deepEqual(warnings, [], `kill ${kill + 1}`);
      const number = Number(loaded[0]?.name.replace("write-", ""));
      assert.ok(Number.isInteger(number), `kill ${kill + 1}: ${JSON.stringify(loaded)}`);
      last = number;
    }
    console.log(
      `kill -9 during state writes: ${KILLS} kills, state.json complete after each (last write ${last})`,
    );
  });
});
