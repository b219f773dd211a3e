/**
 * Sustained RPC load: a mix of ListSessions, GetSession and CaptureScreen at a fixed rate, with
 * bounded concurrency, against a daemon.
 *
 *   node dist/bench/soak.js --socket <path> [--rate 1000] [--seconds 30] [--concurrency 64]
 *     Loads a running daemon (its running sessions are the targets) and prints one JSON line:
 *     achieved rate, errors by status, latency percentiles. The load test runs it this way.
 *
 *   node dist/bench/soak.js [--rate 1000] [--seconds 600] [--sessions 20]
 *     The long soak: starts its own daemon on a temporary home with sessions that keep
 *     printing, loads it, samples the daemon's RSS and open fds every 5 s, then stops it all.
 *
 * The rate is open-loop: calls are issued on a schedule, not when the previous one returns, so a
 * slow daemon shows up as a lower achieved rate and longer latencies rather than being hidden.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import * as grpc from "@grpc/grpc-js";
import { DaemonClient } from "../cli/client.js";
import { homePaths } from "../daemon/common/paths.js";
import { SessionState } from "../gen/claude_sessions/v1/session_pb.js";

export interface LoadResult {
  target_rate: number;
  seconds: number;
  completed: number;
  achieved_rate: number;
  /** Calls not issued because `concurrency` calls were already in flight. */
  skipped: number;
  errors: Record<string, number>;
  latency_ms: { p50: number; p99: number; max: number };
  by_method: Record<string, number>;
}

/** Runs the mixed load against `client` for `seconds`; resolves when every call has ended. */
export async function runLoad(
  client: DaemonClient,
  options: { rate: number; seconds: number; concurrency: number },
): Promise<LoadResult> {
  const running = (await client.sessions.listSessions({ states: [SessionState.RUNNING] })).sessions;
  if (running.length === 0) throw new Error("the daemon has no running session to query");
  const ids = running.map((session) => session.id);
  const calls: Array<[string, (id: string) => Promise<unknown>]> = [
    ["ListSessions", () => client.sessions.listSessions({})],
    ["GetSession", (id) => client.sessions.getSession({ sessionId: id })],
    ["CaptureScreen", (id) => client.sessions.captureScreen({ sessionId: id })],
  ];
  const errors: Record<string, number> = {};
  const byMethod: Record<string, number> = {};
  const latencies: number[] = [];
  let issued = 0;
  let completed = 0;
  let skipped = 0;
  let inFlight = 0;
  const started = performance.now();
  const end = started + options.seconds * 1000;
  let drained: () => void = () => undefined;
  const allDone = new Promise<void>((resolve) => {
    drained = resolve;
  });
  let scheduling = true;

  const issue = () => {
    const [name, call] = calls[issued % calls.length] as [string, (id: string) => Promise<unknown>];
    const id = ids[Math.floor(issued / calls.length) % ids.length] as string;
    issued += 1;
    inFlight += 1;
    const t0 = performance.now();
    call(id)
      .then(
        () => {
          byMethod[name] = (byMethod[name] ?? 0) + 1;
        },
        (error: grpc.ServiceError) => {
          const code = grpc.status[error.code] ?? String(error.code);
          errors[code] = (errors[code] ?? 0) + 1;
        },
      )
      .finally(() => {
        latencies.push(performance.now() - t0);
        completed += 1;
        inFlight -= 1;
        if (!scheduling && inFlight === 0) drained();
      });
  };

  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      const due = Math.floor(((Math.min(now, end) - started) / 1000) * options.rate);
      while (issued + skipped < due) {
        if (inFlight >= options.concurrency) {
          skipped += 1;
          continue;
        }
        issue();
      }
      if (now >= end) {
        resolve();
        return;
      }
      setTimeout(tick, 5);
    };
    tick();
  });
  scheduling = false;
  if (inFlight > 0) await allDone;
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    Number((latencies[Math.floor(q * (latencies.length - 1))] ?? 0).toFixed(2));
  return {
    target_rate: options.rate,
    seconds: Number(elapsed.toFixed(2)),
    completed,
    achieved_rate: Math.round(completed / elapsed),
    skipped,
    errors,
    latency_ms: { p50: at(0.5), p99: at(0.99), max: at(1) },
    by_method: byMethod,
  };
}

function rss(pid: number): number {
  const match = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(match?.[1] ?? 0) * 1024;
}

function fds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;

/** The long soak: own daemon, own sessions, samples along the way. */
async function soak(options: {
  rate: number;
  seconds: number;
  concurrency: number;
  sessions: number;
}) {
  const home = mkdtempSync("/tmp/cs-soak-");
  const work = mkdtempSync("/tmp/csw-soak-");
  const daemonMain = fileURLToPath(new URL("../daemon/main.js", import.meta.url));
  const daemon: ChildProcess = spawn(process.execPath, [daemonMain, "--foreground"], {
    env: { ...process.env, CLAUDE_SESSIONS_HOME: home },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const pid = daemon.pid as number;
  const client = new DaemonClient(homePaths(home).socket);
  try {
    const deadline = Date.now() + 15_000;
    while (!(await client.isRunning(500))) {
      if (Date.now() > deadline) throw new Error("the daemon did not start");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    for (let i = 0; i < options.sessions; i++) {
      await client.sessions.startSession({
        workingDir: work,
        command: ["sh", "-c", `while :; do echo "session ${i} $(date +%s%N)"; sleep 0.5; done`],
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
      });
    }
    // Warm up, so the baseline is a daemon that has served this load before.
    await runLoad(client, { ...options, seconds: 5 });
    const before = { rss: rss(pid), fds: fds(pid) };
    let peak = before.rss;
    const sampler = setInterval(() => {
      const now = rss(pid);
      peak = Math.max(peak, now);
      console.error(`  ${new Date().toISOString()} rss ${mib(now)} fds ${fds(pid)}`);
    }, 5000);
    const result = await runLoad(client, options);
    clearInterval(sampler);
    const after = { rss: rss(pid), fds: fds(pid) };
    console.log(
      JSON.stringify({
        ...result,
        daemon: {
          rss_before: mib(before.rss),
          rss_peak: mib(peak),
          rss_after: mib(after.rss),
          fds_before: before.fds,
          fds_after: after.fds,
        },
      }),
    );
    await client.daemon.shutdown({ gracePeriod: { seconds: 2n } });
  } finally {
    client.close();
    await new Promise((resolve) => {
      if (daemon.exitCode !== null) resolve(undefined);
      else {
        daemon.once("exit", resolve);
        setTimeout(() => daemon.kill("SIGKILL"), 15_000).unref();
      }
    });
    rmSync(home, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      socket: { type: "string" },
      rate: { type: "string", default: "1000" },
      seconds: { type: "string" },
      concurrency: { type: "string", default: "64" },
      sessions: { type: "string", default: "20" },
    },
  });
  const rate = Number(values.rate);
  const concurrency = Number(values.concurrency);
  if (values.socket !== undefined) {
    const client = new DaemonClient(values.socket);
    try {
      const result = await runLoad(client, {
        rate,
        concurrency,
        seconds: Number(values.seconds ?? 30),
      });
      console.log(JSON.stringify(result));
    } finally {
      client.close();
    }
    return;
  }
  await soak({
    rate,
    concurrency,
    seconds: Number(values.seconds ?? 600),
    sessions: Number(values.sessions),
  });
}

const isEntry =
  process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, "/"));
if (isEntry) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  });
}
