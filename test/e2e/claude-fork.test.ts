/**
 * Fork and snapshots of the real Claude Code: after a prompt (its transcript written), a
 * snapshot copies the transcript; `fork` and `restore` each run
 * `claude --resume <conversation> --fork-session --session-id <new id>` in a new worktree, and
 * the new conversation holds the earlier prompt: the fork's all of the source's, the restore's
 * only what was said before the snapshot. A fork resumed later continues its own conversation.
 */
import assert from "node:assert/strict";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { claudeEnv, writeClaudeConfig } from "../helpers/claude-home.js";
import { runCli } from "../helpers/cli.js";
import { DaemonFixture } from "../helpers/daemon-fixture.js";
import { makeRepository } from "../helpers/git.js";
import { type TempHome, tempDir } from "../helpers/temp-home.js";
import { waitFor } from "../helpers/wait.js";

/** Claude Code's input prompt, between two horizontal rules. */
const PROMPT_BOX = /─{20,}\n❯.*\n─{20,}/;

interface SessionJson {
  id: string;
  pid: number;
  working_dir: string;
  conversation_id: string | null;
  worktree: { path: string } | null;
  origin: { session_id: string; snapshot_id: string | null; conversation_id: string | null } | null;
}

function argvOf(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
}

/** That `session` runs claude --resume <conversation> --fork-session --session-id <its id>. */
function assertForks(session: SessionJson, conversation: string): void {
  const argv = argvOf(session.pid);
  assert.ok(argv[0]?.endsWith("claude"), argv.join(" "));
  const at = argv.indexOf("--resume");
  assert.deepEqual(argv.slice(at, at + 5), [
    "--resume",
    conversation,
    "--fork-session",
    "--session-id",
    session.id,
  ]);
}

/** The prompts a transcript holds, in order (Claude Code's user records that are not meta). */
function promptsIn(path: string): string[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as { type: string; isMeta?: boolean; message?: unknown })
    .filter((record) => record.type === "user" && record.isMeta !== true)
    .map((record) => JSON.stringify(record.message));
}

describe("e2e: fork and snapshots of Claude Code", () => {
  const fixture = new DaemonFixture();
  let state: TempHome;
  let userHome: TempHome;
  let repo: string;
  let env: Record<string, string>;
  let source: SessionJson;
  let snapshotId = "";
  const cli = (...args: string[]) =>
    runCli(args, { home: state.path, cwd: repo, env, timeoutMs: 60_000 });
  const json = async <T>(...args: string[]): Promise<T> => {
    const result = await cli(...args, "--json");
    assert.equal(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
    const value = JSON.parse(result.stdout) as T;
    const pid = (value as { pid?: number }).pid;
    if (typeof pid === "number") fixture.reap(pid);
    return value;
  };
  /** Where Claude Code keeps the transcript of `conversation` run in `dir`. */
  const transcript = (dir: string, conversation: string) =>
    join(
      userHome.path,
      ".claude",
      "projects",
      realpathSync(dir).replace(/[^a-zA-Z0-9]/g, "-"),
      `${conversation}.jsonl`,
    );
  /**
   * Types a prompt once Claude Code is idle at its prompt box, and presses Enter once the
   * prompt shows in the box (a restored session's screen shows the snapshot's prompt box
   * before Claude Code draws its own, and a Claude Code still starting drops an Enter), then
   * waits until its transcript holds it.
   */
  const prompt = async (session: SessionJson, text: string) => {
    await waitFor(
      "Claude Code idle at its prompt box",
      async () => {
        const shown = JSON.parse((await cli("show", session.id, "--json")).stdout) as {
          activity: string | null;
        };
        return (
          shown.activity === "idle" && PROMPT_BOX.test((await cli("capture", session.id)).stdout)
        );
      },
      30_000,
      250,
    );
    const typed = await cli("send", session.id, text);
    assert.equal(typed.code, 0, typed.stderr);
    await waitFor(
      "the prompt typed in Claude Code's input box",
      // The box's prompt sign is followed by a no-break space.
      async () => (await cli("capture", session.id)).stdout.includes(`❯\u00a0${text}`),
      30_000,
      250,
    );
    const sent = await cli("send", session.id, "--enter");
    assert.equal(sent.code, 0, sent.stderr);
    const file = transcript(session.working_dir, session.id);
    await waitFor(
      `"${text}" in ${file}`,
      () => promptsIn(file).some((entry) => entry.includes(text)),
      20_000,
      250,
    ).catch(async (error: Error) => {
      const screen = (await cli("capture", session.id)).stdout;
      const dir = dirname(file);
      const files = existsSync(dir) ? readdirSync(dir).join(", ") : "(none)";
      throw new Error(`${error.message}\n--- ${dir}: ${files}\n--- screen ---\n${screen}`);
    });
    return promptsIn(file);
  };

  before(() => {
    state = fixture.home;
    userHome = tempDir("csh-");
    repo = makeRepository(join(realpathSync(fixture.work.path), "app"), {
      "README.md": "# app\n",
    });
    // The repository, and the daemon's worktrees (a trusted folder's subfolders are trusted).
    mkdirSync(join(state.path, "worktrees"), { recursive: true, mode: 0o700 });
    writeClaudeConfig(userHome.path, [repo, join(state.path, "worktrees")]);
    env = claudeEnv(userHome.path);
  });

  after(async () => {
    await cli("stop-daemon", "--stop-sessions");
    await fixture.cleanup();
    userHome.remove();
  });

  it("a snapshot after a prompt copies the conversation's transcript", async () => {
    source = await json<SessionJson>("start", "--name", "agent", repo);
    const prompts = await prompt(source, "remember the word pelican");
    assert.equal(prompts.length, 1);
    writeFileSync(join(repo, "draft.md"), "uncommitted work\n");
    const snapshot = await json<{
      id: string;
      conversation_id: string;
      has_transcript: boolean;
      files: { changed_files: string[] };
    }>("snapshot", "agent", "--name", "after-pelican");
    snapshotId = snapshot.id;
    assert.equal(snapshot.conversation_id, source.id);
    assert.equal(snapshot.has_transcript, true);
    assert.deepEqual(snapshot.files.changed_files, ["draft.md"]);
    const copy = join(state.path, "snapshots", snapshot.id, "transcript.jsonl");
    assert.deepEqual(promptsIn(copy), prompts, "the copy holds the prompt");
    // The conversation goes on after the snapshot.
    await prompt(source, "this came after the snapshot");
  });

  it("fork runs claude --resume <conversation> --fork-session in a new worktree; the fork's conversation holds every earlier prompt", async () => {
    const fork = await json<SessionJson>("fork", "agent", "--name", "agent-b");
    assert.equal(fork.origin?.session_id, source.id);
    assert.equal(fork.origin?.conversation_id, source.id);
    assert.equal(fork.conversation_id, fork.id, "the new conversation is the new session's id");
    assert.ok(fork.worktree, "a worktree of its own");
    assert.equal(
      readFileSync(join(fork.worktree.path, "draft.md"), "utf8"),
      "uncommitted work\n",
      "the source's uncommitted file came along",
    );
    assertForks(fork, source.id);
    await waitFor(
      "the earlier conversation on the fork's screen",
      async () => /pelican/.test((await cli("capture", fork.id)).stdout),
      30_000,
      250,
    );
    const prompts = await prompt(fork, "the fork's own prompt");
    assert.equal(prompts.length, 3, prompts.join("\n"));
    assert.match(prompts[0] ?? "", /remember the word pelican/);
    assert.match(prompts[1] ?? "", /this came after the snapshot/);
    assert.match(prompts[2] ?? "", /the fork's own prompt/);
    assert.ok(
      !promptsIn(transcript(repo, source.id)).some((entry) => entry.includes("the fork's own")),
      "the source's conversation is untouched",
    );

    // Resumed later, the fork continues its own conversation, not the source's.
    assert.equal((await cli("stop", "agent-b")).code, 0);
    const resumed = await json<SessionJson>("resume", "agent-b");
    const again = argvOf(resumed.pid);
    const flag = again.indexOf("--resume");
    assert.deepEqual(again.slice(flag, flag + 2), ["--resume", fork.id]);
    assert.ok(!again.includes("--fork-session"), again.join(" "));
  });

  it("restore forks the conversation from the snapshot's copy: it holds the prompt before the snapshot, not the one after", async () => {
    const restored = await json<SessionJson>("restore", "after-pelican", "--name", "agent-c");
    assert.equal(restored.origin?.snapshot_id, snapshotId);
    assert.equal(restored.origin?.conversation_id, source.id);
    assert.ok(restored.worktree);
    assertForks(restored, source.id);
    const prompts = await prompt(restored, "the restore's own prompt");
    assert.equal(prompts.length, 2, prompts.join("\n"));
    assert.match(prompts[0] ?? "", /remember the word pelican/);
    assert.match(prompts[1] ?? "", /the restore's own prompt/);
  });
});
