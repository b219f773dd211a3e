/**
 * Git worktrees for sessions: a new worktree on a new branch for `start --worktree`, with the
 * untracked files the repository's `.worktreeinclude` names copied in (`.env`, as Claude Code
 * copies them); what it holds that is not committed; and removing it, the branch kept. Every
 * git call is git itself (execFile, no shell), with a timeout and git's own message on failure.
 */
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, realpathSync, rmSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import { git, gitOk, reason } from "./git.js";
import { SessionError } from "./session-error.js";

/** What a session's record keeps of its worktree. */
export interface WorktreeRecord {
  path: string;
  branch: string;
  repository: string;
  baseCommit: string;
}

/** What a worktree holds now (GetSession). */
export interface WorktreeStatus {
  present: boolean;
  /** `git status --porcelain` lines. */
  uncommitted: string[];
  commitsAhead: number;
}

/** The file in a repository that lists (in .gitignore syntax) the untracked files to copy. */
export const WORKTREE_INCLUDE = ".worktreeinclude";

/** A branch name a session's worktree gets when none is given. */
export function defaultBranch(name: string, id: string): string {
  return `claude-sessions/${name || id.slice(0, 8)}`;
}

/**
 * Makes a worktree for a session that asked for one in `dir`: checks the repository, the base
 * and the branch, adds the worktree under `worktreesDir`, copies what `.worktreeinclude`
 * names, and returns it with the directory to run in (dir's place inside the repository).
 */
export async function createWorktree(options: {
  dir: string;
  branch: string;
  base: string;
  worktreesDir: string;
}): Promise<{ worktree: WorktreeRecord; workingDir: string }> {
  const { dir, branch, worktreesDir } = options;
  const inside = await git(dir, ["rev-parse", "--show-toplevel"]);
  if (inside.code !== 0) {
    throw new SessionError(
      "failed-precondition",
      `${dir} is not in a git repository (${reason(inside)}); --worktree needs one: start it in a repository, or without --worktree`,
    );
  }
  const repository = realpathSync(inside.stdout.trim());
  const base = options.base || "HEAD";
  const resolved = await git(repository, [
    "rev-parse",
    "--verify",
    "--quiet",
    "--end-of-options",
    `${base}^{commit}`,
  ]);
  if (resolved.code !== 0) {
    throw new SessionError(
      "failed-precondition",
      `'${base}' is not a commit in ${repository}${base === "HEAD" ? " (a repository with no commit yet has none to branch from)" : ""}; give --base a commit, branch or tag`,
    );
  }
  return addWorktree({
    repository,
    branch,
    baseCommit: resolved.stdout.trim(),
    worktreesDir,
    relativeDir: relative(repository, realpathSync(dir)),
    branchOption: "--worktree <branch>",
  });
}

/**
 * Adds a worktree of `repository` under `worktreesDir` on a new `branch` at `baseCommit`, with
 * the files `.worktreeinclude` names copied in; with `uncommitted`, a commit made by
 * {@link captureWorktreeState}, its files are then written over it as uncommitted changes
 * (those that were staged staged again). Returns it with the directory to run in: `relativeDir`
 * inside it if that exists, else its top. `branchOption` is how the caller names a branch.
 */
export async function addWorktree(options: {
  repository: string;
  branch: string;
  baseCommit: string;
  worktreesDir: string;
  relativeDir: string;
  uncommitted?: string;
  branchOption: string;
}): Promise<{ worktree: WorktreeRecord; workingDir: string }> {
  const { repository, branch, baseCommit, worktreesDir } = options;
  if ((await git(repository, ["check-ref-format", "--branch", branch])).code !== 0)
    throw new SessionError(
      "invalid-argument",
      `'${branch}' is not a valid branch name (see git check-ref-format); name another (${options.branchOption})`,
    );
  const taken = await git(repository, ["show-ref", "--verify", "--quiet", `refs/heads/${branch}`]);
  if (taken.code === 0) {
    throw new SessionError(
      "already-exists",
      `the branch '${branch}' already exists in ${repository}; name a new one (${options.branchOption})`,
    );
  }
  const repoHash = createHash("sha256").update(repository).digest("hex").slice(0, 8);
  const path = join(
    worktreesDir,
    `${basename(repository)}-${repoHash}`,
    branch.replaceAll("/", "-"),
  );
  if (existsSync(path)) {
    throw new SessionError(
      "already-exists",
      `${path} already exists; remove it, or name another branch (${options.branchOption})`,
    );
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  // With files to write over it, the worktree is checked out once, with them (writeUncommitted).
  const checkout = options.uncommitted === undefined ? [] : ["--no-checkout"];
  await gitOk(
    repository,
    ["worktree", "add", "--quiet", ...checkout, "-b", branch, path, baseCommit],
    `cannot add a worktree at ${path}`,
  );
  const worktree = { path, branch, repository, baseCommit };
  try {
    if (options.uncommitted !== undefined) await writeUncommitted(path, options.uncommitted);
    await copyIncluded(repository, path);
  } catch (error) {
    await discardWorktree(worktree);
    throw error;
  }
  const workingDir = join(path, options.relativeDir);
  return { worktree, workingDir: existsSync(workingDir) ? workingDir : path };
}

/**
 * Undoes {@link addWorktree} for a session that never started: the worktree goes, whatever it
 * holds, and so does its branch, which has nothing of its own yet (a retry may name it again).
 * Best effort: what cannot be removed is left, and the caller's error stands.
 */
export async function discardWorktree(worktree: WorktreeRecord): Promise<void> {
  await removeWorktree(worktree, true, worktree.branch).catch(() => undefined);
  await git(worktree.repository, ["branch", "-D", "--", worktree.branch]).catch(() => undefined);
}

/**
 * Writes the files of `commit` (a stash-like commit: its tree the working tree, its second
 * parent the index) into the fresh worktree at `path` without committing them: the working
 * tree becomes its tree, the index its index, HEAD stays where it was.
 */
async function writeUncommitted(path: string, commit: string): Promise<void> {
  await gitOk(path, ["read-tree", "-u", "--reset", commit], "cannot write the recorded files");
  // A one-tree merge keeps the stat data of the entries the two trees share, so only the files
  // with unstaged changes (whose index entries differ) are looked at again by the refresh.
  await gitOk(path, ["read-tree", "-m", `${commit}^2`], "cannot restore the recorded index");
  await git(path, ["update-index", "-q", "--refresh"]);
}

/**
 * Copies into the worktree the untracked files of `repository` that its `.worktreeinclude`
 * names (patterns as in .gitignore; git does the matching), keeping their modes. A file the
 * worktree has already (checked out, or written back from a snapshot) is left as it is.
 */
async function copyIncluded(repository: string, worktree: string): Promise<void> {
  if (!existsSync(join(repository, WORKTREE_INCLUDE))) return;
  const listed = await gitOk(
    repository,
    ["ls-files", "--others", "--ignored", "-z", `--exclude-from=${WORKTREE_INCLUDE}`],
    `cannot read ${WORKTREE_INCLUDE}`,
  );
  for (const file of listed.split("\0").filter(Boolean)) {
    const target = join(worktree, file);
    mkdirSync(dirname(target), { recursive: true });
    cpSync(join(repository, file), target, {
      preserveTimestamps: true,
      verbatimSymlinks: true,
      force: false,
    });
  }
}

/** What the worktree holds now: whether it is there, its uncommitted changes, commits ahead. */
export async function worktreeStatus(worktree: WorktreeRecord): Promise<WorktreeStatus> {
  if (!existsSync(worktree.path)) return { present: false, uncommitted: [], commitsAhead: 0 };
  const [status, ahead] = await Promise.all([
    git(worktree.path, ["status", "--porcelain=v1", "--untracked-files=all"]),
    git(worktree.path, ["rev-list", "--count", `${worktree.baseCommit}..HEAD`]),
  ]);
  return {
    present: true,
    uncommitted: status.code === 0 ? status.stdout.split("\n").filter(Boolean) : [],
    commitsAhead: ahead.code === 0 ? Number(ahead.stdout.trim()) || 0 : 0,
  };
}

/**
 * Why the worktree may not be removed without force, naming its uncommitted changes; undefined
 * when it has none (or is gone). `called` is how the session is named in the way out.
 */
export async function uncommittedReason(
  worktree: WorktreeRecord,
  called: string,
): Promise<string | undefined> {
  const { uncommitted } = await worktreeStatus(worktree);
  if (uncommitted.length === 0) return undefined;
  const files = uncommitted.map((line) => line.slice(3));
  const named =
    files.slice(0, 5).join(", ") + (files.length > 5 ? ` and ${files.length - 5} more` : "");
  return `the worktree ${worktree.path} has uncommitted changes (${named}); commit them on ${worktree.branch}, or remove it anyway with: claude-sessions rm --force ${called}`;
}

/**
 * Removes the worktree (its branch stays). One with uncommitted changes is refused, naming
 * them, unless `force`. One already gone is pruned from the repository's list. One whose
 * repository was moved or deleted is one git no longer knows: `force` deletes its directory.
 */
export async function removeWorktree(
  worktree: WorktreeRecord,
  force: boolean,
  called: string,
): Promise<void> {
  if (!existsSync(worktree.path)) {
    if (existsSync(worktree.repository)) await git(worktree.repository, ["worktree", "prune"]);
    return;
  }
  if (!force) {
    const dirty = await uncommittedReason(worktree, called);
    if (dirty !== undefined) throw new SessionError("failed-precondition", dirty);
  }
  const repositoryThere = existsSync(worktree.repository);
  const from = repositoryThere ? worktree.repository : worktree.path;
  const removed = await git(from, [
    "worktree",
    "remove",
    ...(force ? ["--force", "--force"] : []),
    worktree.path,
  ]);
  if (removed.code === 0) return;
  if (!repositoryThere && force) {
    rmSync(worktree.path, { recursive: true, force: true });
    return;
  }
  throw new SessionError(
    "failed-precondition",
    `cannot remove the worktree ${worktree.path}: ${reason(removed)}${repositoryThere ? "" : `; its repository is no longer at ${worktree.repository} (moved or deleted), so git cannot tell what it holds: remove it anyway with: claude-sessions rm --force ${called}`}`,
  );
}
