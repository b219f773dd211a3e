/**
 * A home tampered with while the daemon was down or under it: FIFOs where the daemon expects
 * regular files (a log, state.json, its backup, the lock key, daemon.log) are refused without
 * blocking, saying how to fix them, and the rest is served.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, constants, existsSync, lstatSync, openSync, rmSync } from "node:fs";
import { basename, join } from "node:path";
import { describe, it } from "node:test";
import { status } from "@grpc/grpc-js";
import type { DaemonClient } from "../../cli/client.js";
import { homePaths } from "../../daemon/paths.js";
import { type Session, SessionState } from "../../gen/claude_sessions/v1/session_pb.js";
import { runCli } from "../helpers/cli.js";
import { type DaemonHandle, exitOf } from "../helpers/daemon-process.js";
import { perTestCleanup } from "../helpers/per-test-cleanup.js";
import { expectStatus } from "../helpers/rpc.js";
import { waitFor } from "../helpers/wait.js";

const cleanup = perTestCleanup();
const dirs = () => cleanup.tempDirs();
const daemonOn = (home: string) => cleanup.daemon({ home });
const env = () => ({ PATH: process.env.PATH ?? "/usr/bin:/bin" });

function mkfifo(path: string): void {
  const made = spawnSync("mkfifo", ["-m", "600", path], { encoding: "utf8" });
  assert.equal(made.status, 0, made.stderr);
}

/**
 * Wakes every open of the FIFO that is blocked waiting for its other end (only an unfixed
 * daemon blocks there), so that a failing test ends instead of hanging its daemon's shutdown.
 */
function releaseFifo(path: string): void {
  try {
    closeSync(openSync(path, constants.O_RDWR | constants.O_NONBLOCK));
  } catch {
    // Gone: nothing waits on it.
  }
}

/** Starts `command` in a session and waits for it to exit. */
async function endedSession(client: DaemonClient, workingDir: string, command: string[]) {
  const { session } = await client.sessions.startSession({ workingDir, command, env: env() });
  assert.ok(session);
  cleanup.pids.push(session.pid);
  return waitFor("the session to exit", async () => {
    const current = (await client.sessions.getSession({ sessionId: session.id })).session;
    return current?.state === SessionState.EXITED ? current : undefined;
  });
}

/** Reads a whole AttachSession stream: its entries' text, or the error it ended with. */
function readLogOf(
  client: DaemonClient,
  sessionId: string,
): Promise<{ text: string } | { code: number; details: string }> {
  return new Promise((resolve) => {
    let text = "";
    const stream = client.sessions.attachSession(
      { sessionId, start: { case: "fromSeq", value: 1n } },
      { deadline: Date.now() + 5000 },
    );
    stream.on("data", (response: { entries: Array<{ data: string }> }) => {
      for (const entry of response.entries) text += entry.data;
    });
    stream.on("error", (error: { code: number; details: string }) =>
      resolve({ code: error.code, details: error.details }),
    );
    stream.on("end", () => resolve({ text }));
  });
}

describe("a FIFO where the daemon expects a regular file", () => {
  it("at a session's log while the daemon is down: it starts, reports that log, serves the others", async () => {
    const { home, work } = dirs();
    const first = await daemonOn(home.path);
    const fifo = await endedSession(first.client, work.path, ["sh", "-c", "echo one"]);
    const good = await endedSession(first.client, work.path, ["sh", "-c", "echo two"]);
    assert.equal(await first.stop(), 0);
    cleanup.forget(first);
    rmSync(fifo.logPath);
    mkfifo(fifo.logPath);

    let second: DaemonHandle;
    try {
      second = await daemonOn(home.path);
    } finally {
      releaseFifo(fifo.logPath);
    }
    const listed = (await second.client.sessions.listSessions({})).sessions;
    assert.deepEqual(
      listed.map((session) => session.id),
      [fifo.id, good.id],
    );
    const broken = listed[0] as Session;
    assert.match(
      broken.logError,
      /^log .*\.jsonl is not a regular file \(a FIFO\); move it away \(mv .*\.jsonl .*\.jsonl\.old\)$/,
    );
    assert.match(second.output(), new RegExp(`session ${fifo.id}: log .* is not a regular file`));
    assert.equal(listed[1]?.logError, "");
    assert.match(JSON.stringify(await readLogOf(second.client, good.id)), /"text":".*two/);
    // Resuming it is refused rather than writing to the FIFO; the daemon keeps answering.
    const refused = await expectStatus(
      second.client.sessions.resumeSession({ sessionId: fifo.id }),
      status.FAILED_PRECONDITION,
    );
    assert.match(refused.details, /is not a regular file \(a FIFO\); move it away/);
    assert.equal((await second.client.daemon.ping({})).pid, second.pid);
  });

  it("at a log under a running daemon: each read fails at once, and the thread pool stays free", async () => {
    const { home, work } = dirs();
    const first = await daemonOn(home.path);
    const ended = await endedSession(first.client, work.path, ["sh", "-c", "echo hello"]);
    assert.equal(await first.stop(), 0);
    cleanup.forget(first);
    // A new daemon holds none of the log in memory: a read must open the file.
    const daemon = await daemonOn(home.path);
    rmSync(ended.logPath);
    mkfifo(ended.logPath);
    try {
      // More reads than libuv has threads (4).
      const reads = await Promise.all(
        Array.from({ length: 6 }, () => readLogOf(daemon.client, ended.id)),
      );
      for (const read of reads) {
        assert.ok("code" in read, `read without an error: ${JSON.stringify(read)}`);
        assert.equal(status[read.code], "FAILED_PRECONDITION", read.details);
        assert.match(read.details, /^log .*\.jsonl is not a regular file \(a FIFO\); move it away/);
      }
    } finally {
      releaseFifo(ended.logPath);
    }
    const { session } = await daemon.client.sessions.startSession(
      { workingDir: work.path, command: ["cat"], env: env() },
      { deadline: Date.now() + 5000 },
    );
    assert.equal(session?.state, SessionState.RUNNING);
    cleanup.pids.push(session?.pid ?? 0);
    await daemon.client.sessions.stopSession({ sessionId: session?.id ?? "" });
  });

  it("at state.json, its backup or lock.key: the daemon exits 1 naming it, the lock released; at daemon.log the CLI refuses", async () => {
    const { home } = dirs();
    const paths = homePaths(home.path);
    for (const path of [paths.state, `${paths.state}.bak`, join(home.path, "lock.key")]) {
      rmSync(path, { force: true });
      mkfifo(path);
      const daemon = cleanup.spawn(home.path);
      let code: number | string;
      try {
        code = await exitOf(daemon);
      } finally {
        releaseFifo(path);
      }
      assert.equal(code, 1, `${basename(path)}: ${daemon.output()}`);
      assert.ok(
        daemon
          .output()
          .includes(
            `${path} is not a regular file (a FIFO); move it away (mv ${path} ${path}.old)`,
          ),
        `${basename(path)}: ${daemon.output()}`,
      );
      assert.doesNotMatch(daemon.output(), /\n\s+at /, "no stack trace");
      assert.equal(existsSync(paths.socket), false, `${basename(path)}: no socket left`);
      rmSync(path);
      // The lock was released: a daemon starts once the FIFO is gone.
      const next = await daemonOn(home.path);
      assert.equal(await next.stop(), 0);
      cleanup.forget(next);
      rmSync(paths.state, { force: true });
      rmSync(`${paths.state}.bak`, { force: true });
    }

    mkfifo(paths.log);
    const cli = await runCli(["daemon"], { home: home.path, timeoutMs: 15_000 }).finally(() =>
      releaseFifo(paths.log),
    );
    assert.equal(cli.code, 1, cli.stderr);
    assert.equal(
      cli.stderr,
      `error: ${paths.log} is not a regular file (a FIFO); move it away (mv ${paths.log} ${paths.log}.old)\n`,
    );
    assert.equal(existsSync(paths.socket), false, "no daemon was started");
    assert.ok(lstatSync(paths.log).isFIFO(), "the FIFO is left for the user to see");
  });
});
