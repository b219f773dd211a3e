/**
 * The state of a session's files as one git commit, as `git stash create` makes one but with
 * untracked files too, and without touching the working tree or the index: git works on a
 * copy of the index. The commit's tree is the working tree (less what .gitignore ignores), its
 * first parent HEAD, its second a commit of the index as it was, so a restore puts staged
 * changes back in the index and the rest in the working tree.
 */
import { randomUUID } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, realpathSync, rmSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import { type GitResult, git, gitOk, reason } from "./git.js";
import { SessionError } from "./session-error.js";

/** Where a directory is in git: its working tree's top and the repository's main working tree. */
export interface GitPlace {
  /** The top of the working tree the directory is in (a linked worktree's own). */
  top: string;
  /** The repository's main working tree (for a bare repository, the repository itself). */
  repository: string;
  /** The directory, relative to `top`. */
  relativeDir: string;
}

/** A working tree's state, recorded. */
export interface WorktreeState extends GitPlace {
  /** HEAD then. */
  head: string;
  /** The branch checked out then; "" on a detached HEAD. */
  branch: string;
  /** The commit holding every file (see the module's comment). */
  commit: string;
  /** Whether anything was not committed. */
  uncommitted: boolean;
}

/** Who our commits are by: they are the daemon's records, not anyone's work. */
const IDENTITY = {
  GIT_AUTHOR_NAME: "claude-sessions",
  GIT_AUTHOR_EMAIL: "claude-sessions@localhost",
  GIT_COMMITTER_NAME: "claude-sessions",
  GIT_COMMITTER_EMAIL: "claude-sessions@localhost",
};

/**
 * Where `dir` is in git; undefined if it is in no repository (or git is not installed). A
 * repository git refuses to use (owned by another user, a worktree whose repository was moved)
 * is an error, not "outside git": a fork would otherwise share the directory with its source.
 */
export async function gitPlace(dir: string): Promise<GitPlace | undefined> {
  let result: Awaited<ReturnType<typeof git>>;
  try {
    result = await git(dir, [
      "rev-parse",
      "--path-format=absolute",
      "--show-toplevel",
      "--git-common-dir",
    ]);
  } catch {
    return undefined;
  }
  if (result.code !== 0) {
    // In no repository, or in one with no working tree (a bare repository, a .git directory).
    if (/not a git repository \(or any|must be run in a work tree/.test(result.stderr))
      return undefined;
    throw new SessionError("failed-precondition", `git cannot use ${dir}: ${reason(result)}`);
  }
  const [top, commonDir] = result.stdout.trim().split("\n") as [string, string];
  if (top === undefined || commonDir === undefined) return undefined;
  const realTop = realpathSync(top);
  const repository =
    basename(commonDir) === ".git" ? realpathSync(dirname(commonDir)) : realpathSync(commonDir);
  return { top: realTop, repository, relativeDir: relative(realTop, realpathSync(dir)) };
}

/**
 * Records the state of the working tree `dir` is in as a commit (see the module's comment);
 * undefined outside a repository. A repository with no commit yet is refused: there is nothing
 * to restore its files onto. `scratchDir` holds the index copy while git works.
 */
export async function captureWorktreeState(
  dir: string,
  message: string,
  scratchDir: string,
): Promise<WorktreeState | undefined> {
  const place = await gitPlace(dir);
  if (place === undefined) return undefined;
  const { top } = place;
  const head = await git(top, ["rev-parse", "HEAD^{commit}", "HEAD^{tree}"]);
  if (head.code !== 0) {
    throw new SessionError(
      "failed-precondition",
      `the repository at ${top} has no commit yet, so its files cannot be recorded; commit once, then try again`,
    );
  }
  const [headCommit, headTree] = head.stdout.trim().split("\n") as [string, string];
  const symbolic = await git(top, ["symbolic-ref", "--quiet", "--short", "HEAD"]);
  const branch = symbolic.code === 0 ? symbolic.stdout.trim() : "";
  const indexFile = (
    await gitOk(
      top,
      ["rev-parse", "--path-format=absolute", "--git-path", "index"],
      `cannot find the index of ${top}`,
    )
  ).trim();
  mkdirSync(scratchDir, { recursive: true, mode: 0o700 });
  const scratch = join(scratchDir, `index-${randomUUID()}`);
  const env = { ...IDENTITY, GIT_INDEX_FILE: scratch };
  const what = `cannot record the files of ${top}`;
  try {
    if (existsSync(indexFile)) copyFileSync(indexFile, scratch);
    const written = await git(top, ["write-tree"], env);
    if (written.code !== 0) throw await indexRefusal(top, what, written);
    const indexTree = written.stdout.trim();
    await gitOk(top, ["add", "--all", "--", "."], what, env);
    const tree = (await gitOk(top, ["write-tree"], what, env)).trim();
    const on = branch === "" ? `(no branch) ${headCommit.slice(0, 12)}` : branch;
    const indexCommit = (
      await gitOk(
        top,
        ["commit-tree", indexTree, "-p", headCommit, "-m", `index on ${on}: ${message}`],
        what,
        env,
      )
    ).trim();
    const commit = (
      await gitOk(
        top,
        ["commit-tree", tree, "-p", headCommit, "-p", indexCommit, "-m", `On ${on}: ${message}`],
        what,
        env,
      )
    ).trim();
    return {
      ...place,
      head: headCommit,
      branch,
      commit,
      uncommitted: tree !== headTree || indexTree !== headTree,
    };
  } finally {
    rmSync(scratch, { force: true });
  }
}

/**
 * Why the index of `top` cannot be written as a tree: a merge or rebase stopped at conflicts
 * (the usual reason, said with the files and the way out), else git's own reason.
 */
async function indexRefusal(top: string, what: string, written: GitResult): Promise<SessionError> {
  const unmerged = await git(top, ["diff", "--name-only", "--diff-filter=U", "-z"]);
  const files = unmerged.stdout.split("\0").filter(Boolean);
  if (unmerged.code === 0 && files.length > 0) {
    const named =
      files.slice(0, 5).join(", ") + (files.length > 5 ? ` and ${files.length - 5} more` : "");
    return new SessionError(
      "failed-precondition",
      `${top} has unresolved conflicts (${named}); resolve them and git add them (or abort the merge or rebase), then try again`,
    );
  }
  return new SessionError("failed-precondition", `${what}: ${reason(written)}`);
}

/** The files that differ between two commits of `repository`, sorted. */
export async function changedFiles(
  repository: string,
  from: string,
  to: string,
): Promise<string[]> {
  const listed = await gitOk(
    repository,
    ["diff", "--name-only", "-z", "--no-renames", from, to, "--"],
    `cannot compare ${from.slice(0, 12)} with ${to.slice(0, 12)}`,
  );
  return listed.split("\0").filter(Boolean).sort();
}

/**
 * The ref that keeps the commit a forked or restored session's worktree started from (its
 * origin's commit) for as long as the session is known, to compare its work with.
 */
export function originRef(sessionId: string): string {
  return `refs/claude-sessions/origins/${sessionId}`;
}

/** Keeps `commit` under `ref` (so git gc keeps it too). */
export async function keepRef(repository: string, ref: string, commit: string): Promise<void> {
  await gitOk(repository, ["update-ref", ref, commit], `cannot keep ${commit} under ${ref}`);
}

/** Deletes `ref`; a repository or ref that is gone already is not an error. */
export async function dropRef(repository: string, ref: string): Promise<void> {
  if (!existsSync(repository)) return;
  const result = await git(repository, ["update-ref", "-d", ref]);
  if (
    result.code !== 0 &&
    (await git(repository, ["show-ref", "--verify", "--quiet", ref])).code === 0
  )
    throw new SessionError("failed-precondition", `cannot delete ${ref}: ${reason(result)}`);
}

/** Whether `commit` is still in `repository`. */
export async function hasCommit(repository: string, commit: string): Promise<boolean> {
  if (!existsSync(repository)) return false;
  const result = await git(repository, ["cat-file", "-e", `${commit}^{commit}`]);
  return result.code === 0;
}
