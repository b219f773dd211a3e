/**
 * A home tampered with while the daemon was down or under it: FIFOs where the daemon expects
 * regular files (a log, state.json, its backup, the lock key, daemon.log) are refused without
 * blocking, saying how to fix them, and the rest is served; records in state.json that are not
 * sound (ids that climb out of logs/, bad times, missing sizes, wrong types) are set aside in
 * `state.json.quarantine` with a warning, and the good records beside them are served.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  closeSync,
  constants,
  existsSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { basename, join } from "node:path";
import { describe, it } from "node:test";
import { status } from "@grpc/grpc-js";
import type { DaemonClient } from "../../cli/client.js";
import { homePaths } from "../../daemon/common/paths.js";
import { type Session, SessionState } from "../../gen/claude_sessions/v1/session_pb.js";
import { runCli } from "../helpers/cli.js";
import {
  type DaemonFixture,
  type DaemonHandle,
  exitOf,
  fixturePerTest,
} from "../helpers/daemon-fixture.js";
import { expectStatus } from "../helpers/rpc.js";
import { savedRecord } from "../helpers/saved-record.js";
import { waitFor } from "../helpers/wait.js";

const fixture = fixturePerTest();
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
async function endedSession(
  daemons: DaemonFixture,
  client: DaemonClient,
  workingDir: string,
  command: string[],
) {
  const { session } = await client.sessions.startSession({ workingDir, command, env: env() });
  assert.ok(session);
  daemons.reap(session.pid);
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
      { deadline: Date.now() + 15_000 },
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
    const daemons = fixture();
    const { work } = daemons;
    const first = await daemons.start();
    const fifo = await endedSession(daemons, first.client, work.path, ["sh", "-c", "echo one"]);
    const good = await endedSession(daemons, first.client, work.path, ["sh", "-c", "echo two"]);
    assert.equal(await first.stop(), 0);
    rmSync(fifo.logPath);
    mkfifo(fifo.logPath);

    let second: DaemonHandle;
    try {
      second = await daemons.start();
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
    const daemons = fixture();
    const { work } = daemons;
    const first = await daemons.start();
    const ended = await endedSession(daemons, first.client, work.path, ["sh", "-c", "echo hello"]);
    assert.equal(await first.stop(), 0);
    // A new daemon holds none of the log in memory: a read must open the file.
    const daemon = await daemons.start();
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
      { deadline: Date.now() + 30_000 },
    );
    assert.equal(session?.state, SessionState.RUNNING);
    daemons.reap(session?.pid ?? 0);
    await daemon.client.sessions.stopSession({ sessionId: session?.id ?? "" });
  });

  it("at state.json, its backup or lock.key: the daemon exits 1 naming it, the lock released; at daemon.log the CLI refuses", async () => {
    const daemons = fixture();
    const { home } = daemons;
    const paths = homePaths(home.path);
    for (const path of [paths.state, `${paths.state}.bak`, join(home.path, "lock.key")]) {
      rmSync(path, { force: true });
      mkfifo(path);
      const daemon = daemons.spawn();
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
      const next = await daemons.start();
      assert.equal(await next.stop(), 0);
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

/** A sound record, for crafting others from: resuming it prints "resumed-42". */
function soundRecord(workingDir: string, id: string): Record<string, unknown> {
  return savedRecord(id, workingDir, { command: ["sh", "-c", "echo resumed-$((6*7))"] });
}

describe("tampered records in state.json", () => {
  it("are set aside with a warning naming each; nothing outside logs/ is touched; the good ones are listed, resumable and removable", async () => {
    const daemons = fixture();
    const { home, work } = daemons;
    const paths = homePaths(home.path);
    const outside = fixture().work.path;
    const victim = join(outside, "victim.jsonl");
    writeFileSync(victim, "precious\n");
    const climb = (name: string) => `../../${basename(outside)}/${name}`;
    const goodIds = [
      "0b9b2c6e-1f5e-4c4e-9a51-3f1d2c3b4a01",
      "0b9b2c6e-1f5e-4c4e-9a51-3f1d2c3b4a02",
    ];
    const uuid = (n: number) => `1c2d3e4f-0000-4000-8000-${String(n).padStart(12, "0")}`;
    const sound = (id: string) => soundRecord(work.path, id);
    const without = (record: Record<string, unknown>, key: string) => {
      const copy = { ...record };
      delete copy[key];
      return copy;
    };
    const bad: Array<[unknown, RegExp]> = [
      [{ ...sound(uuid(1)), id: climb("pwned"), state: "running" }, /id .* is not a session id/],
      [{ ...sound(uuid(2)), id: climb("victim") }, /id .* is not a session id/],
      [{ ...sound(uuid(3)), createdAt: "yesterday" }, /createdAt .* is not a time/],
      [without(sound(uuid(4)), "cols"), /cols must be an integer from 1 to 1000/],
      [{ ...sound(uuid(5)), rows: 0 }, /rows must be an integer from 1 to 1000/],
      [{ ...sound(uuid(6)), pid: "12" }, /pid must be an integer/],
      [{ ...sound(uuid(7)), pid: -1 }, /pid must be an integer/],
      [{ ...sound(uuid(8)), state: "zombie" }, /state .* is not one of/],
      [{ ...sound(uuid(9)), command: "sh" }, /command must be a list of strings/],
      [{ ...sound(uuid(10)), command: [] }, /command must be a list of strings/],
      [{ ...sound(uuid(11)), logBytesLost: -1 }, /logBytesLost must be a whole number/],
      [{ ...sound(uuid(12)), name: "two words" }, /name/],
      [{ ...sound(uuid(13)), claudeCode: "yes" }, /claudeCode must be true or false/],
      [{ ...sound(uuid(14)), endedAt: 5 }, /endedAt .* is not a time/],
      [{ ...sound(uuid(15)), workingDir: "relative" }, /workingDir must be an absolute path/],
      [{ ...sound(uuid(16)), id: uuid(16).toUpperCase() }, /id .* is not a session id/],
      [sound(goodIds[0] as string), /id .* is used by an earlier record/],
      [42, /not an object/],
      [null, /not an object/],
    ];
    const sessions = [sound(goodIds[0] as string), ...bad.map(([record]) => record)];
    sessions.push(sound(goodIds[1] as string));
    writeFileSync(paths.state, JSON.stringify({ version: 1, sessions }), { mode: 0o600 });

    const daemon = await daemons.start();
    const { client } = daemon;
    const listed = (await client.sessions.listSessions({})).sessions;
    assert.deepEqual(
      listed.map((session) => session.id),
      goodIds,
    );
    for (const [index, [, problem]] of bad.entries()) {
      const line = daemon
        .output()
        .split("\n")
        .find((text) => text.includes(`state.json: sessions[${index + 1}] `));
      assert.ok(line, `no warning for sessions[${index + 1}]: ${daemon.output()}`);
      assert.match(
        line,
        / warn .*state\.json: sessions\[\d+\] .*set aside in .*state\.json\.quarantine: /,
      );
      assert.match(line, problem, `sessions[${index + 1}]`);
    }
    const quarantine = `${paths.state}.quarantine`;
    assert.equal((lstatSync(quarantine).mode & 0o777).toString(8), "600");
    const kept = readFileSync(quarantine, "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { record: unknown; problem: string });
    assert.deepEqual(
      kept.map((entry) => entry.record),
      bad.map(([record]) => record),
    );
    await client.daemon.ping({});
    const saved = JSON.parse(readFileSync(paths.state, "utf8")) as {
      sessions: Array<{ id: string }>;
    };
    assert.deepEqual(
      saved.sessions.map((session) => session.id),
      goodIds,
    );
    // Nothing was created, written or removed outside the home.
    assert.deepEqual(readdirSync(outside), ["victim.jsonl"]);
    assert.equal(readFileSync(victim, "utf8"), "precious\n");
    assert.deepEqual(readdirSync(paths.logs), []);

    // The good ones are served: resumed to their end, then removed with their logs.
    const resumable = goodIds[0] as string;
    const resumed = (await client.sessions.resumeSession({ sessionId: resumable })).session;
    assert.equal(resumed?.state, SessionState.RUNNING);
    daemons.reap(resumed?.pid ?? 0);
    await waitFor("the resumed session to exit", async () => {
      const current = (await client.sessions.getSession({ sessionId: resumable })).session;
      return current?.state === SessionState.EXITED;
    });
    assert.match(JSON.stringify(await readLogOf(client, resumable)), /resumed-42/);
    for (const id of goodIds) {
      await client.sessions.removeSession({ sessionId: id, deleteLog: true });
    }
    assert.deepEqual((await client.sessions.listSessions({})).sessions, []);
    assert.deepEqual(readdirSync(paths.logs), []);
    assert.equal(readFileSync(victim, "utf8"), "precious\n");
    assert.equal(await daemon.stop(), 0);
  });
});
