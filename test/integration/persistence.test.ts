/**
 * What survives a crash: after `kill -9` of the daemon the next one serves every session as it
 * was; with the hosts gone too (a reboot) it knows every session (INTERRUPTED), ends the
 * processes that outlived them, resumes a session with its log continuing at the next seq; a
 * damaged state.json falls back to its backup.
 */

import assert from "node:assert/strict";
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { homePaths } from "../../daemon/common/paths.js";
import { SessionState } from "../../gen/claude_sessions/v1/session_pb.js";
import { fixturePerTest } from "../helpers/daemon-fixture.js";
import { assertContiguous, outputText, readLog } from "../helpers/log-reader.js";
import { isRunning, leftovers } from "../helpers/proc.js";
import { waitFor } from "../helpers/wait.js";

const fixture = fixturePerTest();

interface StateFile {
  version: number;
  sessions: Array<{ id: string; state: string }>;
}

function readState(path: string): StateFile {
  return JSON.parse(readFileSync(path, "utf8")) as StateFile;
}

describe("after kill -9 of the daemon", () => {
  it("the next daemon serves them, same pids; with their hosts gone too they are INTERRUPTED, survivors ended, and one resumes with its log continuing", async () => {
    const daemons = fixture();
    const { home, work } = daemons;
    const paths = homePaths(home.path);
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: work.path, LANG: "C.UTF-8" };
    const first = await daemons.start();
    const { sessions } = first.client;
    const start = async (command: string[]) => {
      const session = (await sessions.startSession({ workingDir: work.path, command, env }))
        .session;
      assert.ok(session);
      daemons.reap(session.pid);
      return session;
    };
    const shell = await start(["bash", "--norc", "--noprofile"]);
    const cat = await start(["cat"]);
    // Ignores the hang-up the kernel sends when the daemon's end of the terminal closes.
    const stubborn = await start(["bash", "-c", "trap '' HUP; echo hup-ignored; exec sleep 1000"]);
    const logOf = (id: string) => join(paths.logs, `${id}.jsonl`);

    await sessions.sendInput({
      sessionId: shell.id,
      input: { case: "text", value: "echo a-$((2*3))\r" },
    });
    await sessions.sendInput({ sessionId: cat.id, input: { case: "text", value: "meow\r" } });
    await waitFor(
      "output of all three in their logs",
      () =>
        outputText(readLog(logOf(shell.id)).records).includes("a-6") &&
        outputText(readLog(logOf(cat.id)).records).includes("meow\r\nmeow") &&
        outputText(readLog(logOf(stubborn.id)).records).includes("hup-ignored"),
    );

    await first.kill();
    // What the crashed daemon left: every complete line is a record, seqs without a gap.
    for (const session of [shell, cat, stubborn])
      assertContiguous(readLog(logOf(session.id)).records);
    const crashedState = readState(paths.state);
    assert.deepEqual(
      crashedState.sessions.map((session) => session.state),
      ["running", "running", "running"],
    );

    // The sessions lived on in their hosts: the next daemon serves them, same pids.
    const reconnected = await daemons.start();
    const hosts: number[] = [];
    for (const session of [shell, cat, stubborn]) {
      const got = (await reconnected.client.sessions.getSession({ sessionId: session.id })).session;
      assert.deepEqual([SessionState[got?.state ?? 0], got?.pid], ["RUNNING", session.pid]);
      hosts.push(got?.hostPid ?? 0);
    }
    await reconnected.client.sessions.sendInput({
      sessionId: cat.id,
      input: { case: "text", value: "purr\r" },
    });
    await waitFor("cat to answer through the next daemon", () =>
      outputText(readLog(logOf(cat.id)).records).includes("purr\r\npurr"),
    );

    // Then the machine goes down under both: the daemon and every host killed at once.
    await reconnected.kill();
    for (const host of hosts) process.kill(host, "SIGKILL");
    await waitFor("the hosts to be gone", () => hosts.every((host) => !isRunning(host)));
    assert.ok(isRunning(stubborn.pid), "the HUP-ignoring program outlived its host");
    // A crash in the middle of a write leaves half a line at the end of a log.
    appendFileSync(logOf(shell.id), '{"seq":99,"time":"2026-01-01T00:00:00.0');

    const second = await daemons.start();
    assert.ok(!isRunning(stubborn.pid), "the survivor was ended before the new daemon served");
    assert.deepEqual(leftovers(stubborn.pid), []);

    const listed = (await second.client.sessions.listSessions({})).sessions;
    assert.deepEqual(
      listed.map((session) => [session.id, SessionState[session.state], session.pid]),
      [shell, cat, stubborn].map((session) => [session.id, "INTERRUPTED", 0]),
    );
    for (const session of [shell, cat, stubborn]) {
      const log = readLog(logOf(session.id));
      assert.equal(log.torn, undefined, `${session.id}: no torn line is left`);
      assertContiguous(log.records);
      const last = log.records.at(-1);
      assert.equal(last?.kind, "event");
      assert.match(
        last?.data ?? "",
        /^interrupted: its session host is gone \(the machine restarted, or the host was killed\)/,
      );
    }
    assert.match(
      readLog(logOf(stubborn.id)).records.at(-1)?.data ?? "",
      /1 leftover process\(es\) ended/,
    );

    const before = readLog(logOf(shell.id)).records;
    const lastSeq = before.at(-1)?.seq as number;
    assert.ok(lastSeq > 2, `lastSeq ${lastSeq}`);
    const resumed = (await second.client.sessions.resumeSession({ sessionId: shell.id })).session;
    assert.ok(resumed);
    daemons.reap(resumed.pid);
    assert.equal(SessionState[resumed.state], "RUNNING");
    assert.ok(resumed.pid > 1 && resumed.pid !== shell.pid);
    await second.client.sessions.sendInput({
      sessionId: shell.id,
      input: { case: "text", value: "echo b-$((3*3))\r" },
    });
    await waitFor("the resumed shell's output", () =>
      outputText(readLog(logOf(shell.id)).records).includes("b-9"),
    );
    const after = readLog(logOf(shell.id)).records;
    assertContiguous(after);
    assert.deepEqual(after.slice(0, before.length), before, "the old records are untouched");
    const resumedEvent = after[before.length];
    assert.equal(resumedEvent?.seq, lastSeq + 1);
    assert.equal(resumedEvent?.kind, "event");
    assert.match(resumedEvent?.data ?? "", /^resumed: bash --norc --noprofile/);
    // The host writes the file and sends the daemon each record: the daemon knows them too,
    // a moment later at most.
    await waitFor("the daemon to know every record in the file", async () => {
      const got = (await second.client.sessions.getSession({ sessionId: shell.id })).session;
      return Number(got?.lastSeq) >= after.length;
    });

    // The resumed shell is a working shell: it exits when told to.
    await second.client.sessions.sendInput({
      sessionId: shell.id,
      input: { case: "text", value: "exit 4\r" },
    });
    const ended = await waitFor("the resumed shell to exit", async () => {
      const { session } = await second.client.sessions.getSession({ sessionId: shell.id });
      return session?.state === SessionState.EXITED ? session : undefined;
    });
    assert.equal(ended.exitCode, 4);
    assertContiguous(readLog(logOf(shell.id)).records);
  });
});

describe("a damaged state.json", () => {
  it("the daemon loads state.json.bak, and keeps that good copy", async () => {
    const daemons = fixture();
    const { home, work } = daemons;
    const paths = homePaths(home.path);
    const first = await daemons.start();
    const made = (
      await first.client.sessions.startSession({
        workingDir: work.path,
        command: ["cat"],
        name: "keeper",
      })
    ).session;
    assert.ok(made);
    await first.client.sessions.stopSession({ sessionId: made.id });
    assert.equal(await first.stop(), 0);
    assert.ok(
      readState(`${paths.state}.bak`).sessions.some((session) => session.id === made.id),
      "the backup holds the session",
    );

    const damaged = '{"version":1,"sessions":[{"id":"';
    writeFileSync(paths.state, damaged);
    const second = await daemons.start();
    const listed = (await second.client.sessions.listSessions({})).sessions;
    assert.deepEqual(
      listed.map((session) => [session.id, session.name]),
      [[made.id, "keeper"]],
    );
    assert.match(
      second.output(),
      /state\.json is damaged \(kept as .*state\.json\.damaged\); loaded 1 session\(s\) from .*state\.json\.bak/,
    );

    // The daemon has written its state since; the good backup must not have been replaced by
    // the damaged copy, or a crash now would lose every session.
    assert.ok(readState(paths.state).sessions.some((session) => session.id === made.id));
    assert.ok(readState(`${paths.state}.bak`).sessions.some((session) => session.id === made.id));
    assert.equal(readFileSync(`${paths.state}.damaged`, "utf8"), damaged);
    assert.ok(existsSync(paths.state));
  });
});
