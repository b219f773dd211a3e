/**
 * Faults from outside: the daemon and its hosts killed with SIGKILL while sessions write as fast
 * as they can, the daemon killed the moment after it answered,
 * a session's program killed from outside, a file size limit that log writes run into, and the
 * socket file deleted under a running daemon. Nothing is lost that was on disk, nothing crashes,
 * and the CLI finds its daemon again.
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import {
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { describe, it } from "node:test";
import { DaemonClient } from "../../cli/client.js";
import { homePaths } from "../../daemon/common/paths.js";
import { SessionState } from "../../gen/claude_sessions/v1/session_pb.js";
import type { AttachSessionResponse } from "../../gen/claude_sessions/v1/session_service_pb.js";
import { runCli } from "../helpers/cli.js";
import {
  type DaemonFixture,
  type DaemonHandle,
  fixturePerTest,
} from "../helpers/daemon-fixture.js";
import { assertContiguous, firstKeptSeq, outputText, readLog } from "../helpers/log-reader.js";
import { daemonMain } from "../helpers/paths.js";
import { daemonsFor, isRunning, leftovers } from "../helpers/proc.js";
import { waitFor } from "../helpers/wait.js";

const fixture = fixturePerTest();

async function crash(daemon: DaemonHandle): Promise<void> {
  await daemon.kill();
}

interface SavedState {
  version: number;
  sessions: Array<{ id: string; state: string }>;
}

const env = () => ({ PATH: process.env.PATH ?? "/usr/bin:/bin", LANG: "C.UTF-8", PS1: "$ " });

describe("kill -9 of the daemon and the session hosts during heavy output (a power cut)", () => {
  it("leaves parseable state and logs with strictly increasing seqs; the next daemon lists the sessions INTERRUPTED", async () => {
    const daemons = fixture();
    const { home, work } = daemons;
    const paths = homePaths(home.path);
    const ROUNDS = 4;
    const WRITERS = 2;
    const writer =
      "yes 'heavy output 0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ'";
    const all: Array<{ id: string; logPath: string; pid: number; hostPid: number }> = [];
    const lastSeqs = new Map<string, number>();
    let torn = 0;
    let bytes = 0;
    let records = 0;
    let daemon = await daemons.start();
    for (let round = 1; round <= ROUNDS; round++) {
      const mine: typeof all = [];
      for (let i = 0; i < WRITERS; i++) {
        const { session } = await daemon.client.sessions.startSession({
          workingDir: work.path,
          command: ["sh", "-c", writer],
          env: env(),
        });
        assert.ok(session);
        daemons.reap(session.pid);
        mine.push({
          id: session.id,
          logPath: session.logPath,
          pid: session.pid,
          hostPid: session.hostPid,
        });
      }
      // Each round kills at a different point: more output written, more batches in flight.
      const threshold = round * 1024 * 1024;
      await waitFor(
        `round ${round}: ${threshold} bytes in every writer's log`,
        () =>
          mine.every(
            (session) => existsSync(session.logPath) && statSync(session.logPath).size >= threshold,
          ),
        30_000,
      );
      await crash(daemon);
      // The hosts write the logs: they go down with the daemon.
      for (const session of mine) process.kill(session.hostPid, "SIGKILL");
      await waitFor("the hosts to be gone", () =>
        mine.every((session) => !isRunning(session.hostPid)),
      );

      // What the dead daemon and hosts left, read strictly.
      const state = JSON.parse(readFileSync(paths.state, "utf8")) as SavedState;
      for (const session of mine) {
        assert.equal(
          state.sessions.find((saved) => saved.id === session.id)?.state,
          "running",
          session.id,
        );
        const log = readLog(session.logPath);
        if (log.torn !== undefined) torn += 1;
        bytes += statSync(session.logPath).size;
        records += log.records.length;
        // A writer this fast can pass the default 100 MiB before it is killed: then the log
        // starts at its oldest segment kept.
        assertContiguous(log.records, firstKeptSeq(session.logPath));
        assert.ok(log.records.length > 2, `${session.id}: ${log.records.length} records`);
        all.push(session);
        lastSeqs.set(session.id, log.records.at(-1)?.seq as number);
      }

      daemon = await daemons.start();
      const listed = (await daemon.client.sessions.listSessions({})).sessions;
      for (const session of all) {
        const found = listed.find((candidate) => candidate.id === session.id);
        assert.equal(found && SessionState[found.state], "INTERRUPTED", session.id);
        assert.ok(!isRunning(session.pid), `writer ${session.pid} outlived its daemon`);
        assert.deepEqual(leftovers(session.pid), []);
      }
      for (const session of mine) {
        const before = lastSeqs.get(session.id) as number;
        const log = readLog(session.logPath);
        assert.equal(log.torn, undefined, "the torn line is cut off");
        assertContiguous(log.records, firstKeptSeq(session.logPath));
        assert.equal(
          log.records.at(-1)?.seq,
          before + 1,
          "every record survived, plus the interruption",
        );
        assert.match(
          log.records.at(-1)?.data ?? "",
          /^interrupted: its session host is gone \(the machine restarted, or the host was killed\)/,
        );
        const got = (await daemon.client.sessions.getSession({ sessionId: session.id })).session;
        assert.equal(Number(got?.lastSeq), before + 1);
      }
    }
    console.log(
      `kill -9 during heavy output: ${ROUNDS} crashes with ${WRITERS} writers each, ${(bytes / 1048576).toFixed(1)} MiB and ${records} records on disk, ${torn} torn last line(s), 0 bad lines`,
    );
  });
});

describe("kill -9 of the daemon right after it answered", () => {
  it("a session it reported started is known to the next daemon; one it reported stopped stays STOPPED", async () => {
    const daemons = fixture();
    const { work } = daemons;
    const ROUNDS = 3;
    let daemon = await daemons.start();
    const started: string[] = [];
    const stopped: string[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const ended = (
        await daemon.client.sessions.startSession({
          workingDir: work.path,
          command: ["cat"],
          env: env(),
        })
      ).session;
      assert.ok(ended);
      daemons.reap(ended.pid);
      const made = await Promise.all(
        [1, 2, 3].map(() =>
          daemon.client.sessions.startSession({
            workingDir: work.path,
            command: ["cat"],
            env: env(),
          }),
        ),
      );
      const stop = await daemon.client.sessions.stopSession({
        sessionId: ended.id,
        gracePeriod: { seconds: 2n },
      });
      assert.equal(stop.session?.state, SessionState.STOPPED);
      for (const { session } of made) {
        assert.ok(session);
        daemons.reap(session.pid);
        started.push(session.id);
      }
      stopped.push(ended.id);
      // The crash comes the moment the answers are in.
      await crash(daemon);
      daemon = await daemons.start();
      const listed = new Map(
        (await daemon.client.sessions.listSessions({})).sessions.map((session) => [
          session.id,
          SessionState[session.state],
        ]),
      );
      // Their hosts outlived the crash: the next daemon serves them.
      for (const id of started)
        assert.equal(listed.get(id), "RUNNING", `round ${round}: started ${id}`);
      for (const id of stopped)
        assert.equal(listed.get(id), "STOPPED", `round ${round}: stopped ${id}`);
    }
  });
});

describe("a session's program killed from outside", () => {
  it("kill -9 of its pid: EXITED with exit_signal SIGKILL, the event in its log", async () => {
    const daemons = fixture();
    const { work } = daemons;
    const daemon = await daemons.start();
    const { session } = await daemon.client.sessions.startSession({
      workingDir: work.path,
      command: ["sh", "-c", "echo up; exec sleep 1000"],
      env: env(),
    });
    assert.ok(session);
    daemons.reap(session.pid);
    await waitFor("the program to run", () =>
      outputText(readLog(session.logPath).records).includes("up"),
    );
    process.kill(session.pid, "SIGKILL");
    const ended = await waitFor("the session to end", async () => {
      const current = (await daemon.client.sessions.getSession({ sessionId: session.id })).session;
      return current?.state === SessionState.EXITED ? current : undefined;
    });
    assert.equal(ended.exitSignal, "SIGKILL");
    assert.equal(ended.exitCode, undefined);
    assert.equal(ended.pid, 0);
    const { records } = readLog(session.logPath);
    assertContiguous(records);
    assert.equal(records.at(-1)?.data, "exited (killed by SIGKILL)");
    assert.deepEqual(leftovers(session.pid), []);
  });
});

describe("a file size limit (RLIMIT_FSIZE) that the log runs into", () => {
  it("the session keeps running and answering, the error is in log_error and the daemon log, Ping works", async () => {
    const daemons = fixture();
    const { home, work } = daemons;
    const paths = homePaths(home.path);
    const LIMIT = 256 * 1024;
    // Holds for root too, unlike file permissions: the kernel refuses writes past the limit.
    const daemon = await daemons.start({ wrapper: ["prlimit", `--fsize=${LIMIT}`] });
    const { sessions } = daemon.client;
    const { session } = await sessions.startSession({
      workingDir: work.path,
      command: ["bash", "--norc", "--noprofile"],
      env: env(),
      cols: 80,
      rows: 24,
    });
    assert.ok(session);
    daemons.reap(session.pid);
    // A follower reads from memory while the file is stuck: it must see the session go on.
    const follow = sessions.attachSession({ sessionId: session.id, follow: true });
    let followed = "";
    follow.on("data", (response: AttachSessionResponse) => {
      for (const entry of response.entries) followed += entry.data;
    });
    follow.on("error", () => undefined);
    try {
      await sessions.sendInput({
        sessionId: session.id,
        input: {
          case: "text",
          value: `yes 'past the limit' | head -c ${4 * LIMIT}; echo filled-$((2*2))\r`,
        },
      });
      const failing = await waitFor(
        "the log error",
        async () => {
          const current = (await sessions.getSession({ sessionId: session.id })).session;
          return current?.logError ? current : undefined;
        },
        30_000,
      );
      assert.match(failing.logError, /cannot write .*\.jsonl: /);
      assert.equal(failing.state, SessionState.RUNNING);
      await waitFor("the daemon log to report it", () =>
        /warn session [0-9a-f-]+: cannot write .*\.jsonl: .*(EFBIG|file too large|short write)/.test(
          daemon.output(),
        ),
      );
      await waitFor("the output to end", () => followed.includes("filled-4"), 30_000);

      // Still answering input, seen on its screen and by the follower.
      await sessions.sendInput({
        sessionId: session.id,
        input: { case: "text", value: "echo alive-$((6*7))\r" },
      });
      await waitFor("the session to answer", async () => {
        const screen = await sessions.captureScreen({ sessionId: session.id });
        return screen.text.includes("alive-42");
      });
      await waitFor("the follower to see the answer", () => followed.includes("alive-42"));
      const pong = await daemon.client.daemon.ping({});
      assert.equal(pong.pid, daemon.pid);
      const current = (await sessions.getSession({ sessionId: session.id })).session;
      assert.equal(current?.state, SessionState.RUNNING);
      assert.equal(current?.pid, session.pid);

      // The file holds what fitted, one valid record per line.
      assert.ok(statSync(session.logPath).size <= LIMIT);
      const { records } = readLog(session.logPath);
      assertContiguous(records);
      assert.ok(records.length > 2);

      // The state file still fits and is still written.
      const stopped = (
        await sessions.stopSession({ sessionId: session.id, gracePeriod: { seconds: 2n } })
      ).session;
      assert.equal(stopped?.state, SessionState.STOPPED);
      await waitFor("state.json to record the stop", () => {
        const state = JSON.parse(readFileSync(paths.state, "utf8")) as SavedState;
        return state.sessions.find((saved) => saved.id === session.id)?.state === "stopped";
      });
    } finally {
      follow.cancel();
    }
    assert.equal(daemon.process.exitCode, null, "the daemon is alive");
    assert.doesNotMatch(daemon.output(), /uncaught exception|unhandled rejection/);
    assert.equal(await daemon.stop(), 0, daemon.output());
  });
});

describe("the daemon's own log failing", () => {
  /**
   * Starts a session, checks Ping, then SIGTERM: the daemon must serve and exit 0 throughout.
   * The deadlines only keep a daemon that stopped answering from hanging the test: they are far
   * longer than a loaded machine takes to start a session host (how fast it starts is bench/'s
   * to measure).
   */
  async function stillServes(
    daemons: DaemonFixture,
    client: DaemonClient,
    pid: number,
    work: string,
    exited: Promise<unknown>,
  ) {
    for (let round = 0; round < 3; round++) {
      const { session } = await client.sessions.startSession(
        {
          workingDir: work,
          command: ["sh", "-c", "echo hi; exec cat"],
          env: env(),
        },
        { deadline: Date.now() + 30_000 },
      );
      assert.ok(session);
      daemons.reap(session.pid);
      const pong = await client.daemon.ping({}, { deadline: Date.now() + 10_000 });
      assert.equal(pong.pid, pid);
      await client.sessions.stopSession(
        { sessionId: session.id, gracePeriod: { seconds: 2n } },
        { deadline: Date.now() + 30_000 },
      );
    }
    process.kill(pid, "SIGTERM");
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      exited,
      new Promise((resolve) => {
        timer = setTimeout(() => resolve("still running 10 s after SIGTERM"), 10_000);
      }),
    ]);
    clearTimeout(timer);
    return code;
  }

  it("stderr a pipe nobody reads any more (EPIPE): it keeps serving and exits 0 on SIGTERM", async () => {
    const daemons = fixture();
    const { work } = daemons;
    const daemon = await daemons.start();
    // The process that started it in the foreground is gone, and its end of the pipes with it.
    daemon.process.stdout?.destroy();
    daemon.process.stderr?.destroy();
    assert.equal(
      await stillServes(daemons, daemon.client, daemon.pid, work.path, daemon.exited),
      0,
    );
  });

  it("daemon.log at a file size limit (EFBIG): it starts, serves and exits 0 on SIGTERM", async () => {
    const daemons = fixture();
    const { home, work } = daemons;
    const LIMIT = 64 * 1024;
    const logPath = homePaths(home.path).log;
    writeFileSync(logPath, "x".repeat(LIMIT), { mode: 0o600 });
    const log = openSync(logPath, "a");
    const child = spawn(
      "prlimit",
      [`--fsize=${LIMIT}`, process.execPath, daemonMain, "--foreground"],
      { env: { ...process.env, CLAUDE_SESSIONS_HOME: home.path }, stdio: ["ignore", log, log] },
    );
    closeSync(log);
    const exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
    const client = new DaemonClient(homePaths(home.path).socket);
    try {
      await waitFor(
        "the daemon to serve although it cannot log",
        async () => {
          if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}`);
          return client.isRunning(500);
        },
        15_000,
      );
      const code = await stillServes(daemons, client, child.pid as number, work.path, exited);
      assert.equal(code, 0);
      assert.equal(statSync(logPath).size, LIMIT);
    } finally {
      client.close();
      if (child.exitCode === null) child.kill("SIGKILL");
      await exited;
    }
  });
});

describe("the socket file deleted under a running daemon", () => {
  it("the next CLI call works, `daemon` says one runs, and no second daemon is left", async () => {
    const daemons = fixture();
    const { home, work } = daemons;
    const paths = homePaths(home.path);
    const daemon = await daemons.start();
    const { session } = await daemon.client.sessions.startSession({
      workingDir: work.path,
      command: ["cat"],
      env: env(),
      name: "survivor",
    });
    assert.ok(session);
    daemons.reap(session.pid);

    rmSync(paths.socket);
    const started = Date.now();
    const list = await runCli(["list"], { home: home.path });
    const recovered = Date.now() - started;
    assert.equal(list.code, 0, `list right after the socket was deleted: ${list.stderr}`);
    assert.match(list.stdout, /survivor/);
    assert.doesNotMatch(list.stderr, /started daemon/, "no new daemon was started");

    rmSync(paths.socket);
    const again = await runCli(["daemon"], { home: home.path });
    assert.equal(again.code, 1, again.stderr);
    assert.match(again.stderr, /a daemon is already running for /);
    assert.equal(again.stderr.trim().split("\n").length, 1, again.stderr);
    await waitFor("the socket to be bound again", () => existsSync(paths.socket), 5000);
    const status = await runCli(["status"], { home: home.path });
    assert.equal(status.code, 0, status.stdout);
    assert.match(status.stdout, new RegExp(`pid ${daemon.pid}`));
    assert.equal((await daemon.client.daemon.ping({})).pid, daemon.pid);
    assert.match(daemon.output(), /socket .* was removed; binding it again/);
    // The daemons the CLI tried to start gave up; only the first serves this home.
    await waitFor("no other daemon for the home", () => {
      const found = daemonsFor(home.path);
      return found.length === 1 && found[0] === daemon.pid;
    });
    console.log(
      `socket deleted: \`list\` answered after ${recovered} ms (the daemon binds again within ~1 s)`,
    );
  });
});
