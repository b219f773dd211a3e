/**
 * The daemon's own life: one per home however many start at once, a crashed one's socket
 * recovered, a private home and socket, clear refusals, and a SIGTERM that leaves its sessions
 * running (or, asked to, ends them).
 */
import assert from "node:assert/strict";
import { chmodSync, existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { DaemonClient } from "../../cli/client.js";
import { homePaths, MAX_SOCKET_PATH_BYTES } from "../../daemon/common/paths.js";
import { SessionState } from "../../gen/claude_sessions/v1/session_pb.js";
import { runCli } from "../helpers/cli.js";
import { type DaemonHandle, fixturePerTest, type RawDaemon } from "../helpers/daemon-fixture.js";
import { outputText, readLog } from "../helpers/log-reader.js";
import { isRunning, leftovers, sessionProcesses } from "../helpers/proc.js";
import type { TempHome } from "../helpers/temp-home.js";
import { waitFor } from "../helpers/wait.js";

const fixture = fixturePerTest();

function home(): TempHome {
  return fixture().home;
}

function raw(homePath: string, args: readonly string[] = []): RawDaemon {
  return fixture({ home: homePath }).spawn(args);
}

function handle(homePath: string, args: string[] = []): Promise<DaemonHandle> {
  return fixture({ home: homePath }).start({ args });
}

function mode(path: string): string {
  return (statSync(path).mode & 0o777).toString(8).padStart(4, "0");
}

describe("one daemon per home", () => {
  it("5 daemons started at once: one serves, four exit non-zero saying one runs (10 rounds)", async () => {
    const dir = home();
    const paths = homePaths(dir.path);
    const client = new DaemonClient(paths.socket);
    try {
      for (let round = 1; round <= 10; round++) {
        const racers = Array.from({ length: 5 }, () => raw(dir.path));
        const codes = new Map<RawDaemon, number | string>();
        for (const racer of racers) void racer.exited.then((code) => codes.set(racer, code));
        await waitFor(`round ${round}: four daemons to give up`, () => codes.size >= 4, 30_000);
        await waitFor(`round ${round}: the fifth to serve`, () => client.isRunning(500), 15_000);
        const { pid } = await client.daemon.ping({});
        const winner = racers.find((racer) => racer.pid === pid);
        assert.ok(winner, `round ${round}: ping answered by ${pid}, not one of ours`);
        assert.equal(codes.has(winner), false, `round ${round}: the winner is running`);
        for (const loser of racers.filter((racer) => racer !== winner)) {
          const code = await loser.exited;
          assert.ok(typeof code === "number" && code !== 0, `round ${round}: exit ${code}`);
          assert.match(loser.output(), /a daemon is already running for /, loser.output());
        }
        // The losers left the winner's socket alone.
        assert.equal((await client.daemon.ping({})).pid, pid);
        assert.equal(readFileSync(paths.pid, "utf8").trim(), String(pid));
        winner.process.kill("SIGTERM");
        assert.equal(await winner.exited, 0, winner.output());
        assert.equal(existsSync(paths.socket), false, "socket removed on exit");
      }
    } finally {
      client.close();
    }
  });

  it("after a kill -9 the next daemon recovers the stale socket", async () => {
    const dir = home();
    const paths = homePaths(dir.path);
    const first = await handle(dir.path);
    await first.kill();
    assert.ok(statSync(paths.socket).isSocket(), "the dead daemon's socket is still there");
    const second = await handle(dir.path);
    assert.equal((await second.client.daemon.ping({})).pid, second.pid);
    assert.match(second.output(), /removed stale socket/);
  });

  it("a second daemon refuses to start while one runs, and leaves it serving", async () => {
    const dir = home();
    const first = await handle(dir.path);
    const second = raw(dir.path);
    assert.equal(await second.exited, 1);
    assert.match(second.output(), /a daemon is already running for .*claude-sessions status/);
    assert.equal((await first.client.daemon.ping({})).pid, first.pid);
  });
});

describe("a private home", () => {
  it("the home is created 0700, the socket is 0600, state and logs are private", async () => {
    const parent = home();
    const fresh = join(parent.path, "nested", "home");
    const daemon = await handle(fresh);
    const paths = homePaths(fresh);
    assert.equal(mode(fresh), "0700");
    assert.ok(statSync(paths.socket).isSocket());
    assert.equal(mode(paths.socket), "0600");
    assert.equal(mode(paths.pid), "0600");
    assert.equal(mode(paths.logs), "0700");
    const { work } = fixture();
    const session = (
      await daemon.client.sessions.startSession({ workingDir: work.path, command: ["true"] })
    ).session;
    assert.ok(session);
    await waitFor("state.json", () => existsSync(paths.state));
    assert.equal(mode(paths.state), "0600");
    assert.equal(mode(session.logPath), "0600");
  });

  it("a pre-made home open to others (0777) is refused, saying chmod 700", async () => {
    const dir = home();
    chmodSync(dir.path, 0o777);
    const daemon = raw(dir.path);
    assert.equal(await daemon.exited, 1);
    assert.ok(daemon.output().includes(`fix it with: chmod 700 ${dir.path}`), daemon.output());
    assert.match(daemon.output(), /accessible to other users \(mode 0777\)/);
    assert.equal(mode(dir.path), "0777", "the daemon does not change it behind the user's back");
    assert.equal(existsSync(homePaths(dir.path).socket), false);

    // The CLI starting a daemon for it says the same, in one line, exit 1.
    const cli = await runCli(["list"], { home: dir.path });
    assert.equal(cli.code, 1, cli.stderr);
    assert.match(cli.stderr, new RegExp(`chmod 700 ${dir.path}`));
    assert.equal(cli.stderr.trim().split("\n").length, 1, cli.stderr);
  });

  it("a socket path over 107 bytes is a clear error naming the path", async () => {
    const parent = home();
    const long = join(parent.path, "d".repeat(100));
    const socket = homePaths(long).socket;
    assert.ok(Buffer.byteLength(socket) > MAX_SOCKET_PATH_BYTES);
    const daemon = raw(long);
    assert.equal(await daemon.exited, 1);
    assert.ok(daemon.output().includes(`socket path ${socket} is`), daemon.output());
    assert.match(daemon.output(), /longer than the 107 a unix socket allows/);
    assert.doesNotMatch(daemon.output(), /\n\s+at /, "no stack trace");

    const cli = await runCli(["list"], { home: long });
    assert.equal(cli.code, 1, cli.stderr);
    assert.ok(cli.stderr.includes(socket), cli.stderr);
    assert.doesNotMatch(cli.stderr, /\n\s+at /, "no stack trace");
  });
});

describe("SIGTERM", () => {
  it("leaves sessions running in their hosts, removes socket and pid file, exits 0; the next daemon serves them, same pids", async () => {
    const dir = home();
    const { work } = fixture();
    const paths = homePaths(dir.path);
    const daemon = await handle(dir.path);
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: work.path };
    const { sessions } = daemon.client;
    const ids: string[] = [];
    const leaders: number[] = [];
    for (const command of [["cat"], ["sh", "-c", "echo up-$((1+1)); sleep 1000 & wait"]]) {
      const session = (await sessions.startSession({ workingDir: work.path, command, env }))
        .session;
      assert.ok(session);
      ids.push(session.id);
      leaders.push(session.pid);
    }
    const shellLog = join(paths.logs, `${ids[1]}.jsonl`);
    await waitFor("the shell's output", () =>
      outputText(readLog(shellLog).records).includes("up-2"),
    );
    await waitFor("the shell's sleep", () =>
      sessionProcesses(leaders[1] as number).some((info) => info.command === "sleep"),
    );
    const processes = leaders.flatMap((leader) => sessionProcesses(leader).map((info) => info.pid));

    daemon.process.kill("SIGTERM");
    assert.equal(await daemon.exited, 0, daemon.output());
    assert.equal(existsSync(paths.socket), false, "socket removed");
    assert.equal(existsSync(paths.pid), false, "pid file removed");
    for (const pid of processes) assert.ok(isRunning(pid), `process ${pid} was ended`);
    const state = JSON.parse(readFileSync(paths.state, "utf8")) as {
      sessions: Array<{ id: string; state: string; pid: number }>;
    };
    for (const [index, id] of ids.entries()) {
      const saved = state.sessions.find((session) => session.id === id);
      assert.equal(saved?.state, "running", id);
      assert.equal(saved?.pid, leaders[index]);
    }

    const next = await handle(dir.path);
    for (const [index, id] of ids.entries()) {
      const session = (await next.client.sessions.getSession({ sessionId: id })).session;
      assert.equal(SessionState[session?.state ?? 0], "RUNNING", id);
      assert.equal(session?.pid, leaders[index]);
    }
    await next.client.sessions.sendInput({
      sessionId: ids[0] as string,
      input: { case: "text", value: "still-here\n" },
    });
    const catLog = join(paths.logs, `${ids[0]}.jsonl`);
    await waitFor("cat to echo through the next daemon", () =>
      outputText(readLog(catLog).records).includes("still-here"),
    );
  });

  it("Shutdown with stop_sessions ends them (INTERRUPTED, resumable); daemon --resume brings them back", async () => {
    const dir = home();
    const { work } = fixture();
    const paths = homePaths(dir.path);
    const daemon = await handle(dir.path);
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: work.path };
    const ids: string[] = [];
    const leaders: number[] = [];
    for (const command of [["cat"], ["sh", "-c", "sleep 1000 & wait"]]) {
      const session = (
        await daemon.client.sessions.startSession({ workingDir: work.path, command, env })
      ).session;
      assert.ok(session);
      ids.push(session.id);
      leaders.push(session.pid);
    }
    await waitFor("the shell's sleep", () =>
      sessionProcesses(leaders[1] as number).some((info) => info.command === "sleep"),
    );
    const processes = leaders.flatMap((leader) => sessionProcesses(leader).map((info) => info.pid));
    await daemon.client.daemon.shutdown({ stopSessions: true });
    assert.equal(await daemon.exited, 0, daemon.output());
    for (const pid of processes) assert.ok(!isRunning(pid), `process ${pid} still runs`);
    for (const leader of leaders) assert.deepEqual(leftovers(leader), []);
    const state = JSON.parse(readFileSync(paths.state, "utf8")) as {
      sessions: Array<{ id: string; state: string; pid: number }>;
    };
    for (const id of ids) {
      const saved = state.sessions.find((session) => session.id === id);
      assert.equal(saved?.state, "interrupted", id);
      assert.equal(saved?.pid, 0);
      const last = readLog(join(paths.logs, `${id}.jsonl`)).records.at(-1);
      assert.match(last?.data ?? "", /interrupted by daemon shutdown/);
    }

    // It resumes them once it serves.
    const next = await handle(dir.path, ["--resume"]);
    for (const id of ids) {
      await waitFor(`${id} to run again`, async () => {
        const session = (await next.client.sessions.getSession({ sessionId: id })).session;
        return session?.state === SessionState.RUNNING;
      });
    }
  });
});
