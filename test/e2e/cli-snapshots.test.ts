/**
 * Fork and snapshots through the CLI, on a real repository with a bash session in a worktree:
 * a snapshot records every file (committed, staged, modified, untracked, deleted) without
 * touching the worktree; a restore brings exactly them back in a new worktree, even after
 * `git gc --prune=now`; the snapshot's screen is shown until the restored program draws; a
 * fork carries the source's state over now; snapshots outlive their session until
 * `snapshot rm`, and a daemon restart.
 */
import assert from "node:assert/strict";
import {
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { claudeProjectDir } from "../../daemon/session/claude-transcript.js";
import { type CliHome, cliHome } from "../helpers/cli-home.js";
import { git, makeRepository } from "../helpers/git.js";
import { readLog } from "../helpers/log-reader.js";
import { tempDir } from "../helpers/temp-home.js";
import { waitFor } from "../helpers/wait.js";

interface SessionJson {
  id: string;
  name: string;
  working_dir: string;
  command: string[];
  last_seq: number;
  log_path: string;
  labels: Record<string, string>;
  worktree: { path: string; branch: string; base_commit: string } | null;
  origin: {
    session_id: string;
    snapshot_id: string | null;
    conversation_id: string | null;
    commit: string | null;
  } | null;
}

interface SnapshotJson {
  id: string;
  name: string;
  conversation_id: string | null;
  session_id: string;
  session_name: string;
  seq: number;
  working_dir: string;
  screen_text: string;
  labels: Record<string, string>;
  files: {
    repository: string;
    commit: string;
    ref: string;
    head: string;
    branch: string | null;
    relative_dir: string;
    changed_files: string[];
    changed_file_count: number;
    base: string;
    uncommitted: boolean;
  } | null;
}

const SHELL = ["--", "bash", "--norc", "--noprofile", "-i"];

/** What a worktree holds: git's view of it, and every file's content (.git aside). */
function stateOf(dir: string): { status: string; staged: string; head: string; files: string } {
  return {
    status: git(dir, "status", "--porcelain=v1", "--untracked-files=all"),
    staged: git(dir, "diff", "--cached", "--name-status"),
    head: git(dir, "rev-parse", "HEAD").trim(),
    files: git(dir, "ls-files", "--cached", "--others", "--exclude-standard", "-z")
      .split("\0")
      .filter((file) => file !== "" && existsSync(join(dir, file)))
      .sort()
      .map((file) => `${file}: ${readFileSync(join(dir, file), "utf8")}`)
      .join("\n"),
  };
}

describe("e2e: fork and snapshots", () => {
  let home: CliHome;
  let work: ReturnType<typeof tempDir>;
  let repo: string;
  let source: SessionJson;
  let snapshot: SnapshotJson;
  /** The source worktree when the snapshot was taken. */
  let recorded: ReturnType<typeof stateOf>;

  before(async () => {
    home = cliHome();
    work = tempDir("css-repo-");
    repo = makeRepository(join(realpathSync(work.path), "shop"), {
      "src/app.ts": "export const version = 1;\n",
      "README.md": "# shop\n",
      ".gitignore": ".env\n",
    });
    await home.ok(["daemon"]);
  });

  after(async () => {
    await home.cleanup();
    work.remove();
  });

  const capture = async (id: string) => (await home.ok(["capture", id])).trimEnd();

  it("snapshot records every file of a worktree as a commit under our ref, touching nothing", async () => {
    source = await home.json<SessionJson>([
      "start",
      "--worktree",
      "--name",
      "src",
      "-l",
      "team=api",
      join(repo, "src"),
      ...SHELL,
    ]);
    const path = source.worktree?.path as string;
    // A commit of its own, then one change of each kind on top.
    writeFileSync(join(path, "src", "app.ts"), "export const version = 2;\n");
    git(path, "commit", "-q", "-am", "version 2");
    writeFileSync(join(path, "src", "app.ts"), "export const version = 3; // not committed\n");
    writeFileSync(join(path, "src", "added.ts"), "export const added = true;\n");
    git(path, "add", "src/added.ts");
    writeFileSync(join(path, "notes.md"), "untracked notes\n");
    rmSync(join(path, "README.md"));
    writeFileSync(join(path, ".env"), "SECRET=ignored\n");
    await home.ok(["send", "src", "--enter", "echo marker-$((6*7))"]);
    await waitFor("the command's output on the screen", async () =>
      (await capture("src")).includes("marker-42"),
    );
    recorded = stateOf(path);
    const stashes = git(path, "stash", "list");

    snapshot = await home.json<SnapshotJson>(["snapshot", "src", "--name", "s1"]);
    assert.equal(snapshot.name, "s1");
    assert.equal(snapshot.session_id, source.id);
    assert.equal(snapshot.session_name, "src");
    assert.deepEqual(snapshot.labels, { team: "api" });
    // Its seq is of the output it shows: at least the record that printed the marker.
    const printed = readLog(source.log_path).records.find(
      (record) => record.kind === "output" && record.data.includes("marker-42"),
    );
    assert.ok(printed, "the marker is in the log");
    assert.ok(snapshot.seq >= printed.seq, `seq ${snapshot.seq} < ${printed.seq}`);
    assert.ok(snapshot.seq <= (await home.json<SessionJson>(["show", "src"])).last_seq);
    assert.match(snapshot.screen_text, /marker-42/);
    const files = snapshot.files;
    assert.ok(files, "the files were recorded");
    assert.equal(files.repository, repo);
    assert.equal(files.ref, `refs/claude-sessions/snapshots/${snapshot.id}`);
    assert.equal(files.head, recorded.head);
    assert.equal(files.branch, "claude-sessions/src");
    assert.equal(files.relative_dir, "src", "where the session runs in the worktree");
    assert.equal(files.base, source.worktree?.base_commit);
    assert.equal(files.uncommitted, true);
    assert.deepEqual(files.changed_files, ["README.md", "notes.md", "src/added.ts", "src/app.ts"]);
    assert.equal(git(repo, "rev-parse", files.ref).trim(), files.commit);
    assert.equal(git(repo, "rev-parse", `${files.commit}^1`).trim(), recorded.head);
    assert.equal(
      git(repo, "show", `${files.commit}:src/app.ts`),
      "export const version = 3; // not committed\n",
    );
    assert.equal(git(repo, "show", `${files.commit}:notes.md`), "untracked notes\n");
    assert.throws(
      () => git(repo, "show", `${files.commit}:.env`),
      "ignored files are not recorded",
    );

    assert.deepEqual(stateOf(path), recorded, "the worktree and its index are as they were");
    assert.equal(git(path, "stash", "list"), stashes, "no stash was made");
  });

  it("restore makes a new worktree with exactly the snapshot's files, committed and not; the source is untouched; git gc keeps the snapshot", async () => {
    const path = source.worktree?.path as string;
    // The source goes on: another commit, more changes.
    writeFileSync(join(path, "notes.md"), "notes, later\n");
    git(path, "add", "notes.md");
    git(path, "commit", "-q", "-m", "notes");
    writeFileSync(join(path, "src", "app.ts"), "export const version = 4;\n");
    writeFileSync(join(path, "later.txt"), "after the snapshot\n");
    const sourceNow = stateOf(path);

    git(repo, "gc", "--quiet", "--prune=now");
    assert.equal(git(repo, "cat-file", "-t", snapshot.files?.commit as string).trim(), "commit");

    const restored = await home.json<SessionJson>(["restore", "s1", "--name", "back"]);
    assert.equal(restored.origin?.snapshot_id, snapshot.id);
    assert.equal(restored.origin?.session_id, source.id);
    assert.equal(restored.origin?.commit, snapshot.files?.commit);
    assert.deepEqual(restored.command, source.command, "the same command");
    assert.deepEqual(restored.labels, { team: "api" }, "the snapshot's labels");
    const worktree = restored.worktree;
    assert.ok(worktree);
    assert.equal(worktree.branch, "claude-sessions/back");
    assert.equal(worktree.base_commit, recorded.head);
    assert.notEqual(worktree.path, path);
    assert.deepEqual(stateOf(worktree.path), recorded, "exactly the snapshot's files and index");
    assert.ok(!existsSync(join(worktree.path, "later.txt")));
    assert.ok(!existsSync(join(worktree.path, ".env")), "ignored files were not recorded");
    assert.deepEqual(stateOf(path), sourceNow, "the source worktree is untouched");

    assert.equal(restored.working_dir, join(worktree.path, "src"), "the same place in it");
    await home.ok(["send", "back", "--enter", "pwd; cat app.ts"]);
    await waitFor("the restored shell to run in its worktree", async () =>
      (await capture("back")).includes("version = 3; // not committed"),
    );
    assert.match(await capture("back"), new RegExp(`^${worktree.path}/src$`, "m"));
  });

  it("a restored session shows the snapshot's screen until its program draws", async () => {
    const script = join(work.path, "quiet.sh");
    writeFileSync(script, 'read line; echo "got $line"; exec cat\n');
    await home.json<SessionJson>(["start", "--name", "quiet", repo, "--", "sh", script]);
    await home.ok(["send", "quiet", "--enter", "first"]);
    await waitFor("the first answer", async () => (await capture("quiet")).includes("got first"));
    const taken = await home.json<SnapshotJson>(["snapshot", "quiet"]);
    assert.equal(taken.name, "");
    assert.deepEqual(taken.files?.changed_files, [], "the repository's own tree is clean");
    assert.equal(taken.files?.uncommitted, false);

    const restored = await home.json<SessionJson>([
      "restore",
      taken.id.slice(0, 8),
      "--name",
      "quiet2",
    ]);
    // The program reads before it writes anything: the screen is the snapshot's.
    assert.equal(await capture("quiet2"), "first\ngot first");
    assert.equal(restored.working_dir, restored.worktree?.path);
    await home.ok(["send", "quiet2", "--enter", "second"]);
    await waitFor("the program's own screen", async () => {
      const text = await capture("quiet2");
      return text === "second\ngot second" ? text : undefined;
    });
    assert.equal(await capture("quiet"), "first\ngot first", "the source's screen is its own");
  });

  it("fork: the same command in a new worktree at the source's HEAD, its uncommitted changes carried over; the source untouched", async () => {
    const path = source.worktree?.path as string;
    const before = stateOf(path);
    const snapshotRefs = () => git(repo, "for-each-ref", "refs/claude-sessions/snapshots");
    const snapshotsBefore = snapshotRefs();
    const fork = await home.json<SessionJson>(["fork", "src", "--name", "f1", "-l", "role=try"]);
    assert.equal(fork.origin?.session_id, source.id);
    assert.equal(fork.origin?.snapshot_id, null);
    assert.equal(fork.origin?.conversation_id, null, "bash has no conversation");
    assert.deepEqual(fork.command, source.command);
    assert.deepEqual(fork.labels, { role: "try" });
    assert.equal(fork.worktree?.branch, "claude-sessions/f1");
    assert.equal(fork.working_dir, join(fork.worktree?.path as string, "src"), "the same place");
    assert.deepEqual(stateOf(fork.worktree?.path as string), before);
    assert.deepEqual(stateOf(path), before, "the source is untouched");
    assert.equal(snapshotRefs(), snapshotsBefore, "a fork makes no snapshot");
    const details = await home.ok(["show", "f1"]);
    assert.match(details, new RegExp(`^Forked from: +session ${source.id}$`, "m"));
    const commit = fork.origin?.commit as string;
    assert.match(details, new RegExp(`^Branched off: +files at ${commit.slice(0, 12)}$`, "m"));

    // The commit it started from outlives git gc, and what the fork does is compared with it
    // (every file staged, so the files it carried over untracked are compared too).
    const ref = `refs/claude-sessions/origins/${fork.id}`;
    git(repo, "gc", "--quiet", "--prune=now");
    assert.equal(git(repo, "rev-parse", ref).trim(), commit);
    const forkPath = fork.worktree?.path as string;
    const doneSince = () => {
      git(forkPath, "add", "--all");
      return git(forkPath, "diff", "--cached", "--name-only", ref);
    };
    assert.equal(doneSince(), "", "nothing done yet");
    writeFileSync(join(forkPath, "src", "app.ts"), "export const version = 5;\n");
    assert.equal(doneSince(), "src/app.ts\n");
    // It goes with the session; the restored session's stays.
    await home.ok(["stop", "--timeout", "1s", "f1"]);
    await home.ok(["rm", "--force", "f1"]);
    assert.equal(git(repo, "for-each-ref", ref), "", "the fork's ref went with it");
    const back = await home.json<SessionJson>(["show", "back"]);
    assert.equal(
      git(repo, "rev-parse", `refs/claude-sessions/origins/${back.id}`).trim(),
      back.origin?.commit,
    );
  });

  it("snapshots lists them with their figures; a removed session keeps its snapshots, across a daemon restart, until snapshot rm", async () => {
    const table = (await home.ok(["snapshots"])).trimEnd().split("\n");
    assert.match(table[0] ?? "", /^ID +NAME +SESSION +TAKEN +SEQ +COMMIT +CHANGED$/);
    const row = table.find((line) => line.startsWith(snapshot.id.slice(0, 8))) ?? "";
    assert.match(
      row,
      new RegExp(
        `^${snapshot.id.slice(0, 8)} +s1 +src +\\d+[smhd] +${snapshot.seq} +${snapshot.files?.commit.slice(0, 12)} +4 files$`,
      ),
    );
    assert.equal(table.length, 3, table.join("\n"));
    const ofSource = await home.json<SnapshotJson[]>(["snapshots", "src"]);
    assert.deepEqual(
      ofSource.map((one) => one.id),
      [snapshot.id],
    );
    assert.equal(ofSource[0]?.screen_text, "", "a list leaves the screens out");
    assert.equal(ofSource[0]?.files?.changed_file_count, 4);
    const one = await home.json<SnapshotJson>(["snapshot", "show", "s1"]);
    assert.match(one.screen_text, /marker-42/);
    const details = await home.ok(["snapshot", "show", "s1"]);
    assert.match(
      details,
      /^Changed: +4 files since [0-9a-f]{12}: README\.md, notes\.md, src\/added\.ts, src\/app\.ts$/m,
    );
    assert.match(details, /marker-42/, "the screen");
    const completed = (await home.ok(["__complete", "--", "restore", "s"])).split("\n");
    assert.deepEqual(completed.filter(Boolean), ["s1"], "restore completes snapshot names");

    await home.ok(["stop", "--timeout", "1s", "src"]);
    await home.ok(["rm", "--force", "src"]);
    await home.ok(["stop-daemon"]);
    await home.ok(["daemon"]);
    const kept = await home.json<SnapshotJson[]>(["snapshots", source.id]);
    assert.deepEqual(
      kept.map((one) => one.name),
      ["s1"],
      "kept after its session is removed and the daemon restarted",
    );
    const again = await home.json<SessionJson>(["restore", "s1", "--name", "back-again"]);
    assert.deepEqual(stateOf(again.worktree?.path as string), recorded);

    assert.match(await home.ok(["snapshot", "rm", "s1"]), /^🗑️ {2}Snapshot removed: /);
    assert.equal(
      git(repo, "for-each-ref", `refs/claude-sessions/snapshots/${snapshot.id}`),
      "",
      "the ref is gone",
    );
    assert.ok(!existsSync(join(home.path, "snapshots", snapshot.id)));
    const gone = await home.run(["snapshot", "show", "s1"]);
    assert.equal(gone.code, 1);
    assert.equal(
      gone.stderr,
      "error: no snapshot matches 's1' (an id prefix needs at least 4 characters)\n",
    );
    assert.equal((await home.json<SnapshotJson[]>(["snapshots"])).length, 1);
  });

  it("refuses what it cannot do, in one line: an unknown session or snapshot, a name in use, a branch that exists, a repository with no commit", async () => {
    const unknown = await home.run(["snapshot", "nope"]);
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr, "error: no session matches 'nope'\n");
    const noSnapshot = await home.run(["restore", "nope"]);
    assert.equal(noSnapshot.code, 1);
    assert.equal(noSnapshot.stderr, "error: no snapshot matches 'nope'\n");

    await home.ok(["snapshot", "quiet", "--name", "taken"]);
    const taken = await home.run(["snapshot", "quiet", "--name", "taken"]);
    assert.equal(taken.code, 1);
    assert.match(
      taken.stderr,
      /^error: the name 'taken' is already used by snapshot [0-9a-f-]{36}; /,
    );
    const branches = git(repo, "branch");
    const worktrees = git(repo, "worktree", "list");
    const branch = await home.run(["fork", "quiet", "--branch", "main"]);
    assert.equal(branch.code, 1);
    assert.match(
      branch.stderr,
      /^error: the branch 'main' already exists in .*\(--branch <branch>\)\n$/,
    );
    const name = await home.run(["fork", "quiet", "--name", "back"]);
    assert.equal(name.code, 1);
    assert.match(name.stderr, /^error: the name 'back' is already used by session /);
    assert.equal(git(repo, "branch"), branches, "no branch was made");
    assert.equal(git(repo, "worktree", "list"), worktrees, "no worktree was made");

    const empty = join(work.path, "empty");
    mkdirSync(empty);
    git(empty, "init", "-q");
    await home.json<SessionJson>(["start", "--name", "fresh", empty, ...SHELL]);
    const noCommit = await home.run(["snapshot", "fresh"]);
    assert.equal(noCommit.code, 1);
    assert.match(
      noCommit.stderr,
      /^error: the repository at .* has no commit yet, .*; commit once, then try again\n$/,
    );
    for (const result of [unknown, noSnapshot, taken, branch, name, noCommit])
      assert.equal(result.stderr.split("\n").length, 2, result.stderr);
  });

  it("a restore whose program cannot run in the new worktree leaves no worktree and no branch behind", async () => {
    // The program is a script the repository ignores: the snapshot does not hold it.
    const tools = makeRepository(join(realpathSync(work.path), "tools"), {
      ".gitignore": "run.sh\n",
    });
    writeFileSync(join(tools, "run.sh"), "#!/bin/sh\nexec cat\n", { mode: 0o755 });
    await home.json<SessionJson>(["start", "--name", "script", tools, "--", "./run.sh"]);
    const taken = await home.json<SnapshotJson>(["snapshot", "script"]);
    const branches = git(tools, "branch");
    const worktrees = git(tools, "worktree", "list");
    const refused = await home.run(["restore", taken.id, "--name", "script-back"]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^error: command not found: \.\/run\.sh; /);
    assert.equal(git(tools, "branch"), branches, "the branch made for it is gone");
    assert.equal(git(tools, "worktree", "list"), worktrees, "the worktree made for it is gone");
    assert.equal(git(tools, "for-each-ref", "refs/claude-sessions/origins"), "", "no ref is kept");
    // Nothing is in the way of trying again once the program is there.
    git(tools, "add", "--force", "run.sh");
    git(tools, "commit", "-q", "-m", "the script");
    const again = await home.json<SnapshotJson>(["snapshot", "script"]);
    const restored = await home.json<SessionJson>(["restore", again.id, "--name", "script-back"]);
    assert.equal(restored.worktree?.branch, "claude-sessions/script-back");
  });

  it("refuses in one line what git cannot record, and loses nothing: a conflict, a repository git will not use, a directory that is gone", async () => {
    const refusal = async (args: string[], pattern: RegExp) => {
      const result = await home.run(args);
      assert.equal(result.code, 1, result.stdout);
      assert.match(result.stderr, pattern);
      assert.equal(result.stderr.split("\n").length, 2, result.stderr);
    };
    // A merge stopped at a conflict: the files and the way out, and the merge is left as it was.
    const merging = makeRepository(join(realpathSync(work.path), "merging"), { "f.txt": "a\n" });
    git(merging, "checkout", "-q", "-b", "other");
    writeFileSync(join(merging, "f.txt"), "b\n");
    git(merging, "commit", "-q", "-am", "b");
    git(merging, "checkout", "-q", "-");
    writeFileSync(join(merging, "f.txt"), "c\n");
    git(merging, "commit", "-q", "-am", "c");
    assert.throws(() => git(merging, "merge", "-q", "other"));
    const conflicted = git(merging, "status", "--porcelain=v1");
    await home.json<SessionJson>(["start", "--name", "merging", merging, ...SHELL]);
    const unresolved =
      /^error: .*merging has unresolved conflicts \(f\.txt\); resolve them and git add them/;
    await refusal(["snapshot", "merging"], unresolved);
    await refusal(["fork", "merging"], unresolved);
    assert.equal(git(merging, "status", "--porcelain=v1"), conflicted, "the merge is as it was");
    assert.equal(git(merging, "for-each-ref", "refs/claude-sessions"), "");

    // A worktree whose repository was moved away: git's reason, not "outside git" (a fork
    // would otherwise share the directory with its source).
    const moving = makeRepository(join(realpathSync(work.path), "moving"), { "g.txt": "g\n" });
    const linked = join(realpathSync(work.path), "linked");
    git(moving, "worktree", "add", "-q", linked);
    await home.json<SessionJson>(["start", "--name", "linked", linked, ...SHELL]);
    const sessionsBefore = (await home.json<SessionJson[]>(["list"])).length;
    const moved = join(realpathSync(work.path), "moved");
    renameSync(moving, moved);
    const unusable =
      /^error: git cannot use .*linked: not a git repository: .*moving\/\.git\/worktrees\/linked\n$/;
    await refusal(["fork", "linked"], unusable);
    await refusal(["snapshot", "linked"], unusable);
    assert.equal((await home.json<SessionJson[]>(["list"])).length, sessionsBefore, "no fork");

    // A directory deleted under its session: a snapshot could not be restored.
    const doomed = join(work.path, "doomed");
    mkdirSync(doomed);
    await home.json<SessionJson>(["start", "--name", "doomed", doomed, ...SHELL]);
    const early = await home.json<SnapshotJson>(["snapshot", "doomed", "--name", "early"]);
    await home.ok(["stop", "--timeout", "1s", "doomed"]);
    rmSync(doomed, { recursive: true });
    const gone = /^error: session doomed's directory .*doomed is gone, with the files it had; /;
    await refusal(["snapshot", "doomed"], gone);
    await refusal(["fork", "doomed"], gone);
    // A snapshot whose files were deleted by hand can still be removed.
    rmSync(join(home.path, "snapshots", early.id), { recursive: true });
    assert.match(await home.ok(["snapshot", "rm", "early"]), /^🗑️ {2}Snapshot removed: /);
    assert.equal(
      (await home.json<SnapshotJson[]>(["snapshots"])).some((one) => one.id === early.id),
      false,
    );
  });

  it("a restore keeps the recorded copy of a file .worktreeinclude names, not the one there now", async () => {
    const including = makeRepository(join(realpathSync(work.path), "including"), {
      ".worktreeinclude": "config.local\n",
    });
    writeFileSync(join(including, "config.local"), "conf=old\n");
    await home.json<SessionJson>(["start", "--name", "including", including, ...SHELL]);
    const taken = await home.json<SnapshotJson>(["snapshot", "including"]);
    writeFileSync(join(including, "config.local"), "conf=new\n");
    const restored = await home.json<SessionJson>(["restore", taken.id]);
    const path = restored.worktree?.path as string;
    assert.equal(readFileSync(join(path, "config.local"), "utf8"), "conf=old\n");
    // A fork takes the file as it is now, which is also what it carries over.
    const fork = await home.json<SessionJson>(["fork", "including"]);
    const forkPath = fork.worktree?.path as string;
    assert.equal(readFileSync(join(forkPath, "config.local"), "utf8"), "conf=new\n");
  });

  it("a fork whose record cannot be saved is not started, and leaves no worktree, branch or ref behind", async () => {
    const saving = makeRepository(join(realpathSync(work.path), "saving"), { "h.txt": "h\n" });
    writeFileSync(join(saving, "h.txt"), "changed\n");
    await home.json<SessionJson>(["start", "--name", "saving", saving, ...SHELL]);
    const branches = git(saving, "branch");
    const worktrees = git(saving, "worktree", "list");
    // A directory where state.json's next copy is written: every write of it fails.
    const blocker = join(home.path, "state.json.tmp");
    mkdirSync(join(blocker, "in-the-way"), { recursive: true });
    try {
      const refused = await home.run(["fork", "saving", "--name", "saving-2"]);
      assert.equal(refused.code, 1, refused.stdout);
      assert.match(refused.stderr, /the session was not started: cannot write .*state\.json/);
      assert.equal(git(saving, "branch"), branches, "the branch made for it is gone");
      assert.equal(git(saving, "worktree", "list"), worktrees, "the worktree made for it is gone");
      assert.equal(git(saving, "for-each-ref", "refs/claude-sessions"), "", "no ref is kept");
    } finally {
      rmSync(blocker, { recursive: true, force: true });
    }
    const again = await home.json<SessionJson>(["fork", "saving", "--name", "saving-2"]);
    assert.equal(again.worktree?.branch, "claude-sessions/saving-2");
    assert.equal(readFileSync(join(again.working_dir, "h.txt"), "utf8"), "changed\n");
  });

  it("a fork of a fork that was not prompted yet branches off the same conversation", async () => {
    const dir = join(realpathSync(work.path), "talk");
    const bin = join(realpathSync(work.path), "bin");
    mkdirSync(dir);
    mkdirSync(bin);
    // A program named claude is run as Claude Code; this one only reads its terminal.
    writeFileSync(join(bin, "claude"), "#!/bin/sh\nexec cat\n", { mode: 0o755 });
    const env = { CLAUDE_CONFIG_DIR: join(realpathSync(work.path), "claude-config") };
    const first = await home.json<SessionJson>(
      ["start", "--name", "talk", dir, "--", join(bin, "claude")],
      { env },
    );
    // The transcript Claude Code writes at the first prompt.
    const projectDir = claudeProjectDir(dir, env);
    mkdirSync(projectDir, { recursive: true });
    writeFileSync(join(projectDir, `${first.id}.jsonl`), '{"type":"user"}\n');
    const resumed = (session: SessionJson) =>
      session.command[session.command.indexOf("--resume") + 1];

    const second = await home.json<SessionJson>(["fork", "talk", "--name", "talk-2"], { env });
    assert.equal(second.origin?.conversation_id, first.id);
    assert.equal(resumed(second), first.id);
    const third = await home.json<SessionJson>(["fork", "talk-2", "--name", "talk-3"], { env });
    assert.equal(third.origin?.conversation_id, first.id, "talk-2 has said nothing of its own");
    assert.equal(resumed(third), first.id);
    assert.ok(third.command.includes("--fork-session"), third.command.join(" "));
    const taken = await home.json<SnapshotJson>(["snapshot", "talk-2"], { env });
    assert.equal(taken.conversation_id, first.id);
  });

  it("outside git, a snapshot holds no files and a restore or fork runs in the same directory", async () => {
    const plain = join(work.path, "plain");
    mkdirSync(plain);
    await home.json<SessionJson>(["start", "--name", "plain", plain, ...SHELL]);
    const taken = await home.json<SnapshotJson>(["snapshot", "plain"]);
    assert.equal(taken.files, null);
    assert.match(
      await home.ok(["snapshot", "show", taken.id]),
      /^Files: +- \(not in a git repository\)$/m,
    );
    const restored = await home.json<SessionJson>(["restore", taken.id]);
    assert.equal(restored.working_dir, realpathSync(plain));
    assert.equal(restored.worktree, null);
    const fork = await home.json<SessionJson>(["fork", "plain"]);
    assert.equal(fork.working_dir, realpathSync(plain));
    assert.equal(fork.worktree, null);
  });
});
