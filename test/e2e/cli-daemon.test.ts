/**
 * The daemon's life as a user drives it through the built CLI: a command that needs a daemon
 * starts one and says so; `status` reports it (exit 0) or its absence (exit 3); `stop-daemon`
 * stops it; neither `status` nor `stop-daemon` ever starts one.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { assertNoStackTrace, type CliHome, cliHome } from "../helpers/cli-home.js";
import { isAlive } from "../helpers/wait.js";

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

    const json = await home.json<{ running: boolean; pid: number; sessions: number }>(["status"]);
    assert.equal(json.running, true);
    assert.equal(json.pid, daemonPid);
    assert.equal(json.sessions, 1);
    assert.equal(home.daemonPid(), daemonPid);
  });

  it("stop-daemon stops it; status then exits 3 and says it is not running", async () => {
    const stop = await home.run(["stop-daemon"]);
    assert.equal(stop.code, 0, stop.stderr);
    assert.match(stop.stdout, /^✅ Daemon shutdown requested$/m);
    // stop-daemon returns once the daemon is gone.
    assert.equal(isAlive(daemonPid), false, "the daemon is still running");
    assertNoDaemon();

    const status = await home.run(["status"]);
    assert.equal(status.code, EXIT_NOT_RUNNING);
    assert.equal(status.stdout, "❌ Daemon is not running\n");
    // And asking did not start one.
    assertNoDaemon();
  });
});
