/**
 * CLI start-up: the wall time of `claude-sessions list` with 10 running sessions, against bare
 * `node -e 0`, measured side by side (interleaved) so that the machine's load affects both.
 *
 *   node dist/bench/cli-startup.js [--runs 20] [--warmup 3] [--json result.json]
 *
 * It starts a daemon on a temporary home, runs 10 `sleep 1000` sessions, and removes it all at
 * the end. The target is a ratio of at most 1.6.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const TARGET_RATIO = 1.6;
const SESSIONS = 10;

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const bin = join(repoRoot, "bin", "claude-sessions.js");

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "20" },
    warmup: { type: "string", default: "3" },
    json: { type: "string" },
  },
});
const runs = Number(values.runs);
const warmup = Number(values.warmup);

// /tmp keeps the socket path short.
const home = mkdtempSync("/tmp/cs-bench-");
const env = { ...process.env, CLAUDE_SESSIONS_HOME: home, NO_COLOR: "1" };

/** Runs the CLI, failing loudly on a non-zero exit. */
function cli(...args: string[]): string {
  const result = spawnSync(process.execPath, [bin, ...args], { env, encoding: "utf8" });
  if (result.status !== 0) {
    throw new Error(`claude-sessions ${args.join(" ")} exited ${result.status}: ${result.stderr}`);
  }
  return result.stdout;
}

/** Wall time of one run, in milliseconds. */
function time(command: readonly string[]): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(command[0] as string, command.slice(1), {
    env,
    stdio: ["ignore", "ignore", "pipe"],
  });
  const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`${command.join(" ")} exited ${result.status}`);
  return elapsed;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

function stopDaemon(): void {
  const stopped = spawnSync(process.execPath, [bin, "stop-daemon", "--timeout", "1s"], { env });
  if (stopped.status === 0) return;
  // The CLI could not stop it: kill it by its pid file rather than leave it running.
  try {
    process.kill(Number(readFileSync(join(home, "daemon.pid"), "utf8").trim()), "SIGKILL");
  } catch {
    // No pid file or no such process: nothing left to stop.
  }
}

try {
  cli("daemon");
  for (let i = 0; i < SESSIONS; i++) cli("start", "--name", `bench-${i}`, "--", "sleep", "1000");
  const listed = JSON.parse(cli("list", "--json")) as Array<{ state: string }>;
  if (listed.length !== SESSIONS || listed.some((session) => session.state !== "running")) {
    throw new Error(`expected ${SESSIONS} running sessions, got ${JSON.stringify(listed)}`);
  }

  const bare = [process.execPath, "-e", "0"];
  const list = [process.execPath, bin, "list"];
  const bareTimes: number[] = [];
  const listTimes: number[] = [];
  for (let i = 0; i < warmup + runs; i++) {
    const bareTime = time(bare);
    const listTime = time(list);
    if (i < warmup) continue;
    bareTimes.push(bareTime);
    listTimes.push(listTime);
  }

  const bareMedian = median(bareTimes);
  const listMedian = median(listTimes);
  const ratio = listMedian / bareMedian;
  const result = {
    node: process.version,
    sessions: SESSIONS,
    runs,
    warmup,
    node_e_0_median_ms: Number(bareMedian.toFixed(1)),
    list_median_ms: Number(listMedian.toFixed(1)),
    ratio: Number(ratio.toFixed(3)),
    target_ratio: TARGET_RATIO,
    node_e_0_ms: bareTimes.map((value) => Number(value.toFixed(1))),
    list_ms: listTimes.map((value) => Number(value.toFixed(1))),
  };
  console.log(`node -e 0:                median ${bareMedian.toFixed(1)} ms (${runs} runs)`);
  console.log(`claude-sessions list:     median ${listMedian.toFixed(1)} ms (${runs} runs)`);
  console.log(
    `ratio:                    ${ratio.toFixed(2)} (target <= ${TARGET_RATIO}: ${ratio <= TARGET_RATIO ? "met" : "not met"})`,
  );
  if (values.json !== undefined) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
} finally {
  stopDaemon();
  rmSync(home, { recursive: true, force: true });
}
