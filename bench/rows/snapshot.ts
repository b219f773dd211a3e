/**
 * What recording and restoring a session's files costs, against git doing the nearest thing by
 * hand in the same repository, rounds alternating: `CreateSnapshot` (the screen, the seq, and
 * every file as a commit, untracked ones too, under our ref) against `git stash create` (tracked
 * changes only, no ref), and `RestoreSnapshot` (a new worktree with the uncommitted changes
 * written back, and a bash session started in it) against `git worktree add` of the same HEAD
 * and `StartSession` of bash there.
 * The repository holds 2,000 committed files of 4 KiB, with 50 changed and 50 untracked.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GIT_ENV } from "../../test/helpers/git.js";
import { type BenchDaemon, sessionEnv, startBenchDaemon } from "../lib/bench-daemon.js";
import { check, type Figure, type Row } from "../lib/figure.js";
import { median, msSince } from "../lib/stats.js";

const FILES = 2000;
const CHANGED = 50;
const UNTRACKED = 50;
const ROUNDS = 7;
const FILE_TEXT = `${"claude-sessions snapshot bench ".repeat(132)}\n`;

function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd, env: GIT_ENV, encoding: "utf8" });
}

async function timed(work: () => Promise<unknown> | unknown): Promise<number> {
  const start = process.hrtime.bigint();
  await work();
  return msSince(start);
}

/** A repository of {@link FILES} files, some changed and some untracked, at `dir`. */
function makeRepository(dir: string): void {
  mkdirSync(dir, { recursive: true });
  git(dir, "init", "-q", "-b", "main");
  for (let i = 0; i < FILES; i++) {
    const sub = join(dir, `pkg${i % 20}`);
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `file${i}.ts`), FILE_TEXT);
  }
  git(dir, "add", ".");
  git(dir, "commit", "-q", "-m", "files");
  for (let i = 0; i < CHANGED; i++)
    writeFileSync(join(dir, `pkg${i % 20}`, `file${i}.ts`), `${FILE_TEXT}changed\n`);
  for (let i = 0; i < UNTRACKED; i++) writeFileSync(join(dir, `new${i}.ts`), FILE_TEXT);
}

export const snapshotRow: Row = {
  name: "snapshot",
  title: `Snapshot and restore of a ${FILES}-file repository vs git stash create / git worktree add + start`,
  async run(log) {
    const daemon: BenchDaemon = await startBenchDaemon();
    try {
      const repo = join(daemon.work, "repo");
      makeRepository(repo);
      const sessions = daemon.client.sessions;
      const { session } = await sessions.startSession({
        workingDir: repo,
        command: ["bash", "--norc", "--noprofile"],
        env: sessionEnv,
      });
      check(session !== undefined, "no session");
      const snapshots: string[] = [];
      const snapshot = async () => {
        const { snapshot } = await sessions.createSnapshot({ sessionId: session.id });
        check(snapshot?.files !== undefined, "the snapshot recorded no files");
        check(
          snapshot.files.changedFiles.length === CHANGED + UNTRACKED,
          `the snapshot changed ${snapshot.files.changedFiles.length} files`,
        );
        snapshots.push(snapshot.id);
      };
      const stash = () => {
        const commit = git(repo, "stash", "create").trim();
        check(/^[0-9a-f]{40}$/.test(commit), "git stash create made no commit");
      };
      let added = 0;
      const worktreeAdd = () => {
        git(
          repo,
          "worktree",
          "add",
          "-q",
          "--detach",
          join(daemon.work, `plain-${added++}`),
          "HEAD",
        );
      };
      const restored: string[] = [];
      const restore = async () => {
        const id = snapshots[0] as string;
        const { session: made } = await sessions.restoreSnapshot({
          snapshotId: id,
          env: sessionEnv,
        });
        check(made?.worktree !== undefined, "the restore made no worktree");
        restored.push(made.worktree.path);
      };
      log("warm-up round");
      await snapshot();
      stash();
      await restore();
      await worktreeAdd();
      const times = {
        snapshot: [] as number[],
        stash: [] as number[],
        restore: [] as number[],
        add: [] as number[],
      };
      for (let i = 0; i < ROUNDS; i++) {
        const pairs: Array<() => Promise<void>> = [
          async () => void times.stash.push(await timed(stash)),
          async () => void times.snapshot.push(await timed(snapshot)),
          async () => void times.add.push(await timed(worktreeAdd)),
          async () => void times.restore.push(await timed(restore)),
        ];
        const order = i % 2 === 0 ? [0, 1, 2, 3] : [1, 0, 3, 2];
        for (const index of order) await (pairs[index] as () => Promise<void>)();
        log(
          `round ${i + 1}: stash create ${times.stash[i]?.toFixed(0)} ms, snapshot ${times.snapshot[i]?.toFixed(0)} ms; worktree add ${times.add[i]?.toFixed(0)} ms, restore ${times.restore[i]?.toFixed(0)} ms`,
        );
      }
      // Checked once timed: every restored worktree holds the snapshot's changes.
      for (const path of restored) {
        const status = git(path, "status", "--porcelain", "--untracked-files=all");
        check(
          status.split("\n").filter(Boolean).length === CHANGED + UNTRACKED,
          `the restored worktree ${path} does not hold the snapshot's changes`,
        );
      }
      const figures: Figure[] = [
        {
          label: "CreateSnapshot (median)",
          unit: "ms",
          value: median(times.snapshot),
          baseline: median(times.stash),
          target: { kind: "ratio-max", limit: 4 },
          note: `${ROUNDS} rounds; baseline git stash create (tracked changes only, no ref)`,
        },
        {
          label: "RestoreSnapshot, bash started in it (median)",
          unit: "ms",
          value: median(times.restore),
          baseline: median(times.add),
          target: { kind: "ratio-max", limit: 3 },
          note: `${ROUNDS} rounds; baseline git worktree add of the same HEAD and a bash session started in it`,
        },
      ];
      return figures;
    } finally {
      await daemon.close();
    }
  },
};
