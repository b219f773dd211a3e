/**
 * What one session host costs the machine: its private memory with an idle session. 10
 * sessions of `sleep 1000` are started and left 2 s to settle; then each host's USS
 * (Private_Clean + Private_Dirty) and PSS are read from `/proc/<pid>/smaps_rollup`, 5 times
 * 200 ms apart, and the medians over the hosts are reported in MB (10^6 bytes).
 *
 * The baseline is a bare Node holding `sleep 1000` through node-pty (`child/pty-idle.ts`), run
 * with the same Node options as the hosts (read from a host's command line) and measured the
 * same way, at the same time. What a process counts as private depends on what else runs: with
 * one Node process on the machine, the pages of the node binary it has touched are its own;
 * with several, they are shared. So the hosts are measured while the daemon and the other hosts
 * run, as they do in use, and the baselines while all of them still run: both see the node
 * binary shared.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { SessionState } from "../../gen/claude_sessions/v1/session_pb.js";
import { hostsFor, procInfo } from "../../test/helpers/proc.js";
import { startBenchDaemon } from "../lib/bench-daemon.js";
import { BenchFailure, check, type Row } from "../lib/figure.js";
import { assertGone, childScript } from "../lib/processes.js";
import { type PrivateMemory, privateMemory } from "../lib/rss.js";
import { median } from "../lib/stats.js";
import { withTimeout } from "../lib/timeout.js";

const SESSIONS = 10;
const BASELINES = 3;
const PROGRAM = ["sleep", "1000"];
/** Time for start-up work (module loading, first calls) to settle before reading memory. */
const SETTLE_MS = 2000;
const SAMPLES = 5;
const SAMPLE_INTERVAL_MS = 200;
/** The goal for one host (SPEC: at most 10 MB of private memory with an idle session). */
const MAX_USS_MB = 10;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A baseline process: a bare Node holding a program in a terminal. */
interface Baseline {
  node: ChildProcess;
  /** The program's pid. */
  program: number;
}

/**
 * The Node options a host runs with: its command line is `node [options] session-host.cjs
 * <socket>`, so what stands between the binary and the script.
 */
function nodeOptionsOf(pid: number): string[] {
  const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
  const script = argv.findIndex((arg) => arg.endsWith("session-host.cjs"));
  if (script < 0) throw new BenchFailure(`pid ${pid} is not a session host: ${argv.join(" ")}`);
  return argv.slice(1, script);
}

/** Starts a baseline and waits until its program runs. */
async function startBaseline(nodeOptions: readonly string[]): Promise<Baseline> {
  const node = spawn(process.execPath, [...nodeOptions, childScript("pty-idle"), ...PROGRAM], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  node.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const started = new Promise<number>((resolve, reject) => {
    let out = "";
    node.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split("\n", 2);
      if (line.length === 2) resolve((JSON.parse(line[0] ?? "") as { pid: number }).pid);
    });
    node.once("exit", (code) =>
      reject(new BenchFailure(`pty-idle exited with ${code}: ${stderr}`)),
    );
    node.once("error", reject);
  });
  try {
    return { node, program: await withTimeout(started, 15_000, "pty-idle to start its program") };
  } catch (error) {
    node.kill("SIGKILL");
    throw error;
  }
}

/** Ends a baseline (its stdin closes) and checks that it and its program are gone. */
async function endBaseline(baseline: Baseline): Promise<void> {
  baseline.node.stdin?.end();
  const pids = [baseline.node.pid ?? 0, baseline.program];
  try {
    await assertGone(pids, "the baseline");
  } finally {
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Gone, as it should be.
      }
    }
  }
}

/**
 * Each process's median USS and PSS over {@link SAMPLES} readings: the hosts and the baselines
 * are read in turn, in the same moments.
 */
async function settledMemory(pids: readonly number[]): Promise<PrivateMemory[]> {
  const readings = pids.map(() => ({ uss: [] as number[], pss: [] as number[] }));
  for (let i = 0; i < SAMPLES; i++) {
    if (i > 0) await pause(SAMPLE_INTERVAL_MS);
    pids.forEach((pid, index) => {
      const memory = privateMemory(pid);
      readings[index]?.uss.push(memory.ussMB);
      readings[index]?.pss.push(memory.pssMB);
    });
  }
  return readings.map(({ uss, pss }) => ({ ussMB: median(uss), pssMB: median(pss) }));
}

const range = (values: readonly number[]) =>
  `${Math.min(...values).toFixed(1)}-${Math.max(...values).toFixed(1)}`;

export const hostMemoryRow: Row = {
  name: "host-memory",
  title: "Session host USS/PSS with an idle session (10 x sleep) vs bare node-pty",
  async run(log) {
    const daemon = await startBenchDaemon();
    const baselines: Baseline[] = [];
    try {
      for (let i = 0; i < SESSIONS; i++) await daemon.startSession(PROGRAM);
      const { sessions } = await daemon.client.sessions.listSessions({});
      const running = sessions.filter((session) => session.state === SessionState.RUNNING);
      check(running.length === SESSIONS, `${running.length} of ${SESSIONS} sessions run`);
      const hosts = running.map((session) => session.hostPid);
      const found = hostsFor(daemon.home);
      for (const session of running) {
        check(
          found.includes(session.hostPid),
          `session ${session.id}: host pid ${session.hostPid} is not a host of the home`,
        );
        // The host measured is the one holding the program.
        const parent = procInfo(session.pid)?.ppid;
        check(
          parent === session.hostPid,
          `session ${session.id}: program ${session.pid} is a child of ${parent}, not of its host ${session.hostPid}`,
        );
      }
      const nodeOptions = nodeOptionsOf(hosts[0] ?? 0);
      for (let i = 0; i < BASELINES; i++) baselines.push(await startBaseline(nodeOptions));
      await pause(SETTLE_MS);
      const basePids = baselines.map((baseline) => baseline.node.pid ?? 0);
      const memory = await settledMemory([...hosts, ...basePids]);
      const host = memory.slice(0, hosts.length);
      const base = memory.slice(hosts.length);
      const hostUss = host.map((m) => m.ussMB);
      const hostPss = host.map((m) => m.pssMB);
      const baseUss = base.map((m) => m.ussMB);
      const basePss = base.map((m) => m.pssMB);
      log(
        `hosts (${hosts.length}): USS ${range(hostUss)} MB, PSS ${range(hostPss)} MB; node options ${nodeOptions.join(" ") || "(none)"}`,
      );
      log(`bare node-pty (${BASELINES}): USS ${range(baseUss)} MB, PSS ${range(basePss)} MB`);
      const note = `median of ${hosts.length} hosts, ${BASELINES} baselines; ${SAMPLES} readings each`;
      return [
        {
          label: "host USS, idle session",
          unit: "MB",
          value: median(hostUss),
          baseline: median(baseUss),
          target: { kind: "max", limit: MAX_USS_MB },
          compare: "delta",
          note,
        },
        {
          label: "host PSS, idle session",
          unit: "MB",
          value: median(hostPss),
          baseline: median(basePss),
          compare: "delta",
          note,
        },
      ];
    } finally {
      try {
        for (const baseline of baselines) await endBaseline(baseline);
      } finally {
        await daemon.close();
      }
    }
  },
};
