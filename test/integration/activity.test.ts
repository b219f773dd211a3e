/**
 * A session's activity, foreground command and conversations, told by a real daemon and its
 * real session hosts: bash's foreground jobs, Claude Code's hook events (through the hook
 * script the daemon installs, fed the payloads Claude Code sends), Claude Code's permission
 * dialog on screen when its hooks are silent, and the notify command.
 */
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import type { DaemonClient } from "../../cli/client.js";
import { homePaths } from "../../daemon/common/paths.js";
import { claudeTranscriptPath } from "../../daemon/session/claude-transcript.js";
import { Activity, type Session, SessionState } from "../../gen/claude_sessions/v1/session_pb.js";
import { type DaemonFixture, fixturePerTest } from "../helpers/daemon-fixture.js";
import { fakeClaudeDir, permissionNotification, runHook } from "../helpers/hook-events.js";
import { readLog } from "../helpers/log-reader.js";
import { isRunning, sessionProcesses } from "../helpers/proc.js";
import { waitFor } from "../helpers/wait.js";

const fixture = fixturePerTest();

async function sessionOf(client: DaemonClient, id: string): Promise<Session> {
  const { session } = await client.sessions.getSession({ sessionId: id });
  assert.ok(session);
  return session;
}

/** Waits until the session's activity is `activity` (and `detail`, if given). */
function activityOf(
  client: DaemonClient,
  id: string,
  activity: Activity,
  timeoutMs = 5000,
  detail?: RegExp,
): Promise<Session> {
  return waitFor(
    `session ${id} to be ${Activity[activity]}${detail ? ` (${detail})` : ""}`,
    async () => {
      const session = await sessionOf(client, id);
      if (session.activity !== activity) return undefined;
      return detail === undefined || detail.test(session.activityDetail) ? session : undefined;
    },
    timeoutMs,
    20,
  );
}

/** A session of the fake `claude`: the daemon treats it as Claude Code. */
async function startFakeClaude(
  daemons: DaemonFixture,
  extraEnv: Record<string, string> = {},
): Promise<Session> {
  const home = join(daemons.work.path, "home");
  mkdirSync(home, { recursive: true });
  const { session } = await daemons.daemon.client.sessions.startSession({
    workingDir: daemons.work.path,
    command: ["claude"],
    env: { PATH: `${fakeClaudeDir}:${process.env.PATH}`, HOME: home, ...extraEnv },
  });
  assert.ok(session?.claudeCode, "a program named claude is Claude Code to the daemon");
  return session;
}

describe("activity of any program", () => {
  it("bash: a foreground command is WORKING, named, within a second; the prompt is IDLE within a second of its end", async () => {
    const daemons = fixture();
    const { client } = await daemons.start();
    const { session } = await client.sessions.startSession({
      workingDir: daemons.work.path,
      command: ["bash", "--norc", "--noprofile", "-i"],
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", PS1: "$ " },
    });
    assert.ok(session);
    await activityOf(client, session.id, Activity.IDLE);
    assert.equal((await sessionOf(client, session.id)).foregroundCommand, "bash");

    await client.sessions.sendInput({
      sessionId: session.id,
      input: { case: "text", value: "sleep 3\r" },
    });
    const working = await activityOf(client, session.id, Activity.WORKING, 1000);
    assert.equal(working.foregroundCommand, "sleep");
    assert.equal(working.activityDetail, "sleep 3");
    const sleeper = sessionProcesses(session.pid).find((info) => info.command === "sleep");
    assert.ok(sleeper, "the sleep runs in the session");
    await waitFor("the sleep to end", () => !isRunning(sleeper.pid), 10_000, 10);
    const idle = await activityOf(client, session.id, Activity.IDLE, 1000);
    assert.equal(idle.foregroundCommand, "bash");
    assert.ok(idle.activitySince, "since when it is idle");

    // An ended session has no activity.
    const stopped = (await client.sessions.stopSession({ sessionId: session.id })).session;
    assert.equal(stopped?.activity, Activity.UNSPECIFIED);
    assert.equal(stopped?.foregroundCommand, "");
  });
});

describe("activity of Claude Code", () => {
  it("its hooks, fed a real Notification payload, make it WAITING_FOR_INPUT; the notify command runs with the session in its environment", async () => {
    const daemons = fixture();
    const notified = join(daemons.work.path, "notified");
    mkdirSync(notified);
    const { client, home } = await daemons.start({
      env: {
        // Written whole, then renamed: the test reads no half-written file.
        CLAUDE_SESSIONS_NOTIFY: `env | grep '^CLAUDE_SESSIONS_' | sort > "${notified}/.$$" && mv "${notified}/.$$" "${notified}/$CLAUDE_SESSIONS_EVENT"`,
      },
    });
    const session = await startFakeClaude(daemons);
    await client.sessions.renameSession({ sessionId: session.id, name: "agent-1" });
    const cwd = daemons.work.path;
    // SessionStart and UserPromptSubmit as Claude Code sends them.
    runHook(home, session.id, {
      session_id: session.id,
      cwd,
      hook_event_name: "SessionStart",
      source: "startup",
    });
    await activityOf(client, session.id, Activity.IDLE);
    const prompt = runHook(home, session.id, {
      session_id: session.id,
      cwd,
      hook_event_name: "UserPromptSubmit",
      prompt: "run the tests",
    });
    assert.equal(prompt.status, 0);
    await activityOf(client, session.id, Activity.WORKING, 5000, /^prompt: run the tests$/);
    runHook(home, session.id, {
      session_id: session.id,
      cwd,
      hook_event_name: "PreToolUse",
      tool_name: "Edit",
      tool_input: { file_path: join(cwd, "src", "app.ts"), old_string: "a", new_string: "b" },
    });
    await activityOf(client, session.id, Activity.WORKING, 5000, /^Edit: src\/app\.ts$/);

    runHook(home, session.id, permissionNotification(session.id, cwd, "Bash"));
    const waiting = await activityOf(client, session.id, Activity.WAITING_FOR_INPUT);
    assert.equal(waiting.activityDetail, "Claude needs your permission to use Bash");
    const waitingEnv = await waitFor("the notify command for waiting", () => {
      try {
        return readFileSync(join(notified, "waiting"), "utf8");
      } catch {
        return undefined;
      }
    });
    assert.match(waitingEnv, new RegExp(`^CLAUDE_SESSIONS_SESSION_ID=${session.id}$`, "m"));
    assert.match(waitingEnv, /^CLAUDE_SESSIONS_SESSION_NAME=agent-1$/m);
    assert.match(waitingEnv, /^CLAUDE_SESSIONS_ACTIVITY=waiting_for_input$/m);
    assert.match(
      waitingEnv,
      /^CLAUDE_SESSIONS_ACTIVITY_DETAIL=Claude needs your permission to use Bash$/m,
    );
    assert.match(waitingEnv, /^CLAUDE_SESSIONS_STATE=running$/m);

    runHook(home, session.id, { session_id: session.id, cwd, hook_event_name: "Stop" });
    await activityOf(client, session.id, Activity.IDLE);

    await client.sessions.stopSession({ sessionId: session.id });
    const endedEnv = await waitFor("the notify command for the end", () => {
      try {
        return readFileSync(join(notified, "ended"), "utf8");
      } catch {
        return undefined;
      }
    });
    assert.match(endedEnv, /^CLAUDE_SESSIONS_STATE=stopped$/m);
    assert.match(endedEnv, new RegExp(`^CLAUDE_SESSIONS_SESSION_ID=${session.id}$`, "m"));
    assert.deepEqual(
      readdirSync(notified)
        .filter((name) => !name.startsWith("."))
        .sort(),
      ["ended", "waiting"],
      "once each",
    );
  });

  it("the hook script exits 0 at once with no host to hear it, and leaves nothing", async () => {
    const daemons = fixture();
    const { home } = await daemons.start();
    const session = await startFakeClaude(daemons);
    const gone = join(daemons.work.path, "no-such-host.hooks");
    const run = runHook(home, session.id, permissionNotification(session.id, "/"), gone);
    assert.deepEqual([run.status, run.stdout, run.stderr], [0, "", ""]);
    // A real one also answers nothing: Claude Code would show what a hook prints.
    const real = runHook(home, session.id, { hook_event_name: "Stop", session_id: session.id });
    assert.deepEqual([real.status, real.stdout, real.stderr], [0, "", ""]);
  });

  it("with its hooks and status file silent, its permission dialog on screen is WAITING_FOR_INPUT; a hook then wins", async () => {
    const daemons = fixture();
    const { client, home } = await daemons.start();
    const screen = join(daemons.work.path, "dialog.txt");
    writeFileSync(
      screen,
      [
        "╭──────────────────────────────────────────────╮",
        "│ Bash command                                 │",
        "│                                              │",
        "│   rm -rf build                               │",
        "│   Remove the build directory                 │",
        "│                                              │",
        "│ Do you want to proceed?                      │",
        "│ ❯ 1. Yes                                     │",
        "│   2. Yes, and don't ask again for rm commands │",
        "│   3. No, and tell Claude what to do (esc)    │",
        "╰──────────────────────────────────────────────╯",
        "",
      ].join("\r\n"),
    );
    const session = await startFakeClaude(daemons, { FAKE_CLAUDE_SCREEN: screen });
    const waiting = await activityOf(client, session.id, Activity.WAITING_FOR_INPUT);
    assert.equal(waiting.activityDetail, "permission: Bash command");
    // A hook is a better source than the screen: once one speaks, the screen is not read.
    runHook(home, session.id, { session_id: session.id, hook_event_name: "Stop" });
    await activityOf(client, session.id, Activity.IDLE);
  });

  it("follows its conversation through /clear and /resume, with no daemon too; a resume after its host is killed continues the current one", async () => {
    const daemons = fixture();
    const { client, home } = await daemons.start();
    const session = await startFakeClaude(daemons);
    const { id } = session;
    assert.equal(session.conversationId, id, "it starts in the conversation named by its id");
    const cwd = daemons.work.path;
    const cleared = "9d66c045-820d-4e16-b1e2-f2696f191c90";
    runHook(home, id, { session_id: id, cwd, hook_event_name: "SessionEnd", reason: "clear" });
    runHook(home, id, {
      session_id: cleared,
      cwd,
      hook_event_name: "SessionStart",
      source: "clear",
    });
    const afterClear = await waitFor("the new conversation", async () => {
      const now = await sessionOf(client, id);
      return now.conversationId === cleared ? now : undefined;
    });
    assert.deepEqual(afterClear.previousConversationIds, [id]);
    // Persisted: a resume must find it even if no host is left to tell it.
    await waitFor("the state file to hold the new conversation", () => {
      const saved = JSON.parse(readFileSync(homePaths(home).state, "utf8")) as {
        sessions: Array<{ id: string; conversationId?: string }>;
      };
      return saved.sessions.find((record) => record.id === id)?.conversationId === cleared;
    });

    // The daemon goes; the host keeps hearing Claude Code; the next daemon is told.
    await daemons.daemon.stop();
    const resumedTo = "5b2e8a41-7c3d-4e9f-8a1b-6d0c2f4e9a37";
    runHook(home, id, {
      session_id: resumedTo,
      cwd,
      hook_event_name: "SessionStart",
      source: "resume",
    });
    const next = await daemons.start();
    const told = await waitFor("the conversation told while no daemon ran", async () => {
      const now = await sessionOf(next.client, id);
      return now.conversationId === resumedTo ? now : undefined;
    });
    assert.deepEqual(told.previousConversationIds, [id, cleared]);
    assert.equal(told.state, SessionState.RUNNING);

    // Its host dies with it; Claude Code has a transcript of the current conversation.
    const transcript = claudeTranscriptPath(resumedTo, cwd, { HOME: join(cwd, "home") });
    mkdirSync(dirname(transcript), { recursive: true });
    writeFileSync(transcript, "{}\n");
    process.kill(told.hostPid, "SIGKILL");
    await waitFor("the session to be interrupted", async () =>
      (await sessionOf(next.client, id)).state === SessionState.INTERRUPTED ? true : undefined,
    );
    const resumed = (
      await next.client.sessions.resumeSession({
        sessionId: id,
        env: { PATH: `${fakeClaudeDir}:${process.env.PATH}`, HOME: join(cwd, "home") },
      })
    ).session;
    assert.equal(resumed?.state, SessionState.RUNNING);
    const log = readLog(join(home, "logs", `${id}.jsonl`));
    const started = log.records.filter((record) => record.data.startsWith("resumed: "));
    assert.match(started.at(-1)?.data ?? "", new RegExp(`^resumed: claude --resume ${resumedTo} `));
    assert.equal(resumed?.conversationId, resumedTo);
  });
});
