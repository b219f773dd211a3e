/**
 * Load: 200 sessions started at once and stopped at once; 100 clients following sessions that
 * write, each getting every entry; and mixed ListSessions/GetSession/CaptureScreen at a target
 * of 1000 calls a second from another process. No errors, no fd, process or zombie left. The
 * rates, the daemon's CPU per call and its memory under this load are measured by
 * the `load` benchmark row, not asserted here.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DaemonClient } from "../../cli/client.js";
import { SessionState } from "../../gen/claude_sessions/v1/session_pb.js";
import type { AttachSessionResponse } from "../../gen/claude_sessions/v1/session_service_pb.js";
import { fixturePerTest } from "../helpers/daemon-fixture.js";
import { loadFromProcess } from "../helpers/load-process.js";
import { outputText, readLog } from "../helpers/log-reader.js";
import {
  fdTargets,
  isRunning,
  leftovers,
  liveChildren,
  openFds,
  zombieChildren,
} from "../helpers/proc.js";
import { waitFor } from "../helpers/wait.js";

const env = () => ({ PATH: process.env.PATH ?? "/usr/bin:/bin", LANG: "C.UTF-8" });

async function fdsBackTo(pid: number, before: number, targetsBefore: string[]): Promise<number> {
  await waitFor(
    "the daemon's fds to return to their count before",
    () => openFds(pid) <= before,
    10_000,
  ).catch(() => {
    assert.fail(
      `${openFds(pid)} fds open after, ${before} before:\nbefore: ${targetsBefore.join(", ")}\nafter: ${fdTargets(pid).join(", ")}`,
    );
  });
  return openFds(pid);
}

describe("load", () => {
  const fixture = fixturePerTest();

  it("200 sessions started at once all run; stopped at once, no process, zombie or fd is left", async () => {
    const COUNT = 200;
    const home = fixture();
    const daemon = await home.start();
    const { work } = home;
    try {
      const { sessions } = daemon.client;
      const fdsBefore = openFds(daemon.pid);
      const targetsBefore = fdTargets(daemon.pid);
      const results = await Promise.allSettled(
        Array.from({ length: COUNT }, (_, index) =>
          sessions.startSession({
            workingDir: work.path,
            command: ["sh", "-c", `echo started-${index}; exec cat`],
            env: env(),
            cols: 80,
            rows: 24,
          }),
        ),
      );
      const failed = results.filter((result) => result.status === "rejected");
      assert.deepEqual(
        failed.map((result) => String((result as PromiseRejectedResult).reason)),
        [],
        "every start succeeded",
      );
      const started = results.map(
        (result) =>
          (
            result as PromiseFulfilledResult<{
              session?: { id: string; pid: number; logPath: string; state: SessionState };
            }>
          ).value.session,
      );
      const leaders: number[] = [];
      for (const session of started) {
        assert.equal(session?.state, SessionState.RUNNING);
        leaders.push(session?.pid as number);
      }
      assert.equal(new Set(started.map((session) => session?.id)).size, COUNT);
      assert.equal(liveChildren(daemon.pid).length, COUNT, "one child per session");
      await waitFor(
        "every session's output in its own log",
        () =>
          started.every((session, index) =>
            outputText(readLog(session?.logPath as string).records).includes(
              `started-${index}\r\n`,
            ),
          ),
        30_000,
      );
      const fdsPeak = openFds(daemon.pid);
      // Each running session holds a connection to its host open.
      assert.ok(
        fdsPeak >= fdsBefore + COUNT,
        `${fdsPeak} fds with ${COUNT} sessions, ${fdsBefore} before`,
      );

      const stopped = await Promise.all(
        started.map((session) =>
          sessions.stopSession({ sessionId: session?.id as string, gracePeriod: { seconds: 5n } }),
        ),
      );
      for (const { session } of stopped) {
        assert.equal(session?.state, SessionState.STOPPED);
        assert.equal(session?.exitSignal, "SIGHUP", "ended by the hang-up, the first a stop sends");
      }
      for (const leader of leaders) {
        assert.ok(!isRunning(leader), `session process ${leader} still runs`);
        assert.deepEqual(leftovers(leader), []);
      }
      assert.deepEqual(liveChildren(daemon.pid), []);
      assert.deepEqual(zombieChildren(daemon.pid), []);
      await fdsBackTo(daemon.pid, fdsBefore, targetsBefore);
      const ping = await daemon.client.daemon.ping({});
      assert.equal(ping.runningCount, 0);
      assert.equal(ping.sessionCount, COUNT);
    } finally {
      await home.cleanup();
    }
  });

  it("100 clients follow sessions as they write: every client gets every entry, once, in order", async () => {
    const SESSIONS = 10;
    const PER_SESSION = 10;
    const BURSTS = 200;
    const LINES = 10 * BURSTS;
    const home = fixture();
    const daemon = await home.start();
    const { work } = home;
    const clients = Array.from(
      { length: SESSIONS * PER_SESSION },
      () => new DaemonClient(daemon.socket),
    );
    try {
      const fdsBefore = openFds(daemon.pid);
      const targetsBefore = fdTargets(daemon.pid);
      const made = await Promise.all(
        Array.from({ length: SESSIONS }, (_, index) =>
          daemon.client.sessions.startSession({
            workingDir: work.path,
            command: [
              "bash",
              "-c",
              // Bursts a few ms apart, so the output becomes many log entries, not a few big ones.
              `read go; for b in $(seq 0 ${BURSTS - 1}); do for j in $(seq 1 10); do echo "s${index}-entry-$((b * 10 + j)) 0123456789abcdefghijklmnopqrstuvwxyz"; done; sleep 0.02; done; sleep 0.2`,
            ],
            env: env(),
          }),
        ),
      );
      const sessions = made.map(({ session }) => {
        assert.ok(session);
        return session;
      });
      interface Follower {
        session: number;
        seqs: number[];
        text: string;
        done: Promise<string | undefined>;
      }
      const follow = (client: DaemonClient, session: number): Follower => {
        const stream = client.sessions.attachSession({
          sessionId: (sessions[session] as { id: string }).id,
          start: { case: "fromSeq", value: 1n },
          follow: true,
        });
        const follower: Follower = {
          session,
          seqs: [],
          text: "",
          done: Promise.resolve(undefined),
        };
        stream.on("data", (response: AttachSessionResponse) => {
          for (const entry of response.entries) {
            follower.seqs.push(Number(entry.seq));
            follower.text += entry.data;
          }
        });
        follower.done = new Promise((resolve) => {
          stream.on("end", () => resolve(undefined));
          stream.on("error", (error: Error) => resolve(error.message));
        });
        return follower;
      };
      // Half of each session's followers are there before it writes; the other half join while
      // it writes, so they replay from the ring or the file and then follow live.
      const followers: Follower[] = [];
      clients.forEach((client, index) => {
        if (index % PER_SESSION < PER_SESSION / 2) followers.push(follow(client, index % SESSIONS));
      });
      await Promise.all(
        sessions.map((session) =>
          daemon.client.sessions.sendInput({
            sessionId: session.id,
            input: { case: "text", value: "go\r" },
          }),
        ),
      );
      await waitFor("every session to be writing", () =>
        sessions.every((session) => readLog(session.logPath).records.length > 3),
      );
      clients.forEach((client, index) => {
        if (index % PER_SESSION >= PER_SESSION / 2)
          followers.push(follow(client, index % SESSIONS));
      });
      const ends = await Promise.all(followers.map((follower) => follower.done));
      assert.deepEqual(
        ends.filter((end) => end !== undefined),
        [],
        "every stream ended cleanly when its session did",
      );
      for (const [index, session] of sessions.entries()) {
        const { records } = readLog(session.logPath);
        const seqs = records.map((record) => record.seq);
        assert.equal(records.at(-1)?.kind, "event");
        assert.match(outputText(records), new RegExp(`s${index}-entry-${LINES} `));
        for (const follower of followers.filter((candidate) => candidate.session === index)) {
          assert.deepEqual(
            follower.seqs,
            seqs,
            `a follower of session ${index} got every entry once, in order`,
          );
          assert.ok(follower.text.includes(`s${index}-entry-${LINES} `));
        }
      }
      for (const client of clients) client.close();
      await fdsBackTo(daemon.pid, fdsBefore, targetsBefore);
    } finally {
      for (const client of clients) client.close();
      await home.cleanup();
    }
  });

  it("1000 mixed calls a second from another process: no error, no process or fd left", async () => {
    const RATE = 1000;
    const SECONDS = 5;
    const CONCURRENCY = 64;
    const home = fixture();
    const daemon = await home.start();
    const { work } = home;
    try {
      const { sessions } = daemon.client;
      for (let i = 0; i < 20; i++) {
        await sessions.startSession({
          workingDir: work.path,
          command: [
            "sh",
            "-c",
            `while :; do echo "session ${i} tick $(date +%s%N)"; sleep 0.5; done`,
          ],
          env: env(),
        });
      }
      const fdsBefore = openFds(daemon.pid);
      const targetsBefore = fdTargets(daemon.pid);
      const children = liveChildren(daemon.pid).length;
      const result = await loadFromProcess(daemon.socket, {
        rate: RATE,
        seconds: SECONDS,
        concurrency: CONCURRENCY,
      });
      assert.deepEqual(result.errors, {}, "no call failed");
      assert.ok(result.completed > 0, "calls were made");
      assert.equal(
        Object.values(result.by_method).reduce((sum, count) => sum + count, 0),
        result.completed,
      );
      assert.deepEqual(
        Object.keys(result.by_method).sort(),
        ["CaptureScreen", "GetSession", "ListSessions"],
        "every kind of call was made",
      );
      await fdsBackTo(daemon.pid, fdsBefore, targetsBefore);
      assert.equal(liveChildren(daemon.pid).length, children, "no process started or lost");
      assert.deepEqual(zombieChildren(daemon.pid), []);
    } finally {
      await home.cleanup();
    }
  });
});
