/**
 * Processes that leave their session's terminal session (setsid, a double-forked daemon, a
 * subshell typed into an interactive shell) are still the session's: a stop ends them, through
 * the daemon that started them or a next one, and the daemon ends them when the session's host
 * is killed.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { afterEach, describe, it } from "node:test";
import { DaemonClient } from "../../cli/client.js";
import { homePaths } from "../../daemon/common/paths.js";
import { SessionState } from "../../gen/claude_sessions/v1/session_pb.js";
import { type DaemonHandle, fixturePerTest } from "../helpers/daemon-fixture.js";
import { outputText, readLog } from "../helpers/log-reader.js";
import { cliBin } from "../helpers/paths.js";
import { carryingSessionId, isRunning, type ProcInfo } from "../helpers/proc.js";
import { waitFor } from "../helpers/wait.js";

const fixture = fixturePerTest();
/** Sessions whose processes must not outlive the test, whatever the daemon did. */
const ids: string[] = [];

afterEach(() => {
  for (const id of ids.splice(0)) {
    for (const info of carryingSessionId(id)) {
      try {
        process.kill(info.pid, "SIGKILL");
      } catch {
        // Gone in the meantime.
      }
    }
  }
});

/** Forks, starts a new session, forks again and ignores SIGTERM: a daemon that means to stay. */
const DOUBLE_FORK = `
import os, signal, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        null = os.open("/dev/null", os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        time.sleep(1000)
    os._exit(0)
os.wait()
time.sleep(1000)
`;

interface Escaped {
  id: string;
  /** Processes of the session outside its terminal's session. */
  escaped: ProcInfo[];
}

/** Starts the three ways out and waits until each has a process outside its session. */
async function startEscapers(daemon: DaemonHandle, work: string): Promise<Escaped[]> {
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: work, LANG: "C.UTF-8" };
  const { sessions } = daemon.client;
  const start = async (command: string[]) => {
    const session = (await sessions.startSession({ workingDir: work, command, env })).session;
    assert.ok(session);
    ids.push(session.id);
    return session;
  };
  const started = [
    await start(["bash", "-c", "setsid sleep 1000 & exec sleep 1001"]),
    await start(["/usr/bin/python3", "-c", DOUBLE_FORK]),
    await start(["bash", "--norc", "--noprofile", "-i"]),
  ];
  const shell = started[2];
  assert.ok(shell);
  await sessions.sendInput({
    sessionId: shell.id,
    input: { case: "text", value: "(setsid sleep 1000 &)\r" },
  });
  return Promise.all(
    started.map(async (session) => ({
      id: session.id,
      escaped: await waitFor(
        `a process of ${session.command.join(" ")} outside its session`,
        () => {
          const out = carryingSessionId(session.id).filter((info) => info.session !== session.pid);
          return out.length > 0 ? out : undefined;
        },
      ),
    })),
  );
}

async function assertNoneLeft(sessions: readonly Escaped[]): Promise<void> {
  await waitFor(
    "no process of the sessions left",
    () => sessions.every((session) => carryingSessionId(session.id).length === 0),
    5000,
  ).catch((error: Error) => {
    const left = sessions.flatMap((session) => carryingSessionId(session.id));
    throw new Error(`${error.message}: ${JSON.stringify(left)}`);
  });
}

describe("processes that left their session's terminal session", () => {
  it("stop ends them: setsid, a double-forked daemon ignoring SIGTERM, (setsid sleep &) in bash -i", async () => {
    const daemons = fixture();
    const { work } = daemons;
    const daemon = await daemons.start();
    const sessions = await startEscapers(daemon, work.path);
    for (const session of sessions) {
      await daemon.client.sessions.stopSession({
        sessionId: session.id,
        gracePeriod: { seconds: 1n },
      });
    }
    await assertNoneLeft(sessions);
  });

  it("after kill -9 of the daemon they stay with their running session; a stop through the next daemon ends them", async () => {
    const daemons = fixture();
    const { work } = daemons;
    const first = await daemons.start();
    const sessions = await startEscapers(first, work.path);
    await first.kill();
    const second = await daemons.start();
    for (const session of sessions) {
      const found = (await second.client.sessions.getSession({ sessionId: session.id })).session;
      assert.equal(found?.state, SessionState.RUNNING, session.id);
      for (const info of session.escaped) assert.ok(isRunning(info.pid), `${info.pid} was ended`);
      await second.client.sessions.stopSession({
        sessionId: session.id,
        gracePeriod: { seconds: 1n },
      });
    }
    await assertNoneLeft(sessions);
  });

  it("after kill -9 of a session's host, the daemon ends what the host left and says so", async () => {
    const daemons = fixture();
    const { work } = daemons;
    const daemon = await daemons.start();
    const sessions = await startEscapers(daemon, work.path);
    for (const session of sessions) {
      const found = (await daemon.client.sessions.getSession({ sessionId: session.id })).session;
      assert.ok(found && found.hostPid > 0, "the session has a host");
      process.kill(found.hostPid, "SIGKILL");
    }
    await assertNoneLeft(sessions);
    for (const session of sessions) {
      const found = await waitFor(`session ${session.id} to be INTERRUPTED`, async () => {
        const got = (await daemon.client.sessions.getSession({ sessionId: session.id })).session;
        return got?.state === SessionState.INTERRUPTED ? got : undefined;
      });
      assert.match(found.failureReason, /its session host ended unexpectedly \(host pid \d+\)/);
    }
  });

  it("a daemon started from inside a session, for another home, is not one of its processes", async () => {
    const daemons = fixture();
    const { work } = daemons;
    const other = fixture().home;
    const daemon = await daemons.start();
    const env = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: work.path,
      LANG: "C.UTF-8",
      CLAUDE_SESSIONS_HOME: other.path,
    };
    const { session } = await daemon.client.sessions.startSession({
      workingDir: work.path,
      command: ["bash", "-c", `'${process.execPath}' '${cliBin}' daemon; exec sleep 1000`],
      env,
    });
    assert.ok(session);
    ids.push(session.id);
    const logPath = join(daemon.home, "logs", `${session.id}.jsonl`);
    const launched = await waitFor("the daemon started from the session", () => {
      const match = /Daemon started \(pid (\d+)\)/.exec(outputText(readLog(logPath).records));
      return match ? Number(match[1]) : undefined;
    });
    const client = new DaemonClient(homePaths(other.path).socket);
    try {
      await daemon.client.sessions.stopSession({ sessionId: session.id });
      assert.ok(isRunning(launched), "the other home's daemon outlived the session");
      assert.ok(await client.isRunning(), "and still answers");
    } finally {
      client.close();
      if (isRunning(launched)) process.kill(launched, "SIGTERM");
      await waitFor("the other daemon's exit", () => !isRunning(launched));
    }
  });
});
