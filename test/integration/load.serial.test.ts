/**
 * Load: 200 sessions started at once and stopped at once; 100 clients following sessions that
 * write, each getting every entry; and mixed ListSessions/GetSession/CaptureScreen at a target
 * of 1000 calls a second for 30 s from another process. No errors, no fd, process or zombie
 * left, and the daemon's memory back within a stated bound. Runs alone (serial phase): it
 * measures rates and memory.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { LoadResult } from "../../bench/soak.js";
import { DaemonClient } from "../../cli/client.js";
import { SessionState } from "../../gen/claude_sessions/v1/session_pb.js";
import type { AttachSessionResponse } from "../../gen/claude_sessions/v1/session_service_pb.js";
import { withDaemon } from "../helpers/daemon-process.js";
import { outputText, readLog } from "../helpers/log-reader.js";
import {
  fdTargets,
  isRunning,
  leftovers,
  liveChildren,
  openFds,
  rssBytes,
  zombieChildren,
} from "../helpers/proc.js";
import { tempDir } from "../helpers/temp-home.js";
import { waitFor } from "../helpers/wait.js";

const soakScript = fileURLToPath(new URL("../../bench/soak.js", import.meta.url));
const mib = (bytes: number) => (bytes / 1048576).toFixed(1);
const env = () => ({ PATH: process.env.PATH ?? "/usr/bin:/bin", LANG: "C.UTF-8" });

/** CPU seconds (user + system) `pid` has used. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

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
  it("200 sessions started at once all run; stopped at once, no process, zombie or fd is left", async () => {
    const COUNT = 200;
    const daemon = await withDaemon();
    const work = tempDir();
    try {
      const { sessions } = daemon.client;
      const fdsBefore = openFds(daemon.pid);
      const targetsBefore = fdTargets(daemon.pid);
      const rssBefore = rssBytes(daemon.pid);
      let t0 = performance.now();
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
      const startMs = performance.now() - t0;
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
      const rssPeak = rssBytes(daemon.pid);
      // Each running session holds its terminal and its log open.
      assert.ok(
        fdsPeak >= fdsBefore + 2 * COUNT,
        `${fdsPeak} fds with ${COUNT} sessions, ${fdsBefore} before`,
      );

      t0 = performance.now();
      const stopped = await Promise.all(
        started.map((session) =>
          sessions.stopSession({ sessionId: session?.id as string, gracePeriod: { seconds: 5n } }),
        ),
      );
      const stopMs = performance.now() - t0;
      for (const { session } of stopped) {
        assert.equal(session?.state, SessionState.STOPPED);
        assert.equal(session?.exitSignal, "SIGTERM");
      }
      for (const leader of leaders) {
        assert.ok(!isRunning(leader), `session process ${leader} still runs`);
        assert.deepEqual(leftovers(leader), []);
      }
      assert.deepEqual(liveChildren(daemon.pid), []);
      assert.deepEqual(zombieChildren(daemon.pid), []);
      const fdsAfter = await fdsBackTo(daemon.pid, fdsBefore, targetsBefore);
      const ping = await daemon.client.daemon.ping({});
      assert.equal(ping.runningCount, 0);
      assert.equal(ping.sessionCount, COUNT);
      console.log(
        `200 sessions: started in ${startMs.toFixed(0)} ms, stopped in ${stopMs.toFixed(0)} ms; daemon fds ${fdsBefore} -> ${fdsPeak} -> ${fdsAfter}, RSS ${mib(rssBefore)} -> ${mib(rssPeak)} -> ${mib(rssBytes(daemon.pid))} MiB`,
      );
    } finally {
      await daemon.cleanup();
      work.remove();
    }
  });

  it("100 clients follow sessions as they write: every client gets every entry, once, in order", async () => {
    const SESSIONS = 10;
    const PER_SESSION = 10;
    const BURSTS = 200;
    const LINES = 10 * BURSTS;
    const daemon = await withDaemon();
    const work = tempDir();
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
      const t0 = performance.now();
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
      const elapsed = performance.now() - t0;
      assert.deepEqual(
        ends.filter((end) => end !== undefined),
        [],
        "every stream ended cleanly when its session did",
      );
      let entries = 0;
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
          entries += follower.seqs.length;
        }
      }
      for (const client of clients) client.close();
      const fdsAfter = await fdsBackTo(daemon.pid, fdsBefore, targetsBefore);
      console.log(
        `100 followers: ${entries} entries delivered (${SESSIONS} sessions x ${LINES} lines in ${BURSTS} bursts, ${PER_SESSION} clients each, half joining mid-stream) in ${elapsed.toFixed(0)} ms; daemon fds ${fdsBefore} -> ${fdsAfter}`,
      );
    } finally {
      for (const client of clients) client.close();
      await daemon.cleanup();
      work.remove();
    }
  });

  it("1000 mixed calls a second for 30 s from another process: no error, no leak, memory back within bounds", async () => {
    const RATE = 1000;
    const SECONDS = 30;
    const CONCURRENCY = 64;
    const daemon = await withDaemon();
    const work = tempDir();
    const runLoad = (seconds: number): Promise<LoadResult> =>
      new Promise((resolve, reject) => {
        const child = spawn(
          process.execPath,
          [
            soakScript,
            "--socket",
            daemon.socket,
            "--rate",
            String(RATE),
            "--seconds",
            String(seconds),
            "--concurrency",
            String(CONCURRENCY),
          ],
          { stdio: ["ignore", "pipe", "pipe"] },
        );
        let out = "";
        let err = "";
        child.stdout.on("data", (chunk: Buffer) => {
          out += chunk.toString();
        });
        child.stderr.on("data", (chunk: Buffer) => {
          err += chunk.toString();
        });
        child.on("error", reject);
        child.on("exit", (code) => {
          if (code !== 0) reject(new Error(`load generator exited ${code}: ${err}`));
          else resolve(JSON.parse(out) as LoadResult);
        });
      });
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
      // A warm daemon: the baseline is one that has served this load before.
      const warm = await runLoad(10);
      assert.deepEqual(warm.errors, {});
      const fdsBefore = openFds(daemon.pid);
      const targetsBefore = fdTargets(daemon.pid);
      const rssBefore = rssBytes(daemon.pid);
      const children = liveChildren(daemon.pid).length;
      const cpuBefore = cpuSeconds(daemon.pid);

      let rssPeak = rssBefore;
      const sampler = setInterval(() => {
        rssPeak = Math.max(rssPeak, rssBytes(daemon.pid));
      }, 500);
      const result = await runLoad(SECONDS);
      clearInterval(sampler);
      const cpuPerCall = ((cpuSeconds(daemon.pid) - cpuBefore) / result.completed) * 1000;
      const fdsAfter = await fdsBackTo(daemon.pid, fdsBefore, targetsBefore);
      const rssAfter = rssBytes(daemon.pid);

      console.log(
        `rpc load: target ${RATE}/s for ${SECONDS} s, achieved ${result.achieved_rate}/s (${result.completed} calls, ${result.skipped} not issued because ${CONCURRENCY} were in flight), errors ${JSON.stringify(result.errors)}, latency p50 ${result.latency_ms.p50} ms p99 ${result.latency_ms.p99} ms, daemon CPU ${cpuPerCall.toFixed(2)} ms/call; fds ${fdsBefore} -> ${fdsAfter}; RSS ${mib(rssBefore)} -> peak ${mib(rssPeak)} -> ${mib(rssAfter)} MiB`,
      );
      assert.deepEqual(result.errors, {}, "no call failed");
      assert.equal(
        Object.values(result.by_method).reduce((sum, count) => sum + count, 0),
        result.completed,
      );
      // The target is 1000/s; on a shared 2-core machine the daemon gets a share of a core, so
      // the floor only catches a daemon that stalls. Its cost per call is the capacity figure:
      // at most 1 ms of CPU per call means 1000 calls a second fit in one core.
      assert.ok(result.achieved_rate >= 300, `achieved ${result.achieved_rate}/s`);
      assert.ok(cpuPerCall <= 1, `the daemon spent ${cpuPerCall.toFixed(2)} ms of CPU per call`);
      assert.equal(liveChildren(daemon.pid).length, children, "no process started or lost");
      assert.deepEqual(zombieChildren(daemon.pid), []);
      // Tolerance: V8 keeps the heap space it grew into under load and does not hand it back
      // when idle (its live heap after a full GC stays ~17 MB under this load), so RSS may stay
      // some tens of MiB above the warm baseline. 64 MiB is about 2 KiB per call of this run:
      // leaking a call's objects (call, stream, metadata) would exceed it.
      assert.ok(
        rssAfter - rssBefore < 64 * 1048576,
        `RSS grew from ${mib(rssBefore)} to ${mib(rssAfter)} MiB`,
      );
    } finally {
      await daemon.cleanup();
      work.remove();
    }
  });
});
