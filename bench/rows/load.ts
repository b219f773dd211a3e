/**
 * Load: 200 sessions started at once and stopped at once, timed; then mixed ListSessions,
 * GetSession and CaptureScreen at a target of 1000 calls a second for 30 s from another process
 * (`test/helpers/load-generator.ts`), against 20 sessions that keep printing. Reports the rate
 * achieved, the daemon's CPU per call and its RSS after the load against a warm baseline. That no
 * call fails and nothing is left behind is asserted by `test/integration/load.test.ts`.
 */
import { SessionState } from "../../gen/claude_sessions/v1/session_pb.js";
import { loadFromProcess } from "../../test/helpers/load-process.js";
import { rssBytes } from "../../test/helpers/proc.js";
import { type BenchDaemon, sessionEnv, startBenchDaemon } from "../lib/bench-daemon.js";
import { cpuMs } from "../lib/cpu.js";
import { check, type Figure, type Row } from "../lib/figure.js";
import { msSince } from "../lib/stats.js";

const SESSIONS = 200;
const RATE = 1000;
const SECONDS = 30;
const WARM_SECONDS = 10;
const CONCURRENCY = 64;
const MIB = 1024 * 1024;

/** Starts 200 sessions at once, then stops them at once; the two times in ms. */
async function startAndStop(daemon: BenchDaemon): Promise<{ startMs: number; stopMs: number }> {
  const { sessions } = daemon.client;
  let start = process.hrtime.bigint();
  const started = await Promise.all(
    Array.from({ length: SESSIONS }, (_, index) =>
      sessions.startSession({
        workingDir: daemon.work,
        command: ["sh", "-c", `echo started-${index}; exec cat`],
        env: sessionEnv,
      }),
    ),
  );
  const startMs = msSince(start);
  check(
    started.every(({ session }) => session?.state === SessionState.RUNNING),
    "a session did not start",
  );
  start = process.hrtime.bigint();
  const stopped = await Promise.all(
    started.map(({ session }) =>
      sessions.stopSession({ sessionId: session?.id ?? "", gracePeriod: { seconds: 5n } }),
    ),
  );
  const stopMs = msSince(start);
  check(
    stopped.every(({ session }) => session?.state === SessionState.STOPPED),
    "a session did not stop",
  );
  for (const { session } of stopped)
    await sessions.removeSession({ sessionId: session?.id ?? "", deleteLog: true });
  return { startMs, stopMs };
}

export const loadRow: Row = {
  name: "load",
  title: "200 sessions at once; 1000 mixed calls/s for 30 s from another process",
  async run(log) {
    const daemon = await startBenchDaemon();
    try {
      const { startMs, stopMs } = await startAndStop(daemon);
      log(
        `${SESSIONS} sessions started in ${startMs.toFixed(0)} ms, stopped in ${stopMs.toFixed(0)} ms`,
      );
      for (let i = 0; i < 20; i++) {
        await daemon.startSession([
          "sh",
          "-c",
          `while :; do echo "session ${i} tick $(date +%s%N)"; sleep 0.5; done`,
        ]);
      }
      const options = { rate: RATE, concurrency: CONCURRENCY };
      // A warm daemon: the baseline is one that has served this load before.
      const warm = await loadFromProcess(daemon.socket, { ...options, seconds: WARM_SECONDS });
      check(Object.keys(warm.errors).length === 0, `calls failed: ${JSON.stringify(warm.errors)}`);
      const rssBefore = rssBytes(daemon.pid);
      const cpuBefore = cpuMs(daemon.pid);
      let rssPeak = rssBefore;
      const sampler = setInterval(() => {
        rssPeak = Math.max(rssPeak, rssBytes(daemon.pid));
      }, 500);
      const result = await loadFromProcess(daemon.socket, { ...options, seconds: SECONDS }).finally(
        () => clearInterval(sampler),
      );
      const cpuPerCall = (cpuMs(daemon.pid) - cpuBefore) / result.completed;
      const rssAfter = rssBytes(daemon.pid);
      check(
        Object.keys(result.errors).length === 0,
        `calls failed: ${JSON.stringify(result.errors)}`,
      );
      log(
        `achieved ${result.achieved_rate}/s (${result.completed} calls, ${result.skipped} not issued because ${CONCURRENCY} were in flight), p50 ${result.latency_ms.p50} ms, p99 ${result.latency_ms.p99} ms; RSS ${(rssBefore / MIB).toFixed(1)} -> peak ${(rssPeak / MIB).toFixed(1)} -> ${(rssAfter / MIB).toFixed(1)} MiB`,
      );
      const figures: Figure[] = [
        {
          label: `${SESSIONS} sessions started at once`,
          unit: "ms",
          value: startMs,
        },
        {
          label: `${SESSIONS} sessions stopped at once`,
          unit: "ms",
          value: stopMs,
        },
        {
          // On a shared 2-core machine the daemon gets a share of a core; the floor catches a
          // daemon that stalls, the CPU per call is the capacity figure.
          label: `calls/s achieved at a ${RATE}/s target, ${SECONDS} s`,
          unit: "calls/s",
          value: result.achieved_rate,
          target: { kind: "min", limit: 300 },
          note: `${result.completed} calls, p50 ${result.latency_ms.p50} ms, p99 ${result.latency_ms.p99} ms`,
        },
        {
          // At most 1 ms of CPU per call means 1000 calls a second fit in one core.
          label: "daemon CPU per call",
          unit: "ms",
          value: cpuPerCall,
          target: { kind: "max", limit: 1 },
        },
        {
          // V8 keeps the heap space it grew into under load (its live heap after a full GC
          // stays ~17 MB here): 64 MiB is about 2 KiB per call of this run, which leaking a
          // call's objects (call, stream, metadata) would exceed.
          label: "daemon RSS growth after the load",
          unit: "MiB",
          value: (rssAfter - rssBefore) / MIB,
          target: { kind: "max", limit: 64 },
          note: `from a warm baseline of ${(rssBefore / MIB).toFixed(1)} MiB; peak ${(rssPeak / MIB).toFixed(1)} MiB`,
        },
      ];
      return figures;
    } finally {
      await daemon.close();
    }
  },
};
