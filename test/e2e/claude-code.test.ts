/**
 * The real Claude Code through the daemon and the CLI: started with the session id as its
 * conversation id, driven with send, seen through capture and attach, and resumed with
 * `claude --resume <id>` after the daemon was killed.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { claudeEnv, writeClaudeConfig } from "../helpers/claude-home.js";
import { runCli } from "../helpers/cli.js";
import { DaemonFixture } from "../helpers/daemon-fixture.js";
import { cliBin } from "../helpers/paths.js";
import { type TempHome, tempDir } from "../helpers/temp-home.js";
import { TmuxPane } from "../helpers/tmux.js";
import { isAlive, waitFor } from "../helpers/wait.js";

/** Claude Code's input prompt, between two horizontal rules. */
const PROMPT_BOX = /─{20,}\n❯.*\n─{20,}/;

/** The fields of a Claude Code transcript record this suite reads. */
interface TranscriptRecord {
  type: string;
  sessionId?: string;
  isMeta?: boolean;
  message?: unknown;
}

function argvOf(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
}

describe("Claude Code through claude-sessions", () => {
  const fixture = new DaemonFixture();
  let state: TempHome;
  let userHome: TempHome;
  let project: TempHome;
  let env: Record<string, string>;
  let id = "";
  const cli = (...args: string[]) =>
    runCli(args, { home: state.path, cwd: project.path, env, timeoutMs: 60_000 });
  const show = async () =>
    JSON.parse((await cli("show", id, "--json")).stdout) as Record<string, unknown>;
  const screen = async () => (await cli("capture", id)).stdout;

  before(() => {
    state = fixture.home;
    userHome = tempDir("csh-");
    project = fixture.work;
    writeClaudeConfig(userHome.path, [project.path]);
    env = claudeEnv(userHome.path);
  });

  after(async () => {
    await cli("stop-daemon");
    await fixture.cleanup();
    userHome.remove();
  });

  it("starts claude with --session-id <id> and shows its prompt box", async () => {
    const started = await cli("start", "--json", ".");
    assert.equal(started.code, 0, started.stderr);
    const session = JSON.parse(started.stdout) as {
      id: string;
      state: string;
      pid: number;
      claude_code: boolean;
    };
    id = session.id;
    assert.equal(session.state, "running");
    assert.equal(session.claude_code, true);
    const argv = argvOf(session.pid);
    assert.ok(argv[0]?.endsWith("claude"), argv.join(" "));
    assert.deepEqual(argv.slice(-2), ["--session-id", id]);
    const text = await waitFor(
      "Claude Code's prompt box",
      async () => {
        const current = await screen();
        return PROMPT_BOX.test(current) ? current : undefined;
      },
      30_000,
      250,
    );
    assert.match(text, /Claude Code/);
  });

  it("answers a prompt sent with send --enter and writes its transcript under <id>", async () => {
    const sent = await cli("send", id, "hello", "--enter");
    assert.equal(sent.code, 0, sent.stderr);
    let last = "";
    await waitFor(
      "Claude's answer",
      async () => {
        last = await screen();
        return /Not logged in · Please run \/login/.test(last);
      },
      15_000,
      250,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n--- screen ---\n${last}`);
    });
    // Claude Code appends to its transcript in batches: the file can exist
    // (holding only metadata records) before the prompt itself is written.
    const transcript = join(
      userHome.path,
      ".claude",
      "projects",
      project.path.replaceAll("/", "-"),
      `${id}.jsonl`,
    );
    const prompt = await waitFor(
      "the prompt in the transcript",
      () => {
        if (!existsSync(transcript)) return undefined;
        return readFileSync(transcript, "utf8")
          .split("\n")
          .filter((line) => line.length > 0)
          .map((line) => JSON.parse(line) as TranscriptRecord)
          .find(
            (record) =>
              record.type === "user" &&
              record.isMeta !== true &&
              JSON.stringify(record.message).includes("hello"),
          );
      },
      15_000,
    );
    assert.equal(prompt.sessionId, id);
    assert.match(JSON.stringify(prompt.message), /hello/);
  });

  it("shows Claude's screen as it is through attach in a terminal, and detaching leaves it running", async () => {
    const pane = new TmuxPane(120, 40);
    try {
      pane.start({ ...env, CLAUDE_SESSIONS_HOME: state.path });
      await pane.waitForText("outer$");
      pane.type(`node ${cliBin} attach ${id}`);
      pane.press("Enter");
      const text = await pane.waitForText(PROMPT_BOX, 15_000);
      assert.match(text, /Not logged in/);
      pane.press("C-\\");
      await pane.waitForText("[detached from");
    } finally {
      pane.kill();
    }
    assert.equal((await show()).state, "running");
  });

  it("after kill -9 of the daemon the session is INTERRUPTED; resume runs claude --resume <id> in the same directory", async () => {
    const status = JSON.parse((await cli("status", "--json")).stdout) as { pid: number };
    const before = (await show()).pid as number;
    process.kill(status.pid, "SIGKILL");
    await waitFor("the daemon to die", () => !isAlive(status.pid));
    // Claude gets the hang-up of its terminal; if it ignored it, the next daemon ends it.
    const listed = await cli("list", "--all", "--json");
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stderr, /started daemon/);
    const session = (JSON.parse(listed.stdout) as Array<Record<string, unknown>>).find(
      (entry) => entry.id === id,
    );
    assert.equal(session?.state, "interrupted");
    await waitFor("the old claude to be gone", () => !isAlive(before), 10_000);

    const resumed = await cli("resume", id);
    assert.equal(resumed.code, 0, resumed.stderr);
    const current = await show();
    assert.equal(current.state, "running");
    const pid = current.pid as number;
    const argv = argvOf(pid);
    assert.deepEqual(argv.slice(-2), ["--resume", id], argv.join(" "));
    assert.equal(readlinkSync(`/proc/${pid}/cwd`), project.path);
    // The conversation is back: the earlier prompt is on the screen again.
    await waitFor(
      "the resumed conversation",
      async () => /hello/.test(await screen()),
      30_000,
      250,
    );
    assert.equal((await cli("stop", id, "--timeout", "2s")).code, 0);
  });

  it("resume of a session that never got a prompt starts its conversation afresh with --session-id <id>", async () => {
    // Claude Code writes no transcript before the first prompt, and `claude --resume <id>` then
    // answers "No conversation found" and exits 1.
    const started = await cli("start", "--json", ".");
    assert.equal(started.code, 0, started.stderr);
    const fresh = (JSON.parse(started.stdout) as { id: string }).id;
    await waitFor(
      "Claude Code's prompt box",
      async () => PROMPT_BOX.test((await cli("capture", fresh)).stdout),
      30_000,
      250,
    );
    assert.equal((await cli("stop", fresh, "--timeout", "2s")).code, 0);

    const resumed = await cli("resume", "--json", fresh);
    assert.equal(resumed.code, 0, resumed.stderr);
    const pid = (JSON.parse(resumed.stdout) as { pid: number }).pid;
    assert.deepEqual(argvOf(pid).slice(-2), ["--session-id", fresh]);
    await waitFor(
      "Claude Code's prompt box in the resumed session",
      async () => PROMPT_BOX.test((await cli("capture", fresh)).stdout),
      30_000,
      250,
    );
    const current = JSON.parse((await cli("show", fresh, "--json")).stdout) as { state: string };
    assert.equal(current.state, "running");
    assert.equal((await cli("stop", fresh, "--timeout", "2s")).code, 0);
  });

  it("without claude on PATH, start exits 1 with the install hint", async () => {
    // A PATH with nothing on it: the daemon looks the program up in the session's PATH.
    const empty = tempDir("cse-");
    const result = await runCli(["start", "."], {
      home: state.path,
      cwd: project.path,
      env: { ...env, PATH: empty.path },
    });
    empty.remove();
    assert.equal(result.code, 1);
    assert.match(result.stderr, /npm install -g @anthropic-ai\/claude-code/);
    assert.match(result.stderr, /-- bash/);
    assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
  });
});
