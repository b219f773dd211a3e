/**
 * Stopping and replacing the daemon through the built CLI: `stop-daemon --stop-sessions` ends
 * the sessions with it; `daemon restart` puts a new daemon in the old one's place (or starts one
 * when none runs) and keeps the sessions. What each asks of the daemon is read off a stand-in
 * daemon's Shutdown requests.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { bindService } from "../../daemon/rpc/service-binding.js";
import { DaemonService, type ShutdownRequest } from "../../gen/claude_sessions/v1/daemon_pb.js";
import { type CliHome, cliHome } from "../helpers/cli-home.js";
import { isAlive, waitFor } from "../helpers/wait.js";

interface SessionJson {
  id: string;
  state: string;
  pid: number;
}

/** A stand-in daemon on `socket`: Ping and Shutdown answer with `pid`, and Ping with `home`. */
async function standInDaemon(socket: string, pid: number, home: string) {
  const requests: ShutdownRequest[] = [];
  const server = new grpc.Server();
  const { definition, handlers } = bindService(DaemonService, {
    ping: async () => ({ pid, version: "stand-in", home }),
    reloadConfig: async () => ({}),
    shutdown: async (request: ShutdownRequest) => {
      requests.push(request);
      return { pid };
    },
  });
  server.addService(definition, handlers);
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix:${socket}`, grpc.ServerCredentials.createInsecure(), (error) =>
      error ? reject(error) : resolve(),
    ),
  );
  // Private, as the daemon keeps its socket: the CLI talks to no other.
  chmodSync(socket, 0o600);
  return { requests, close: () => server.forceShutdown() };
}

/** The pid of a process that has come and gone. */
async function endedPid(): Promise<number> {
  const child = spawn("true", { stdio: "ignore" });
  await new Promise((resolve) => child.once("exit", resolve));
  return child.pid as number;
}

describe("e2e: stop-daemon --stop-sessions", () => {
  it("stops the daemon and the sessions it ran", async () => {
    const home = cliHome();
    try {
      const session = await home.json<SessionJson>(["start", "--", "sleep", "100"]);
      const pid = (await home.json<{ pid: number }>(["status"])).pid;
      const result = await home.run(["stop-daemon", "--stop-sessions", "--timeout", "1s"]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(
        result.stdout,
        `✅ Daemon stopped (pid ${pid}), and the session that was running\n`,
      );
      assert.equal(isAlive(pid), false, "the daemon is still running");
      await waitFor("the session's program to end", () => !isAlive(session.pid));
    } finally {
      await home.cleanup();
    }
  });

  it("sends stop_sessions only with --stop-sessions, and --timeout as the grace", async () => {
    const home = cliHome();
    const daemon = await standInDaemon(join(home.path, "stand-in.sock"), await endedPid(), "");
    try {
      const socket = join(home.path, "stand-in.sock");
      await home.ok(["stop-daemon", "--socket", socket]);
      await home.ok(["stop-daemon", "--socket", socket, "--stop-sessions", "--timeout", "2s"]);
      const [plain, stopping] = daemon.requests;
      assert.equal(daemon.requests.length, 2);
      assert.equal(plain?.stopSessions, false);
      assert.equal(plain?.gracePeriod, undefined);
      assert.equal(stopping?.stopSessions, true);
      assert.equal(stopping?.gracePeriod?.seconds, 2n);
    } finally {
      daemon.close();
      await home.cleanup();
    }
  });
});

describe("e2e: daemon restart", () => {
  let home: CliHome;

  before(() => {
    home = cliHome();
  });

  after(async () => {
    await home.cleanup();
  });

  const daemonPid = async () => (await home.json<{ pid: number }>(["status"])).pid;

  it("with no daemon starts one, and says so", async () => {
    const result = await home.run(["daemon", "restart"]);
    assert.equal(result.code, 0, result.stderr);
    const started = /^Daemon is not running; starting one\n✅ Daemon started \(pid (\d+)\)\n$/.exec(
      result.stdout,
    );
    assert.ok(started, result.stdout);
    assert.equal(await daemonPid(), Number(started[1]));
    assert.equal(home.daemonPid(), Number(started[1]));
  });

  it("replaces the daemon: the old one gone, a new one answering, sessions kept", async () => {
    const session = await home.json<SessionJson>(["start", "--", "sleep", "100"]);
    const old = await daemonPid();
    const result = await home.run(["daemon", "restart"]);
    assert.equal(result.code, 0, result.stderr);
    const replaced = /^✅ Daemon restarted \(pid (\d+) -> (\d+)\)\n$/.exec(result.stdout);
    assert.ok(replaced, result.stdout);
    assert.equal(Number(replaced[1]), old);
    const fresh = Number(replaced[2]);
    assert.notEqual(fresh, old);
    assert.equal(isAlive(old), false, "the old daemon is still running");
    assert.equal(await daemonPid(), fresh);
    const sessions = await home.json<SessionJson[]>(["list", "--all"]);
    assert.deepEqual(
      sessions.map((each) => each.id),
      [session.id],
    );
  });

  it("--resume starts the new daemon with --resume: the session runs", async () => {
    const [session] = await home.json<SessionJson[]>(["list", "--all"]);
    assert.ok(session);
    const result = await home.run(["daemon", "restart", "--resume"]);
    assert.equal(result.code, 0, result.stderr);
    const fresh = await daemonPid();
    const argv = readFileSync(`/proc/${fresh}/cmdline`, "utf8").split("\0");
    assert.ok(argv.includes("--resume"), argv.join(" "));
    const after = await waitFor("the session to run", async () => {
      const shown = await home.json<SessionJson>(["show", session.id]);
      return shown.state === "running" ? shown : undefined;
    });
    assert.ok(isAlive(after.pid));
  });

  it("asks the old daemon to leave the sessions running, and starts the new one in its home", async () => {
    const home = cliHome();
    const socket = join(home.path, "stand-in.sock");
    const daemon = await standInDaemon(socket, await endedPid(), home.path);
    try {
      const result = await home.run(["daemon", "restart", "--socket", socket]);
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(
        daemon.requests.map((request) => request.stopSessions),
        [false],
      );
      const fresh = Number(/-> (\d+)\)$/m.exec(result.stdout)?.[1]);
      assert.equal((await home.json<{ pid: number }>(["status"])).pid, fresh);
    } finally {
      daemon.close();
      await home.cleanup();
    }
  });

  it("exits 1 with one line when the old daemon does not go away", async () => {
    const home = cliHome();
    const socket = join(home.path, "stand-in.sock");
    const survivor = spawn("sleep", ["60"], { stdio: "ignore" });
    const daemon = await standInDaemon(socket, survivor.pid as number, home.path);
    try {
      const result = await home.run(["daemon", "restart", "--socket", socket], {
        timeoutMs: 60_000,
      });
      assert.equal(result.code, 1, result.stdout);
      assert.equal(result.stdout, "");
      assert.match(
        result.stderr,
        new RegExp(
          `^error: the daemon \\(pid ${survivor.pid}\\) is still running .*kill -9 ${survivor.pid}\n$`,
        ),
      );
      assert.equal(home.daemonPid(), undefined, "a new daemon was started");
    } finally {
      survivor.kill("SIGKILL");
      daemon.close();
      await home.cleanup();
    }
  });
});
