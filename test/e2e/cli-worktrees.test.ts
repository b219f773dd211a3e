/**
 * Many agents on one repository, through the CLI: `start --worktree` (a worktree and branch of
 * its own, `.worktreeinclude` copied in), `rm` removing a clean worktree and refusing a dirty one,
 * labels and `-l` selectors with `send` broadcasting, and a session that reaches its siblings
 * with the CLI from inside.
 */
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdirSync, realpathSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type CliHome, cliHome } from "../helpers/cli-home.js";
import { git, makeRepository } from "../helpers/git.js";
import { readLog } from "../helpers/log-reader.js";
import { cliBin } from "../helpers/paths.js";
import { tempDir } from "../helpers/temp-home.js";
import { waitFor } from "../helpers/wait.js";

interface SessionJson {
  id: string;
  name: string;
  working_dir: string;
  log_path: string;
  labels: Record<string, string>;
  worktree: {
    path: string;
    branch: string;
    repository: string;
    base_commit: string;
    present: boolean;
    uncommitted: string[];
    commits_ahead: number;
  } | null;
}

/** The text a session's log holds, escape sequences and all. */
function logText(session: SessionJson): string {
  return readLog(session.log_path)
    .records.filter((record) => record.kind === "output")
    .map((record) => record.data)
    .join("");
}

const SHELL = ["--", "bash", "--norc", "--noprofile", "-i"];

describe("e2e: worktrees, labels and broadcast", () => {
  let home: CliHome;
  let work: ReturnType<typeof tempDir>;
  let repo: string;

  before(async () => {
    home = cliHome();
    work = tempDir("csw-repo-");
    repo = makeRepository(join(realpathSync(work.path), "shop"), {
      "src/app.ts": "export {};\n",
      ".gitignore": ".env\nnode_modules/\n",
      ".worktreeinclude": ".env\n",
    });
    writeFileSync(join(repo, ".env"), "API_KEY=not-in-git\n");
    mkdirSync(join(repo, "node_modules"));
    writeFileSync(join(repo, "node_modules", "big.js"), "// not copied\n");
    await home.ok(["daemon"]);
  });

  after(async () => {
    await home.cleanup();
    work.remove();
  });

  const show = (id: string) => home.json<SessionJson>(["show", id]);

  it("start --worktree: the session runs in a new worktree on its branch, .env copied in; rm removes a clean one and keeps the branch", async () => {
    const started = await home.json<SessionJson>(
      ["start", "--worktree", "feat-x", "--name", "wt", ...SHELL],
      { cwd: join(repo, "src") },
    );
    const worktree = started.worktree;
    assert.ok(worktree, "the session has a worktree");
    assert.equal(worktree.branch, "feat-x");
    assert.equal(worktree.repository, repo);
    assert.equal(worktree.base_commit, git(repo, "rev-parse", "HEAD").trim());
    assert.equal(
      worktree.path,
      join(home.path, "worktrees", worktree.path.split("/").at(-2) ?? "", "feat-x"),
    );
    assert.equal(
      started.working_dir,
      join(worktree.path, "src"),
      "src of the repository, in the worktree",
    );

    await home.ok([
      "send",
      "wt",
      "--enter",
      "pwd; cat ../.env; ls ../node_modules 2>&1 | head -1; echo done-$((6*7))",
    ]);
    await waitFor("the commands to run in the session", () => logText(started).includes("done-42"));
    const text = logText(started);
    assert.ok(text.includes(`${worktree.path}/src\r\n`), text);
    assert.match(text, /No such file or directory/, "only what .worktreeinclude names is copied");
    const listed = git(repo, "worktree", "list", "--porcelain");
    assert.ok(
      listed.includes(
        `worktree ${worktree.path}\nHEAD ${worktree.base_commit}\nbranch refs/heads/feat-x`,
      ),
      listed,
    );

    const table = (await home.ok(["list"])).split("\n");
    assert.match(table[0] ?? "", / BRANCH /);
    assert.match(table.find((line) => line.includes(" wt ")) ?? "", / feat-x /);
    const details = await home.ok(["show", "wt"]);
    assert.match(details, /^Branch: +feat-x \(from [0-9a-f]{12}, in /m);
    assert.match(details, /^Worktree state: +clean, 0 commits ahead of [0-9a-f]{12}$/m);

    await home.ok(["stop", "--timeout", "1s", "wt"]);
    await home.ok(["rm", "wt"]);
    assert.ok(!existsSync(worktree.path), "the worktree is gone");
    assert.doesNotMatch(git(repo, "worktree", "list"), /feat-x/);
    assert.equal(git(repo, "branch", "--list", "feat-x").trim(), "feat-x", "the branch stays");
  });

  it("rm refuses a worktree with uncommitted changes, naming them; show counts them and the commits ahead; rm --force removes it", async () => {
    const started = await home.json<SessionJson>([
      "start",
      "--worktree",
      "--name",
      "dirty",
      repo,
      ...SHELL,
    ]);
    const path = started.worktree?.path as string;
    assert.equal(
      started.worktree?.branch,
      "claude-sessions/dirty",
      "a branch named after the session",
    );
    writeFileSync(join(path, "notes.md"), "draft\n");
    git(path, "commit", "-q", "--allow-empty", "-m", "one ahead");
    writeFileSync(join(path, "src", "app.ts"), "export const changed = 1;\n");

    const shown = await show("dirty");
    assert.deepEqual(shown.worktree?.uncommitted.sort(), [" M src/app.ts", "?? notes.md"]);
    assert.equal(shown.worktree?.commits_ahead, 1);
    assert.match(
      await home.ok(["show", "dirty"]),
      /^Worktree state: +2 uncommitted changes, 1 commit ahead of /m,
    );

    await home.ok(["stop", "--timeout", "1s", "dirty"]);
    const refused = await home.run(["rm", "dirty"]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /^error: the worktree .* has uncommitted changes \(src\/app\.ts, notes\.md\); commit them on claude-sessions\/dirty, or remove it anyway with: claude-sessions rm --force dirty\n$/,
    );
    assert.ok(existsSync(join(path, "notes.md")), "nothing was lost");
    assert.equal((await show("dirty")).name, "dirty", "the session is still there");

    await home.ok(["rm", "--force", "dirty"]);
    assert.ok(!existsSync(path));
    assert.equal(
      git(repo, "branch", "--list", "claude-sessions/dirty").trim(),
      "claude-sessions/dirty",
    );
  });

  it("a worktree whose repository was moved away: rm says so and how, rm --force deletes it", async () => {
    const moving = makeRepository(join(realpathSync(work.path), "moving"), { "m.txt": "m\n" });
    const started = await home.json<SessionJson>([
      "start",
      "--worktree",
      "--name",
      "adrift",
      moving,
      ...SHELL,
    ]);
    const path = started.worktree?.path as string;
    await home.ok(["stop", "--timeout", "1s", "adrift"]);
    renameSync(moving, join(realpathSync(work.path), "moved"));
    const refused = await home.run(["rm", "adrift"]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /^error: cannot remove the worktree .*: not a git repository: .*; its repository is no longer at .*moving \(moved or deleted\), so git cannot tell what it holds: remove it anyway with: claude-sessions rm --force adrift\n$/,
    );
    assert.ok(existsSync(path), "nothing was deleted");
    await home.ok(["rm", "--force", "adrift"]);
    assert.ok(!existsSync(path));
    assert.equal((await home.run(["show", "adrift"])).code, 1, "the session is gone");
  });

  it("start --worktree refuses what it cannot do, in one line: no repository, a branch that exists, a bad base, --base alone", async () => {
    const outside = await home.run(["start", "--worktree", "x1", work.path, ...SHELL]);
    assert.equal(outside.code, 1);
    assert.match(outside.stderr, /^error: .* is not in a git repository .*; --worktree needs one/);
    const taken = await home.run(["start", "--worktree", "main", repo, ...SHELL]);
    assert.equal(taken.code, 1);
    assert.match(taken.stderr, /^error: the branch 'main' already exists in .*; name a new one/);
    const base = await home.run([
      "start",
      "--worktree",
      "x2",
      "--base",
      "no-such-ref",
      repo,
      ...SHELL,
    ]);
    assert.equal(base.code, 1);
    assert.match(base.stderr, /^error: 'no-such-ref' is not a commit in /);
    const badName = await home.run(["start", "--worktree", "bad..name", repo, ...SHELL]);
    assert.equal(badName.code, 1);
    assert.equal(
      badName.stderr,
      "error: 'bad..name' is not a valid branch name (see git check-ref-format); name another (--worktree <branch>)\n",
    );
    const alone = await home.run(["start", "--base", "main", repo, ...SHELL]);
    assert.equal(alone.code, 2);
    for (const result of [outside, taken, base])
      assert.equal(result.stderr.split("\n").length, 2, result.stderr);
    assert.doesNotMatch(git(repo, "branch"), /x1|x2/, "nothing was made");
  });

  it("labels: list -l selects, send -l broadcasts to exactly those sessions, label changes them", async () => {
    const a1 = await home.json<SessionJson>([
      "start",
      "--name",
      "a1",
      "-l",
      "team=a",
      work.path,
      ...SHELL,
    ]);
    const a2 = await home.json<SessionJson>([
      "start",
      "--name",
      "a2",
      "--label",
      "team=a",
      "-l",
      "role=review",
      work.path,
      ...SHELL,
    ]);
    const b1 = await home.json<SessionJson>([
      "start",
      "--name",
      "b1",
      "-l",
      "team=b",
      work.path,
      ...SHELL,
    ]);
    assert.deepEqual(a2.labels, { team: "a", role: "review" });

    const names = async (...selector: string[]) =>
      (await home.json<SessionJson[]>(["list", ...selector.flatMap((s) => ["-l", s])]))
        .map((s) => s.name)
        .sort();
    assert.deepEqual(await names("team=a"), ["a1", "a2"]);
    assert.deepEqual(await names("team=a", "role=review"), ["a2"], "several -l must all hold");
    assert.deepEqual(await names("team!=a", "team"), ["b1"]);
    assert.deepEqual(await names("!role", "team=a"), ["a1"]);

    const sent = await home.ok(["send", "-l", "team=a", "echo hi-from-$((6*7))", "--enter"]);
    assert.equal(sent.split("\n").filter(Boolean).length, 2, sent);
    for (const session of [a1, a2])
      await waitFor(`${session.name} to get the broadcast`, () =>
        logText(session).includes("hi-from-42"),
      );
    await home.ok(["send", "b1", "--enter", "echo marker-b"]);
    await waitFor("b1 to answer", () => logText(b1).includes("marker-b\r\n"));
    assert.ok(!logText(b1).includes("hi-from"), "b1 is not in team a");
    const nobody = await home.run(["send", "-l", "team=nobody", "echo x", "--enter"]);
    assert.equal(nobody.code, 1);
    assert.equal(nobody.stderr, "error: no running session matches -l team=nobody\n");
    const both = await home.run(["send", "-l", "team=a", "a1", "echo x"]);
    assert.equal(both.code, 2, "with -l the only positional is the text");

    assert.match(
      await home.ok(["label", "a1", "team=b", "tier=1"]),
      /a1 \([0-9a-f]{8}\): team=b, tier=1\n$/,
    );
    assert.match(await home.ok(["label", "a1", "tier-"]), /: team=b\n$/);
    assert.deepEqual(await names("team=b"), ["a1", "b1"]);
    const bad = await home.run(["label", "a1", "-bad=1"]);
    assert.equal(bad.code, 2, bad.stderr);
    const invalid = await home.run(["label", "a1", "te am=x"]);
    assert.equal(invalid.code, 1);
    assert.match(invalid.stderr, /^error: label key 'te am' is not valid: /);
    const selector = await home.run(["list", "-l", "team in (a)"]);
    assert.equal(selector.code, 1);
    assert.match(selector.stderr, /^error: label selector 'team in \(a\)': cannot read/);

    // wait and stop take the selector too.
    await home.ok(["wait", "-l", "team=b", "--for", "idle", "--timeout", "20s"]);
    const stopped = await home.ok(["stop", "-l", "team=b", "--timeout", "1s"]);
    assert.equal(stopped.split("\n").filter(Boolean).length, 2, stopped);
    assert.deepEqual((await home.json<SessionJson[]>(["list"])).map((s) => s.name).sort(), ["a2"]);
    await home.ok(["rm", "-l", "team=b"]);
    assert.deepEqual(await home.json<SessionJson[]>(["list", "--all", "-l", "team=b"]), []);
    await home.ok(["stop", "--timeout", "1s", "a2"]);
  });

  it("a program inside a session reaches its siblings with the CLI: list of its group, send to another", async () => {
    // `claude-sessions` on the session's PATH, as an installed CLI would be.
    const bin = join(work.path, "bin");
    mkdirSync(bin, { recursive: true });
    const shim = join(bin, "claude-sessions");
    writeFileSync(shim, `#!/bin/sh\nexec '${process.execPath}' '${cliBin}' "$@"\n`);
    chmodSync(shim, 0o755);
    const env = { PATH: `${bin}:${dirname(process.execPath)}:${process.env.PATH}` };
    const caller = await home.json<SessionJson>(
      ["start", "--name", "caller", "-l", "crew=x", work.path, ...SHELL],
      { env },
    );
    const callee = await home.json<SessionJson>(
      ["start", "--name", "callee", "-l", "crew=x", work.path, ...SHELL],
      { env },
    );
    await home.ok([
      "send",
      "caller",
      "--enter",
      'echo "me=$CLAUDE_SESSIONS_ID"; claude-sessions list -l crew=x; claude-sessions send callee --enter "echo got-it-from-$CLAUDE_SESSIONS_ID"',
    ]);
    await waitFor("the callee to run what the caller sent", () =>
      logText(callee).includes(`got-it-from-${caller.id}\r\n`),
    );
    const text = logText(caller);
    assert.ok(text.includes(`me=${caller.id}`), text);
    assert.match(text, /\r\n[0-9a-f]{8} +caller +running /, "its group, listed from inside");
    assert.match(text, /\r\n[0-9a-f]{8} +callee +running /);
    await home.ok(["stop", "-l", "crew=x", "--timeout", "1s"]);
  });
});
