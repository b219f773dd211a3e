/**
 * The commands people expect of such a CLI (docker, pm2, tmux), through the built CLI: rename,
 * restart, stop --all, rm -f.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { type CliHome, cliHome } from "../helpers/cli-home.js";
import { tempDir } from "../helpers/temp-home.js";

interface SessionJson {
  id: string;
  name: string;
  state: string;
  pid: number;
}

const SHELL = ["--", "bash", "--norc", "--noprofile"];

describe("e2e: rename, restart, stop --all, rm -f", () => {
  let home: CliHome;
  let work: ReturnType<typeof tempDir>;

  before(() => {
    home = cliHome();
    work = tempDir();
  });

  after(async () => {
    await home.cleanup();
    work.remove();
  });

  it("rename gives a new name, checked as start checks it, that the next daemon still knows", async () => {
    const one = await home.json<SessionJson>(["start", work.path, "--name", "one", ...SHELL]);
    const two = await home.json<SessionJson>(["start", work.path, "--name", "two", ...SHELL]);

    const renamed = await home.ok(["rename", "one", "api"]);
    assert.equal(renamed, `✅ Session renamed: ${one.id} is now 'api'\n`);
    assert.equal((await home.json<SessionJson>(["show", "api"])).id, one.id);
    const gone = await home.run(["show", "one"]);
    assert.equal(gone.code, 1, "the old name no longer names it");

    const taken = await home.run(["rename", "api", "two"]);
    assert.equal(taken.code, 1);
    assert.match(taken.stderr, /^error: the name 'two' is already used by session /);
    const bad = await home.run(["rename", "api", "has space"]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^error: name contains/);
    const idLike = await home.run(["rename", "api", two.id]);
    assert.equal(idLike.code, 1);
    assert.match(idLike.stderr, /looks like a session id/);

    // Persisted: a new daemon reads the name from state.json (the session ran on meanwhile).
    await home.ok(["stop-daemon"]);
    const reloaded = await home.json<SessionJson>(["show", "api"]);
    assert.equal(reloaded.id, one.id);
    assert.equal(reloaded.state, "running");
    await home.ok(["stop", "api", "two"]);

    const cleared = await home.ok(["rename", "api", ""]);
    assert.match(cleared, /is now no name\n$/);
    assert.equal((await home.json<SessionJson>(["show", one.id])).name, "");
    await home.ok(["rm", one.id, two.id]);
  });

  it("restart stops a running session and resumes it: same id, a new program", async () => {
    const session = await home.json<SessionJson>(["start", work.path, "--name", "again", ...SHELL]);
    const restarted = await home.ok(["restart", "--timeout", "1s", "again"]);
    // A named session is called by its name and short id.
    assert.match(
      restarted,
      new RegExp(`^✅ Session restarted: again \\(${session.id.slice(0, 8)}\\) \\(pid \\d+\\)\\n$`),
    );
    const shown = await home.json<SessionJson>(["show", "again"]);
    assert.equal(shown.state, "running");
    assert.notEqual(shown.pid, session.pid);
    // An ended session is simply resumed.
    await home.ok(["stop", "--timeout", "1s", "again"]);
    await home.ok(["restart", "again"]);
    assert.equal((await home.json<SessionJson>(["show", "again"])).state, "running");
    await home.ok(["rm", "-f", "--timeout", "1s", "again"]);
  });

  it("stop --all stops every running session; without ids or --all it is misuse", async () => {
    const a = await home.json<SessionJson>(["start", work.path, ...SHELL]);
    const b = await home.json<SessionJson>(["start", work.path, ...SHELL]);
    const misuse = await home.run(["stop"]);
    assert.equal(misuse.code, 2);
    assert.match(misuse.stderr, /name the sessions to stop, or give --all/);
    const both = await home.run(["stop", "--all", a.id]);
    assert.equal(both.code, 2);

    const stopped = await home.ok(["stop", "--all", "--timeout", "1s"]);
    for (const session of [a, b])
      assert.match(stopped, new RegExp(`Session stopped: ${session.id}`));
    const running = await home.json<SessionJson[]>(["list", "--state", "running"]);
    assert.deepEqual(running, []);
    assert.equal(await home.ok(["stop", "--all"]), "No running sessions.\n");
    await home.ok(["rm", a.id, b.id]);
  });

  it("rm -f stops a running session, then forgets it (and its log with --delete-log)", async () => {
    const session = await home.json<SessionJson & { log_path: string }>([
      "start",
      work.path,
      ...SHELL,
    ]);
    const refused = await home.run(["rm", session.id]);
    assert.equal(refused.code, 1, "without -f a running session is refused");
    const misuse = await home.run(["rm", "--timeout", "1s", session.id]);
    assert.equal(misuse.code, 2, "--timeout without --force");

    const removed = await home.ok(["rm", "-f", "--delete-log", "--timeout", "1s", session.id]);
    assert.match(removed, new RegExp(`Session removed: ${session.id}`));
    const all = await home.json<SessionJson[]>(["list", "--all"]);
    assert.ok(!all.some((entry) => entry.id === session.id), "rm -f left the session");
    assert.equal(existsSync(session.log_path), false, "the log is deleted");
  });
});
