/**
 * How the CLI's streams end, through the built CLI: `attach` to a session that has ended shows its
 * final screen and returns its exit code; `attach`, `logs -f` and `watch` under a daemon that goes
 * away say so and exit 1 (a real Ctrl-C of `logs -f` stays 130); a streaming `attach` whose reader
 * has gone ends even while the session is quiet.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { afterEach, beforeEach, describe, it } from "node:test";
import { runCli, runProgram } from "../helpers/cli.js";
import { DaemonFixture, type DaemonHandle } from "../helpers/daemon-fixture.js";
import { cliBin } from "../helpers/paths.js";
import { waitFor } from "../helpers/wait.js";

/** A CLI process left running, its output collected. */
interface Running {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** The exit code, or 128 + the signal's number as a shell reports it. */
  exited: Promise<number>;
}

const GONE = /^error: the daemon on \S+ went away .*; see: claude-sessions status\n$/;

describe("e2e: how attach, logs -f and watch end", () => {
  let fixture: DaemonFixture;
  let daemon: DaemonHandle;
  const running: ChildProcess[] = [];

  const cli = (...args: string[]) => runCli(args, { home: daemon.home });
  const spawnCli = (args: string[]): Running => {
    const child = spawn(process.execPath, [cliBin, ...args], {
      env: { ...process.env, NO_COLOR: "1", CLAUDE_SESSIONS_HOME: daemon.home },
      stdio: ["ignore", "pipe", "pipe"],
    });
    running.push(child);
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number>((resolve) =>
      child.once("close", (code, signal) => resolve(code ?? (signal === "SIGINT" ? 130 : -1))),
    );
    return { child, stdout: () => stdout, stderr: () => stderr, exited };
  };
  const startQuiet = async (name: string) => {
    const started = await cli(
      "start",
      "--name",
      name,
      "/tmp",
      "--",
      "sh",
      "-c",
      "echo ready; exec sleep 1000",
    );
    assert.equal(started.code, 0, started.stderr);
  };

  beforeEach(async () => {
    fixture = new DaemonFixture();
    daemon = await fixture.start();
  });

  afterEach(async () => {
    for (const child of running.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
    await fixture.cleanup();
  });

  it("attach to an ended session shows its final screen, how it ended, and its exit code", async () => {
    const started = await cli(
      "start",
      "--name",
      "done",
      "/tmp",
      "--",
      "sh",
      "-c",
      "echo bye; exit 4",
    );
    assert.equal(started.code, 0, started.stderr);
    await waitFor("the session to end", async () =>
      JSON.parse((await cli("show", "done", "--json")).stdout).state === "exited"
        ? true
        : undefined,
    );
    const attached = await cli("attach", "done");
    assert.equal(attached.code, 4, attached.stderr);
    assert.match(attached.stdout, /bye/);
    assert.equal(attached.stderr, "[session done ended with exit code 4]\n");

    // Whether the session has ended by the time attach reaches it or ends while attached.
    const both = await cli("start", "--attach", "/tmp", "--", "sh", "-c", "echo bye; exit 4");
    assert.equal(both.code, 4, both.stderr);
    assert.match(both.stdout, /bye/);
    assert.match(both.stderr, /^\[session \S+ ended with exit code 4\]\n$/);
  });

  it("attach, logs -f and watch under a daemon that was killed say it went away and exit 1", async () => {
    await startQuiet("quiet");
    const attach = spawnCli(["attach", "quiet"]);
    const logs = spawnCli(["logs", "-f", "quiet"]);
    const watch = spawnCli(["watch", "--existing"]);
    await waitFor("every client to be streaming", () =>
      attach.stdout().includes("ready") &&
      logs.stdout().includes("ready") &&
      watch.stdout().includes("existing")
        ? true
        : undefined,
    );
    await daemon.kill();
    for (const client of [attach, logs, watch]) {
      assert.equal(await client.exited, 1, client.stderr());
      assert.match(client.stderr(), GONE);
    }
  });

  it("watch under a daemon that shuts down says it went away and exits 1", async () => {
    const watch = spawnCli(["watch", "--existing"]);
    await startQuiet("quiet");
    // Listed as existing or heard of as started, whichever came first.
    await waitFor("watch to see the session", () =>
      // A named session is shown as "quiet (<short id>)".
      watch.stdout().includes("quiet (") ? true : undefined,
    );
    assert.equal(await daemon.stop(), 0);
    assert.equal(await watch.exited, 1, watch.stderr());
    assert.match(watch.stderr(), GONE);
  });

  it("a Ctrl-C of logs -f still exits 130, quietly", async () => {
    await startQuiet("quiet");
    const logs = spawnCli(["logs", "-f", "quiet"]);
    await waitFor("logs to follow", () => (logs.stdout().includes("ready") ? true : undefined));
    logs.child.kill("SIGINT");
    assert.equal(await logs.exited, 130);
    assert.equal(logs.stderr(), "");
  });

  it("a streaming attach whose reader has gone ends while the session is quiet", async () => {
    await startQuiet("quiet");
    // Through a shell, for a real pipe (node's own stdio pipes are socket pairs).
    const pipeline = await runProgram(
      "bash",
      [
        "-c",
        `"$0" "$1" attach quiet </dev/null | head -c1 >/dev/null; echo "\${PIPESTATUS[0]}"`,
        process.execPath,
        cliBin,
      ],
      {
        cwd: "/tmp",
        env: { ...process.env, CLAUDE_SESSIONS_HOME: daemon.home },
        timeoutMs: 20_000,
      },
    );
    assert.equal(pipeline.stdout, "141\n", pipeline.stderr);
    assert.equal(pipeline.stderr, "");
  });
});
