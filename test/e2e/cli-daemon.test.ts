/**
 * The daemon's life as a user drives it through the built CLI: a command that needs a daemon
 * starts one and says so; `status` reports it (exit 0) or its absence (exit 3); `stop-daemon`
 * stops it; neither `status` nor `stop-daemon` ever starts one; a daemon that was killed is
 * replaced by the next command; `daemon --foreground` serves in its own process.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, existsSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { bindService } from "../../daemon/rpc/service-binding.js";
import { DaemonService } from "../../gen/claude_sessions/v1/daemon_pb.js";
import { assertNoStackTrace, type CliHome, cliHome } from "../helpers/cli-home.js";
import { cliBin } from "../helpers/paths.js";
import { isAlive, waitFor } from "../helpers/wait.js";

/** LSB: "program is not running". */
const EXIT_NOT_RUNNING = 3;

describe("e2e: the daemon's life through the CLI", () => {
  let home: CliHome;

  before(() => {
    home = cliHome();
  });

  after(async () => {
    await home.cleanup();
  });

  const assertNoDaemon = () => {
    assert.equal(existsSync(join(home.path, "daemon.sock")), false, "a socket exists");
    assert.equal(existsSync(join(home.path, "daemon.pid")), false, "a pid file exists");
  };

  it("status and stop-daemon with no daemon say so and start none", async () => {
    const status = await home.run(["status"]);
    assert.equal(status.code, EXIT_NOT_RUNNING, status.stderr);
    assert.match(status.stdout, /not running/);
    assertNoStackTrace(status.stderr);

    const json = await home.run(["status", "--json"]);
    assert.equal(json.code, EXIT_NOT_RUNNING);
    assert.equal((JSON.parse(json.stdout) as { running: boolean }).running, false);

    const stop = await home.run(["stop-daemon"]);
    assert.equal(stop.code, 0, stop.stderr);
    assert.match(stop.stdout, /not running/);
    assertNoStackTrace(stop.stderr);

    assertNoDaemon();
    assert.equal((await home.run(["status"])).code, EXIT_NOT_RUNNING);
  });

  let daemonPid: number;

  it("start with no daemon starts one, saying so on stderr", async () => {
    const result = await home.run(["start", "--", "sleep", "100"]);
    assert.equal(result.code, 0, result.stderr);
    const started = /started daemon \(pid (\d+)\)/.exec(result.stderr);
    assert.ok(started, `stderr does not say a daemon was started: ${result.stderr}`);
    daemonPid = Number(started[1]);
    assert.ok(isAlive(daemonPid), "the daemon it reported is not running");
    assert.match(result.stdout, /^✅ Session started: [0-9a-f-]{36}$/m);

    // The next command finds it running and says nothing about starting one.
    const again = await home.run(["list"]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stderr, "");
  });

  it("status reports the running daemon with the pid of status --json and daemon.pid", async () => {
    const status = await home.run(["status"]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, new RegExp(`^✅ Daemon is running \\(pid ${daemonPid}\\b`));
    assert.match(status.stdout, /1 of 1 sessions running/);

    const json = await home.json<{
      running: boolean;
      pid: number;
      sessions: number;
      counters: Record<string, number>;
    }>(["status"]);
    assert.equal(json.running, true);
    assert.equal(json.pid, daemonPid);
    assert.equal(json.sessions, 1);
    assert.equal(json.counters.terminal_backlog_limit_bytes, 4 * 1024 * 1024);
    assert.equal(json.counters.terminal_resyncs, 0);
    assert.equal(home.daemonPid(), daemonPid);
  });

  it("stop-daemon stops it; status then exits 3 and says it is not running", async () => {
    const stop = await home.run(["stop-daemon"]);
    assert.equal(stop.code, 0, stop.stderr);
    assert.match(stop.stdout, /^✅ Daemon stopped \(pid \d+\)$/m);
    // stop-daemon returns once the daemon is gone.
    assert.equal(isAlive(daemonPid), false, "the daemon is still running");
    assertNoDaemon();

    const status = await home.run(["status"]);
    assert.equal(status.code, EXIT_NOT_RUNNING);
    assert.equal(status.stdout, "❌ Daemon is not running\n");
    // And asking did not start one.
    assertNoDaemon();
  });

  it("after a daemon is killed, the next command starts a new one on the stale socket", async () => {
    const first = await home.run(["list"]);
    assert.equal(first.code, 0, first.stderr);
    const started = /started daemon \(pid (\d+)\)/.exec(first.stderr);
    assert.ok(started, `list did not start a daemon: ${first.stderr}`);
    const crashed = Number(started[1]);
    process.kill(crashed, "SIGKILL");
    await waitFor("the daemon to die", () => !isAlive(crashed));
    assert.ok(existsSync(join(home.path, "daemon.sock")), "a killed daemon leaves its socket");

    const next = await home.run(["list", "--json"]);
    assert.equal(next.code, 0, next.stderr);
    const restarted = /started daemon \(pid (\d+)\)/.exec(next.stderr);
    assert.ok(restarted, `list did not start a daemon: ${next.stderr}`);
    assert.notEqual(Number(restarted[1]), crashed);
    assert.ok(Array.isArray(JSON.parse(next.stdout)), next.stdout);
    assert.equal(home.daemonPid(), Number(restarted[1]));
  });
});

describe("e2e: daemon --foreground", () => {
  it("serves in the CLI's own process until SIGTERM, then exits 0", async () => {
    const home = cliHome();
    const child = spawn(process.execPath, [cliBin, "daemon", "--foreground"], {
      env: { ...process.env, CLAUDE_SESSIONS_HOME: home.path },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    try {
      const status = await waitFor("the daemon to answer", async () => {
        const result = await home.run(["status", "--json"]);
        return result.code === 0 ? (JSON.parse(result.stdout) as { pid: number }) : undefined;
      });
      assert.equal(status.pid, child.pid, "the daemon runs in the process that was started");
      child.kill("SIGTERM");
      assert.equal(await exited, 0, output);
      assert.doesNotMatch(output, /Warning|error/i);
      assert.equal((await home.run(["status"])).code, EXIT_NOT_RUNNING);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
      await home.cleanup();
    }
  });
});

describe("e2e: stop-daemon with a daemon that does not go away", () => {
  it("exits 1 and says so instead of reporting success", async () => {
    // A stand-in daemon on a temp socket: it answers Ping and Shutdown with the pid of a
    // process that keeps running.
    const home = cliHome();
    const socket = join(home.path, "stubborn.sock");
    const survivor = spawn("sleep", ["60"], { stdio: "ignore" });
    const server = new grpc.Server();
    const { definition, handlers } = bindService(DaemonService, {
      ping: async () => ({ pid: survivor.pid as number, version: "stub" }),
      reloadConfig: async () => ({}),
      shutdown: async () => ({ pid: survivor.pid as number }),
    });
    server.addService(definition, handlers);
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(`unix:${socket}`, grpc.ServerCredentials.createInsecure(), (error) =>
        error ? reject(error) : resolve(),
      ),
    );
    // Private, as the daemon keeps its socket: the CLI talks to no other.
    chmodSync(socket, 0o600);
    try {
      const result = await home.run(["stop-daemon", "--socket", socket, "--timeout", "0s"], {
        timeoutMs: 30_000,
      });
      assert.equal(result.code, 1);
      assert.equal(result.stdout, "");
      assert.match(
        result.stderr,
        new RegExp(
          `^error: the daemon \\(pid ${survivor.pid}\\) is still running .*kill -9 ${survivor.pid}\n$`,
        ),
      );
    } finally {
      survivor.kill("SIGKILL");
      server.forceShutdown();
      await home.cleanup();
    }
  });
});

describe("e2e: a daemon that accepts connections but never answers", () => {
  it("calls give up after CLAUDE_SESSIONS_CALL_TIMEOUT with a one-line error; status says so", async () => {
    const home = cliHome();
    const socket = join(home.path, "hung.sock");
    const connections: Socket[] = [];
    // Takes every connection and every byte, and never writes one back.
    const server = createServer((connection) => {
      connections.push(connection);
      connection.resume();
    });
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    chmodSync(socket, 0o600);
    try {
      const env = { CLAUDE_SESSIONS_CALL_TIMEOUT: "1s" };
      const list = await home.run(["list", "--socket", socket], { env });
      assert.equal(list.code, 1, list.stdout);
      assert.equal(list.stdout, "");
      assert.match(
        list.stderr,
        new RegExp(
          `^error: the daemon on ${socket} did not answer \\(no answer within 1 s\\);.*\n$`,
        ),
      );
      assertNoStackTrace(list.stderr);

      // A stream waits as long as it must for its messages: it starts only once the daemon has
      // answered, so these do not hang either.
      for (const args of [["attach", "some-id"], ["logs", "-f", "some-id"], ["watch"]]) {
        const stream = await home.run([...args, "--socket", socket], { env });
        assert.equal(stream.code, 1, `${args.join(" ")}: ${stream.stdout}`);
        assert.match(
          stream.stderr,
          new RegExp(
            `^error: the daemon on ${socket} did not answer \\(no answer within 1 s\\);.*\n$`,
          ),
          args.join(" "),
        );
      }

      const status = await home.run(["status", "--socket", socket]);
      assert.equal(status.code, EXIT_NOT_RUNNING);
      assert.match(
        status.stdout,
        /^❌ Daemon is not answering: a process holds .* but does not answer/,
      );

      const misuse = await home.run(["list", "--socket", socket], {
        env: { CLAUDE_SESSIONS_CALL_TIMEOUT: "soon" },
      });
      assert.equal(misuse.code, 2);
      assert.match(misuse.stderr, /^error: CLAUDE_SESSIONS_CALL_TIMEOUT takes a duration/);
    } finally {
      for (const connection of connections) connection.destroy();
      await new Promise((resolve) => server.close(resolve));
      await home.cleanup();
    }
  });
});
