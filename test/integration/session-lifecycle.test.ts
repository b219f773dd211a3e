/**
 * A session's life with real programs in real PTYs: output reaching the log with its seq, an
 * exit code coming back, a stop that hangs up an interactive shell, and one that ends a program
 * (and its children) ignoring SIGHUP and SIGTERM.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { SessionState } from "../../gen/claude_sessions/v1/session_pb.js";
import { type DaemonHandle, useDaemon } from "../helpers/daemon-fixture.js";
import { assertContiguous, outputText, readLog } from "../helpers/log-reader.js";
import {
  isRunning,
  leftovers,
  liveChildren,
  sessionProcesses,
  zombieChildren,
} from "../helpers/proc.js";
import type { TempHome } from "../helpers/temp-home.js";
import { waitFor } from "../helpers/wait.js";

const RFC3339_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe("session lifecycle", () => {
  const fixture = useDaemon();
  let daemon: DaemonHandle;
  let work: TempHome;
  let env: Record<string, string>;

  before(async () => {
    daemon = fixture.daemon;
    work = fixture.work;
    env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: work.path, LANG: "C.UTF-8" };
  });

  it("bash: typed commands' output reaches logs/<id>.jsonl in seq order; exit 3 is EXITED 3", async () => {
    const { sessions } = daemon.client;
    const started = (
      await sessions.startSession({
        workingDir: work.path,
        command: ["bash", "--norc", "--noprofile"],
        env,
      })
    ).session;
    assert.ok(started);
    assert.equal(started.state, SessionState.RUNNING);
    assert.ok(started.pid > 1);
    const logPath = join(daemon.home, "logs", `${started.id}.jsonl`);
    assert.equal(started.logPath, logPath);

    // The shell computes 42, so the line is output, not the terminal echoing what was typed.
    await sessions.sendInput({
      sessionId: started.id,
      input: { case: "text", value: "echo marker-$((6*7)) in $PWD\r" },
    });
    await waitFor("the command's output in the log", () =>
      outputText(readLog(logPath).records).includes(`marker-42 in ${work.path}`),
    );
    await sessions.sendInput({
      sessionId: started.id,
      input: { case: "text", value: "printf 'second-%s\\n' ok\r" },
    });
    await waitFor("the second output in the log", () =>
      outputText(readLog(logPath).records).includes("second-ok"),
    );
    const running = readLog(logPath);
    assert.equal(running.torn, undefined);
    assertContiguous(running.records);
    assert.equal(running.records[0]?.kind, "event");
    assert.match(running.records[0]?.data ?? "", /^started: bash --norc --noprofile \(pid \d+/);
    let previous = "";
    for (const record of running.records) {
      assert.match(record.time, RFC3339_MS);
      assert.ok(record.time >= previous, `${record.time} after ${previous}`);
      previous = record.time;
    }
    const marker = running.records.find((record) => record.data.includes("marker-42"));
    const second = running.records.find((record) => record.data.includes("second-ok"));
    assert.ok(marker && second && second.seq > marker.seq, "later output has a larger seq");

    await sessions.sendInput({ sessionId: started.id, input: { case: "text", value: "exit 3\r" } });
    const ended = await waitFor("the session to end", async () => {
      const { session } = await sessions.getSession({ sessionId: started.id });
      return session?.state === SessionState.RUNNING ? undefined : session;
    });
    assert.equal(SessionState[ended.state], "EXITED");
    assert.equal(ended.exitCode, 3);
    assert.equal(ended.exitSignal, "");
    assert.equal(ended.pid, 0);
    assert.ok(ended.endedAt !== undefined);
    assert.ok(!isRunning(started.pid), "the shell is gone");

    const final = readLog(logPath);
    assert.equal(final.torn, undefined);
    assertContiguous(final.records);
    assert.equal(Number(ended.lastSeq), final.records.length);
    const last = final.records.at(-1);
    assert.equal(last?.kind, "event");
    assert.match(last?.data ?? "", /exit.*exit code 3/);
  });

  it("stop: an interactive shell, which ignores SIGTERM, ends on the terminal's hang-up, its job too", async () => {
    const { sessions } = daemon.client;
    const started = (
      await sessions.startSession({
        workingDir: work.path,
        command: ["bash", "--norc", "--noprofile", "-i"],
        env,
      })
    ).session;
    assert.ok(started);
    await sessions.sendInput({
      sessionId: started.id,
      input: { case: "text", value: "sleep 1000\r" },
    });
    const sleeper = await waitFor("the foreground sleep", () =>
      sessionProcesses(started.pid).find((info) => info.command === "sleep" && info.state !== "Z"),
    );
    // Past the grace the shell would end by SIGKILL; it must end on the hang-up.
    const stopped = (
      await sessions.stopSession({ sessionId: started.id, gracePeriod: { seconds: 30n } })
    ).session;
    assert.equal(SessionState[stopped?.state ?? 0], "STOPPED");
    assert.equal(stopped?.exitSignal, "SIGHUP");
    assert.ok(!isRunning(sleeper.pid), "the shell's foreground job is gone");
    const log = readLog(join(daemon.home, "logs", `${started.id}.jsonl`));
    assert.match(log.records.at(-1)?.data ?? "", /stopped by request \(killed by SIGHUP\)/);
  });

  it("stop: a program ignoring SIGHUP and SIGTERM is killed after the grace period, with its children", async () => {
    const { sessions } = daemon.client;
    const started = (
      await sessions.startSession({
        workingDir: work.path,
        command: ["bash", "-c", "trap '' HUP TERM; sleep 1000 & echo child=$!; wait"],
        env,
      })
    ).session;
    assert.ok(started);
    const leader = started.pid;
    const sleeper = await waitFor("the background sleep", () =>
      sessionProcesses(leader).find((info) => info.command === "sleep" && info.state !== "Z"),
    );

    const graceMs = 1000;
    const before = performance.now();
    const stopped = (
      await sessions.stopSession({ sessionId: started.id, gracePeriod: { seconds: 1n } })
    ).session;
    const tookMs = performance.now() - before;
    assert.ok(stopped);
    assert.ok(tookMs >= graceMs, `stopped after ${tookMs.toFixed(0)} ms, before the grace period`);
    assert.ok(tookMs < graceMs + 3000, `stop took ${tookMs.toFixed(0)} ms`);
    assert.equal(SessionState[stopped.state], "STOPPED");
    assert.equal(stopped.exitSignal, "SIGKILL");
    assert.equal(stopped.pid, 0);

    assert.ok(!isRunning(leader), "the program is gone");
    // The run has ended once its host has: the daemon started it and has reaped it.
    assert.deepEqual(liveChildren(daemon.pid), [], "the session's host has ended");
    assert.deepEqual(zombieChildren(daemon.pid), [], "the daemon reaped the host");
    await waitFor(
      "no process left in the session",
      () => leftovers(leader).length === 0 && !isRunning(sleeper.pid),
      5000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}: ${JSON.stringify(leftovers(leader))}`);
    });

    const log = readLog(join(daemon.home, "logs", `${started.id}.jsonl`));
    assertContiguous(log.records);
    assert.match(log.records.at(-1)?.data ?? "", /stopped by request \(killed by SIGKILL\)/);

    // Stopping an ended session returns it unchanged, at once.
    const again = (
      await sessions.stopSession({ sessionId: started.id, gracePeriod: { seconds: 1n } })
    ).session;
    assert.deepEqual(again, stopped);
  });
});
