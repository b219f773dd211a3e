/**
 * `prune` through the CLI: a dry run says what would go and removes nothing; the prune then
 * removes exactly that (the records, the logs with their segments, clean worktrees), keeps a
 * session whose worktree has uncommitted changes (saying why) and never touches a running one.
 */
import assert from "node:assert/strict";
import { existsSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { segmentsDirOf } from "../../daemon/log/log-file.js";
import { assertNoStackTrace, type CliHome, cliHome } from "../helpers/cli-home.js";
import { git, makeRepository } from "../helpers/git.js";
import { bytesOnDisk } from "../helpers/log-reader.js";
import { tempDir } from "../helpers/temp-home.js";
import { waitFor } from "../helpers/wait.js";

interface SessionJson {
  id: string;
  name: string;
  state: string;
  log_path: string;
  worktree: { path: string; branch: string } | null;
}

interface PruneJson {
  dry_run: boolean;
  pruned: SessionJson[];
  kept: Array<{ session: SessionJson; reason: string }>;
  log_bytes: number;
}

/** The bytes the sessions' logs hold: each file and its segments. */
function logsOnDisk(sessions: readonly SessionJson[]): number {
  return sessions.reduce((sum, session) => sum + bytesOnDisk(session.log_path), 0);
}

describe("e2e: prune", () => {
  let home: CliHome;
  let work: ReturnType<typeof tempDir>;
  let repo: string;

  before(async () => {
    home = cliHome();
    work = tempDir("csp-work-");
    repo = makeRepository(join(realpathSync(work.path), "shop"), { README: "shop\n" });
    await home.ok(["daemon"]);
  });

  after(async () => {
    await home.cleanup();
    work.remove();
  });

  /** Starts a session and waits for its program to end. */
  const ended = async (args: readonly string[]) => {
    const session = await home.json<SessionJson>(["start", ...args]);
    return waitFor("the session to end", async () => {
      const now = await home.json<SessionJson>(["show", session.id]);
      return now.state !== "running" && now;
    });
  };
  const ids = (sessions: readonly SessionJson[]) => sessions.map((session) => session.id).sort();
  const listed = async () => ids(await home.json<SessionJson[]>(["list", "--all"]));

  it("--dry-run says what would go; prune removes exactly that, keeps a dirty worktree and a running session", async () => {
    const api = await ended(["-l", "team=api", "--name", "api", work.path, "--", "true"]);
    // Enough output for its 64 KiB log to be cut into segments.
    const chatty = await ended([
      "-l",
      "team=web",
      "--max-log-size",
      "64K",
      work.path,
      "--",
      "bash",
      "-c",
      "for i in $(seq 3000); do echo line $i of a chatty program that fills its log; done",
    ]);
    assert.ok(existsSync(segmentsDirOf(chatty.log_path)), "the chatty log has no segments");
    const clean = await ended(["--worktree", "clean-one", repo, "--", "true"]);
    const dirty = await ended([
      "--worktree",
      "dirty-one",
      repo,
      "--",
      "bash",
      "-c",
      "echo draft > notes.txt",
    ]);
    const running = await home.json<SessionJson>(["start", work.path, "--", "sleep", "60"]);
    const everyone = await listed();

    // Nothing ended an hour ago.
    assert.equal(
      await home.ok(["prune", "--older-than", "1h", "--dry-run"]),
      "Nothing to prune.\n",
    );

    // A label selector narrows it.
    const team = await home.json<PruneJson>(["prune", "--dry-run", "-l", "team=api"]);
    assert.deepEqual(ids(team.pruned), [api.id]);

    const dry = await home.json<PruneJson>(["prune", "--older-than", "0s", "--dry-run"]);
    assert.equal(dry.dry_run, true);
    const going = ids([api, chatty, clean]);
    assert.deepEqual(ids(dry.pruned), going);
    assert.deepEqual(
      dry.kept.map((entry) => entry.session.id),
      [dirty.id],
    );
    assert.match(
      dry.kept[0]?.reason ?? "",
      /^the worktree .*dirty-one has uncommitted changes \(notes\.txt\); commit them on dirty-one, or remove it anyway with: claude-sessions rm --force [0-9a-f-]{36}$/,
    );
    // Every byte of their logs: the files and the chatty one's segments.
    assert.equal(dry.log_bytes, logsOnDisk([api, chatty, clean]));
    // Nothing was removed.
    assert.deepEqual(await listed(), everyone);
    for (const session of [api, chatty, clean]) assert.ok(existsSync(session.log_path));
    assert.ok(existsSync(clean.worktree?.path ?? ""));

    const text = await home.ok(["prune", "--older-than", "0s", "--dry-run"]);
    assert.match(
      text,
      new RegExp(
        `^🗑️  Would prune api \\(${api.id.slice(0, 8)}\\): exited \\(code 0\\), ended \\d+s ago$`,
        "m",
      ),
    );
    assert.match(text, new RegExp(`^⚠️  Kept ${dirty.id}: the worktree `, "m"));
    assert.match(
      text,
      /^Would prune 3 sessions and [\d.]+ KiB of logs \(a dry run: nothing was removed\)\.$/m,
    );

    // The prune removes what the dry run said, and only that.
    const done = await home.json<PruneJson>(["prune", "--older-than", "0s"]);
    assert.equal(done.dry_run, false);
    assert.deepEqual(ids(done.pruned), going);
    assert.deepEqual(
      done.kept.map((entry) => entry.session.id),
      [dirty.id],
    );
    assert.equal(done.log_bytes, dry.log_bytes);
    assert.deepEqual(await listed(), ids([dirty, running]));
    for (const session of [api, chatty, clean]) {
      assert.ok(!existsSync(session.log_path), `${session.log_path} is still there`);
      assert.ok(!existsSync(segmentsDirOf(session.log_path)));
    }
    assert.ok(!existsSync(clean.worktree?.path ?? ""), "the clean worktree is still there");
    // Its branch is kept, as rm keeps it.
    assert.match(git(repo, "branch", "--list", "clean-one"), /clean-one/);
    assert.ok(existsSync(dirty.worktree?.path ?? ""));
    assert.ok(existsSync(dirty.log_path));
    assert.equal((await home.json<SessionJson>(["show", running.id])).state, "running");

    await home.ok(["stop", "--timeout", "1s", running.id]);
    await home.ok(["rm", "--force", dirty.id]);
    await home.ok(["rm", running.id]);
  });

  it("misuse and bad selectors: one line, the right exit code, nothing removed", async () => {
    const session = await ended([work.path, "--", "true"]);
    const before = await listed();
    const duration = await home.run(["prune", "--older-than", "soon"]);
    assert.equal(duration.code, 2);
    assert.match(duration.stderr, /^error: --older-than takes a duration such as 5s, .*'soon'\n$/);
    const selector = await home.run(["prune", "-l", "!team=api"]);
    assert.equal(selector.code, 1);
    assert.equal(selector.stderr.split("\n").length, 2, selector.stderr);
    assert.match(selector.stderr, /^error: label selector '!team=api': /);
    for (const result of [duration, selector]) assertNoStackTrace(result.stderr);
    assert.deepEqual(await listed(), before);
    await home.ok(["rm", session.id]);
  });
});
