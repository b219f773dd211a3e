/**
 * A full disk under a running daemon (a small tmpfs as its home, filled and then freed): a
 * session that cannot be recorded in `state.json` is not started, a change that cannot be
 * written is written once space returns, a session's output is logged whole once space returns
 * (or the log says how much was lost, and the session keeps that fact), and a daemon that cannot
 * start on a full disk leaves no scratch file behind. Mounting needs root; skipped otherwise.
 */

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { afterEach, describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { homePaths } from "../../daemon/common/paths.js";
import { SessionState } from "../../gen/claude_sessions/v1/session_pb.js";
import { runCli } from "../helpers/cli.js";
import { fixturePerTest } from "../helpers/daemon-fixture.js";
import { assertContiguous, outputText, readLog } from "../helpers/log-reader.js";
import { allProcesses, isRunning } from "../helpers/proc.js";
import { expectStatus } from "../helpers/rpc.js";
import { type SmallDisk, smallDisk, smallDiskSkip } from "../helpers/small-disk.js";
import { waitFor } from "../helpers/wait.js";

const SKIP = smallDiskSkip();
const fixture = fixturePerTest();
const disks: SmallDisk[] = [];
// Registered after the fixtures' hook, so the daemons are stopped before their disk goes.
afterEach(() => {
  for (const disk of disks.splice(0)) disk.remove();
});

function newDisk(): SmallDisk {
  const disk = smallDisk();
  disks.push(disk);
  return disk;
}

const env = () => ({ PATH: process.env.PATH ?? "/usr/bin:/bin", LANG: "C.UTF-8", PS1: "$ " });

interface SavedState {
  sessions: Array<{ id: string; name: string; cols: number; logBytesLost?: number }>;
}

function savedState(home: string): SavedState {
  return JSON.parse(readFileSync(homePaths(home).state, "utf8")) as SavedState;
}

/** Processes whose command line holds `token`. */
function processesWith(token: string): number[] {
  return allProcesses()
    .filter((info) => {
      try {
        return readFileSync(`/proc/${info.pid}/cmdline`, "utf8").includes(token);
      } catch {
        return false;
      }
    })
    .filter((info) => isRunning(info.pid))
    .map((info) => info.pid);
}

describe("state.json on a full disk", { skip: SKIP }, () => {
  it("StartSession fails with RESOURCE_EXHAUSTED and leaves nothing running; a change is written once space returns", async () => {
    const disk = newDisk();
    const daemons = fixture({ home: disk.path });
    const { work } = daemons;
    let daemon = await daemons.start();
    const { session: kept } = await daemon.client.sessions.startSession({
      workingDir: work.path,
      command: ["cat"],
      env: env(),
    });
    assert.ok(kept);
    daemons.reap(kept.pid);

    disk.fill();
    // It ignores the hang-up a dying daemon's terminal sends: left unmanaged, it would live on.
    const token = `unrecorded-${randomUUID()}`;
    const failure = await expectStatus(
      daemon.client.sessions.startSession({
        workingDir: work.path,
        command: ["bash", "-c", "trap '' HUP; while :; do sleep 1; done", token],
        env: env(),
      }),
      grpc.status.RESOURCE_EXHAUSTED,
    );
    assert.match(failure.details, /state\.json/);
    assert.match(failure.details, /free/);
    assert.doesNotMatch(failure.details, /\n/);
    assert.deepEqual(processesWith(token), [], "the program that could not be recorded is ended");
    const listed = (await daemon.client.sessions.listSessions({})).sessions;
    assert.deepEqual(
      listed.map((session) => session.id),
      [kept.id],
    );

    // What the refused start left is gone, and with it some room: the disk is made full again.
    disk.fill();
    // Changes while the disk is full: a rename, refused as it cannot be saved and kept to be
    // written, and a resize, which goes with the next write; then space returns and nothing
    // else changes.
    const rename = await expectStatus(
      daemon.client.sessions.renameSession({ sessionId: kept.id, name: "kept" }),
      grpc.status.RESOURCE_EXHAUSTED,
    );
    assert.match(rename.details, /state\.json/);
    await daemon.client.sessions.resizeSession({ sessionId: kept.id, cols: 101, rows: 30 });
    disk.free();
    // Failed writes are retried with a backoff that grows to 5 s: the next try may be that far.
    await waitFor(
      "the rename and the resize to reach state.json with no further change",
      () => {
        const saved = savedState(disk.path).sessions.find((record) => record.id === kept.id);
        return saved?.cols === 101 && saved.name === "kept";
      },
      20_000,
    );

    await daemon.kill();
    daemon = await daemons.start();
    const after = (await daemon.client.sessions.listSessions({})).sessions;
    assert.deepEqual(
      after.map((session) => [session.id, SessionState[session.state], session.cols]),
      // Its host kept it running through the crash.
      [[kept.id, "RUNNING", 101]],
    );
    assert.deepEqual(processesWith(token), []);
  });
});

describe("a session's log on a full disk", { skip: SKIP }, () => {
  it("output made while the disk is full is logged once space returns; what did not fit is marked and kept on the session", async () => {
    const disk = newDisk();
    const daemons = fixture({ home: disk.path });
    const { work } = daemons;
    let daemon = await daemons.start();
    const { sessions } = daemon.client;
    const { session } = await sessions.startSession({
      workingDir: work.path,
      command: ["bash", "--norc", "--noprofile"],
      env: env(),
    });
    assert.ok(session);
    daemons.reap(session.pid);
    const send = (text: string) =>
      sessions.sendInput({ sessionId: session.id, input: { case: "text", value: text } });
    const current = async () => (await sessions.getSession({ sessionId: session.id })).session;
    const logged = (text: string) => outputText(readLog(session.logPath).records).includes(text);
    await send("echo ready-$((1+1))\r");
    await waitFor("the shell to answer", () => logged("ready-2"));

    // A short outage: everything made meanwhile reaches the file once space returns.
    disk.fill();
    await send("echo during-full-$((40+2))\r");
    await waitFor("the write to fail", async () => (await current())?.logError);
    disk.free();
    await send("echo after-$((1+2))\r");
    await waitFor("the output to be logged again", () => logged("after-3"), 15_000);
    await waitFor("log_error to clear", async () => (await current())?.logError === "");
    let { records } = readLog(session.logPath);
    assertContiguous(records);
    assert.match(records[0]?.data ?? "", /^started: /);
    assert.ok(outputText(records).includes("during-full-42"), "output made while full is logged");
    assert.equal(Number((await current())?.logBytesLost ?? 0), 0);

    // A long one: more output than the daemon keeps in memory for a log it cannot write.
    disk.fill();
    await send("head -c 12000000 /dev/zero | tr '\\0' y; echo; echo flood-done-$((3*3))\r");
    await waitFor(
      "the flood to end",
      async () =>
        (await sessions.captureScreen({ sessionId: session.id })).text.includes("flood-done-9"),
      30_000,
    );
    disk.free();
    await waitFor("log_error to clear", async () => (await current())?.logError === "", 15_000);
    await send("echo back-$((3+4))\r");
    await waitFor("the output to be logged again", () => logged("back-7"), 15_000);
    ({ records } = readLog(session.logPath));
    assertContiguous(records);
    const marks = records.filter(
      (record) => record.kind === "event" && /not logged/.test(record.data),
    );
    assert.equal(marks.length, 1, JSON.stringify(marks));
    assert.match(marks[0]?.data ?? "", /^\d+ bytes of output were not logged after seq \d+: /);
    const lost = Number(/^(\d+) bytes/.exec(marks[0]?.data ?? "")?.[1]);
    assert.ok(lost > 0);
    const withLoss = await current();
    assert.equal(withLoss?.logError, "");
    assert.equal(Number(withLoss?.logBytesLost), lost);
    assert.equal(withLoss?.logLoss, marks[0]?.data);

    // The fact outlives the daemon.
    await sessions.stopSession({ sessionId: session.id, gracePeriod: { seconds: 2n } });
    assert.equal(await daemon.stop(), 0, daemon.output());
    assert.equal(
      savedState(disk.path).sessions.find((saved) => saved.id === session.id)?.logBytesLost,
      lost,
    );
    daemon = await daemons.start();
    const shown = await runCli(["show", "--json", session.id], { home: disk.path });
    assert.equal(shown.code, 0, shown.stderr);
    const json = JSON.parse(shown.stdout) as { log_error: unknown; log_bytes_lost: number };
    assert.equal(json.log_error, null);
    assert.equal(json.log_bytes_lost, lost);
  });
});

describe("a daemon started on a full disk", { skip: SKIP }, () => {
  it("fails with a one-line reason and leaves no scratch file in the home", async () => {
    const disk = newDisk();
    disk.fill();
    const daemon = fixture({ home: disk.path }).spawn();
    const code = await daemon.exited;
    assert.notEqual(code, 0);
    assert.match(daemon.output(), /ENOSPC|no space/i);
    const left = readdirSync(disk.path).filter((name) => name.startsWith(".lock.key."));
    assert.deepEqual(left, []);
    assert.equal(existsSync(`${disk.path}/lock.key`), false);
  });
});
