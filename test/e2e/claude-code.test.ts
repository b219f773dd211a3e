/**
 * The real Claude Code through the daemon and the CLI: started with the session id as its
 * conversation id and our hooks beside the user's own, driven with send, its activity told by
 * its hooks and status file, seen through capture and attach, running on through a `kill -9` of
 * the daemon, and, after a /clear and a `kill -9` of its host, resumed with
 * `claude --resume <the conversation it was in>`.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { DaemonClient } from "../../cli/client.js";
import { homePaths } from "../../daemon/common/paths.js";
import { Activity, type Session } from "../../gen/claude_sessions/v1/session_pb.js";
import { SessionEventKind } from "../../gen/claude_sessions/v1/session_service_pb.js";
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
  /** The session as the API tells it (activity, conversations). */
  const session = async (): Promise<Session> => {
    const client = new DaemonClient(homePaths(state.path).socket);
    try {
      const { session } = await client.sessions.getSession({ sessionId: id });
      assert.ok(session);
      return session;
    } finally {
      client.close();
    }
  };
  /** Where the user's own UserPromptSubmit hook leaves each prompt. */
  let userHookLog = "";
  const settingsArgs = () => ["--settings", homePaths(state.path).claudeSettings];

  before(() => {
    state = fixture.home;
    userHome = tempDir("csh-");
    project = fixture.work;
    writeClaudeConfig(userHome.path, [project.path]);
    env = claudeEnv(userHome.path);
    // A hook of the user's own, in their settings: ours must not replace it.
    userHookLog = join(userHome.path, "user-hook.log");
    mkdirSync(join(userHome.path, ".claude"), { recursive: true });
    writeFileSync(
      join(userHome.path, ".claude", "settings.json"),
      JSON.stringify({
        hooks: {
          UserPromptSubmit: [
            {
              hooks: [
                { type: "command", command: `cat >> '${userHookLog}'; echo >> '${userHookLog}'` },
              ],
            },
          ],
        },
      }),
    );
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
    assert.deepEqual(argv.slice(-4), ["--session-id", id, ...settingsArgs()]);
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

  it("answers a prompt sent with send --enter and writes its transcript under <id>; it works on it, then is idle", async () => {
    // Its SessionStart hook has named the conversation, and its status file says it is idle.
    const ready = await waitFor("Claude Code idle at its prompt", async () => {
      const now = await session();
      return now.activity === Activity.IDLE ? now : undefined;
    });
    assert.equal(ready.conversationId, id);
    assert.equal(ready.foregroundCommand, "claude");
    // Every activity it goes through, as watchers hear it.
    const watcher = new DaemonClient(homePaths(state.path).socket);
    const stream = watcher.sessions.watchSessions({});
    const seen: Array<{ activity: Activity; detail: string; at: number }> = [];
    const watching = (async () => {
      try {
        for await (const event of stream)
          if (event.kind === SessionEventKind.ACTIVITY_CHANGED && event.session?.id === id)
            seen.push({
              activity: event.session.activity,
              detail: event.session.activityDetail,
              at: Date.now(),
            });
      } catch {
        // Cancelled below.
      }
    })();
    const sentAt = Date.now();
    const sent = await cli("send", id, "hello", "--enter");
    assert.equal(sent.code, 0, sent.stderr);
    try {
      // Its UserPromptSubmit hook: working on the prompt; the failed request (not logged in)
      // fires no Stop hook, and the status file says it is idle again.
      const working = await waitFor("WORKING", () =>
        seen.find((entry) => entry.activity === Activity.WORKING),
      );
      assert.equal(working.detail, "prompt: hello");
      const idle = await waitFor(
        "IDLE after the prompt",
        () =>
          seen.find((entry) => entry.activity === Activity.IDLE && entry.at >= working.at) ??
          undefined,
        10_000,
      );
      assert.ok(idle.at - sentAt < 10_000, `idle ${idle.at - sentAt} ms after the prompt`);
    } finally {
      stream.cancel();
      await watching;
      watcher.close();
    }
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
    // The user's own hook ran too, with the same prompt.
    const logged = await waitFor("the user's own hook", () =>
      existsSync(userHookLog) ? readFileSync(userHookLog, "utf8") : undefined,
    );
    assert.match(logged, /"prompt":"hello"/);
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

  it("after kill -9 of the daemon Claude Code runs on, same pid, at its prompt, and answers the next daemon's prompt", async () => {
    const status = JSON.parse((await cli("status", "--json")).stdout) as { pid: number };
    const before = await show();
    process.kill(status.pid, "SIGKILL");
    await waitFor("the daemon to die", () => !isAlive(status.pid));
    const listed = await cli("list", "--all", "--json");
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stderr, /started daemon/);
    const session = (JSON.parse(listed.stdout) as Array<Record<string, unknown>>).find(
      (entry) => entry.id === id,
    );
    assert.equal(session?.state, "running");
    assert.equal(session?.pid, before.pid, "the same claude");
    assert.ok(isAlive(before.pid as number));
    // The next daemon rebuilt the screen: the prompt box, and the earlier exchange above it.
    const rebuilt = await screen();
    assert.match(rebuilt, PROMPT_BOX);
    assert.match(rebuilt, /Not logged in · Please run \/login/);

    const sent = await cli("send", id, "hello again", "--enter");
    assert.equal(sent.code, 0, sent.stderr);
    let last = "";
    await waitFor(
      "Claude's answer to the prompt sent through the next daemon",
      async () => {
        last = await screen();
        return /❯ hello again.*\n\s*⎿\s+Not logged in · Please run \/login/.test(last);
      },
      15_000,
      250,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n--- screen ---\n${last}`);
    });
  });

  it("/clear starts a new conversation: the session follows it", async () => {
    const sent = await cli("send", id, "/clear");
    assert.equal(sent.code, 0, sent.stderr);
    // The command menu opens under "/clear"; Enter runs it once it has.
    await waitFor("the /clear command", async () => /\/clear/.test(await screen()), 10_000, 100);
    await cli("send", id, "\r");
    const cleared = await waitFor(
      "a new conversation id",
      async () => {
        const now = await session();
        return now.conversationId !== id ? now : undefined;
      },
      15_000,
      100,
    );
    assert.match(cleared.conversationId, /^[0-9a-f-]{36}$/);
    assert.deepEqual(cleared.previousConversationIds, [id]);
    // A prompt in it, so that Claude Code has its transcript to resume.
    assert.equal((await cli("send", id, "hello after clear", "--enter")).code, 0);
    // Claude Code writes its transcript in batches: the file can hold only metadata before the
    // prompt itself is in it, and a resume before then would show no prompt.
    const transcript = join(
      userHome.path,
      ".claude",
      "projects",
      project.path.replaceAll("/", "-"),
      `${cleared.conversationId}.jsonl`,
    );
    await waitFor(
      "the prompt in the new conversation's transcript",
      () =>
        existsSync(transcript) && readFileSync(transcript, "utf8").includes("hello after clear"),
      15_000,
    );
  });

  it("after kill -9 of its host the session is INTERRUPTED; resume runs claude --resume <current conversation> in the same directory", async () => {
    const conversation = (await session()).conversationId;
    assert.notEqual(conversation, id, "the conversation /clear started");
    const before = await show();
    const hostPid = before.host_pid as number;
    assert.ok(hostPid > 0, "the session has a host");
    process.kill(hostPid, "SIGKILL");
    // Claude gets the hang-up of its terminal; if it ignored it, the daemon ends it.
    await waitFor(
      "the session to be INTERRUPTED",
      async () => (await show()).state === "interrupted",
    );
    assert.match(String((await show()).failure_reason), /its session host ended unexpectedly/);
    await waitFor("the old claude to be gone", () => !isAlive(before.pid as number), 10_000);

    const resumed = await cli("resume", id);
    assert.equal(resumed.code, 0, resumed.stderr);
    const current = await show();
    assert.equal(current.state, "running");
    const pid = current.pid as number;
    const argv = argvOf(pid);
    assert.deepEqual(argv.slice(-4), ["--resume", conversation, ...settingsArgs()], argv.join(" "));
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
    assert.deepEqual(argvOf(pid).slice(-4), ["--session-id", fresh, ...settingsArgs()]);
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
