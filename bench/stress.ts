/**
 * What the daemon costs under clients that misbehave for a long time: input nobody reads, and
 * clients whose processes are stopped (SIGSTOP) while sessions flood them or change under them.
 * The integration tests assert that the daemon bounds these cases; this measures what it holds
 * and spends meanwhile, at sizes larger than a test can afford.
 *
 *   node dist/bench/stress.js [--scenario unread-input|stalled-terminals|stalled-watchers|all]
 *
 *   unread-input       `--input-attempts` (1500) SendInputs of `--input-bytes` (4,000,000) to a
 *                      program in raw mode that reads nothing: how many were accepted and
 *                      refused, the daemon's RSS before, at peak, while the input waits and after
 *                      the session stops, and its CPU while the input waits.
 *   stalled-terminals  `--terminal-sessions` (5) sessions, each with `--terminals-per-session`
 *                      (20) `attach --read-only` CLIs stopped with SIGSTOP, then each session
 *                      writes `--flood-bytes` (20,000,000) and exits; the clients are killed and
 *                      the sessions resumed: attached_clients after each step, RSS.
 *   stalled-watchers   `--watchers` (20) `watch --json` CLIs stopped with SIGSTOP while a session
 *                      is resized `--resizes` (30,000) times: RSS before, at peak and after the
 *                      watchers are killed, and what one watcher is sent once it is continued.
 *
 * Each scenario starts a daemon of its own on a temporary home. Progress goes to stderr, one
 * JSON summary to stdout. Nothing is asserted: a scenario that cannot go on (a timeout) is
 * reported with its error, and the run exits 1. Whatever happens, Ctrl-C included, the daemons,
 * the client processes and the temporary directories are gone when it exits.
 */
import { constants } from "node:os";
import { parseArgs } from "node:util";
import * as grpc from "@grpc/grpc-js";
import { cpuTicks, sessionProcesses } from "../test/helpers/proc.js";
import { type StoppedClients, stoppedClients } from "../test/helpers/stalled-clients.js";
import { attachTerminalClient } from "../test/helpers/terminal-client.js";
import { waitFor } from "../test/helpers/wait.js";
import { type BenchDaemon, startBenchDaemon } from "./lib/bench-daemon.js";
import { Cleanups } from "./lib/cleanups.js";
import { machineInfo } from "./lib/machine.js";
import { rssMB, sampleRssPeak, settledRssMB } from "./lib/rss.js";

/** How long before an "after" reading: V8 gives freed heap back only after a GC or two. */
const SETTLE_MS = 10_000;
/** How long the daemon's CPU is read while input waits for a program that does not read. */
const WAITING_MS = 5000;
/** Long enough for a flood or a storm of events on a busy 2-core machine. */
const STEP_TIMEOUT_MS = 300_000;
/**
 * How long an interrupted run waits for the scenario to give up once its daemon is gone, so
 * that a daemon or clients being started when the signal came are registered and undone too.
 */
const START_GRACE_MS = 3000;

const scenarioNames = ["unread-input", "stalled-terminals", "stalled-watchers"] as const;
type ScenarioName = (typeof scenarioNames)[number];

interface Sizes {
  inputAttempts: number;
  inputBytes: number;
  terminalSessions: number;
  terminalsPerSession: number;
  floodBytes: number;
  watchers: number;
  resizes: number;
}

interface Context {
  sizes: Sizes;
  cleanups: Cleanups;
  log(line: string): void;
}

type Scenario = (context: Context) => Promise<Record<string, unknown>>;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const oneDecimal = (value: number) => Math.round(value * 10) / 10;
const seconds = (since: number) => oneDecimal((Date.now() - since) / 1000);

/** A daemon on a temporary home, stopped (and the home removed) by the scenario's clean-up. */
async function ownDaemon(cleanups: Cleanups): Promise<BenchDaemon> {
  const daemon = await startBenchDaemon();
  cleanups.add(() => daemon.close());
  return daemon;
}

/** CLIs stopped once `ready` holds, killed by the scenario's clean-up. */
async function stoppedClis(
  context: Context,
  daemon: BenchDaemon,
  args: readonly string[],
  count: number,
  ready: (clients: StoppedClients) => Promise<boolean> | boolean,
): Promise<StoppedClients> {
  const clients = await stoppedClients(daemon.home, args, count, ready);
  context.cleanups.add(() => clients.kill());
  return clients;
}

const unreadInput: Scenario = async ({ sizes, cleanups, log }) => {
  const daemon = await ownDaemon(cleanups);
  const { client } = daemon;
  const sessionId = await daemon.startSession(["bash", "-c", "stty raw -echo; sleep 1000"]);
  const { session } = await client.sessions.getSession({ sessionId });
  if (session === undefined) throw new Error("GetSession returned no session");
  const { pid } = session;
  // In raw mode the kernel passes input on as it is, so the program's terminal fills, not its
  // line editor.
  await waitFor("the program to set its terminal raw", () =>
    sessionProcesses(pid).some((info) => info.command === "sleep"),
  );
  const before = await settledRssMB(daemon.pid);
  const data = Buffer.alloc(sizes.inputBytes, "a");
  let accepted = 0;
  let refused = 0;
  let lastRefusal = "";
  const failed: Record<string, number> = {};
  const peak = sampleRssPeak(daemon.pid);
  const started = Date.now();
  for (let attempt = 1; attempt <= sizes.inputAttempts; attempt++) {
    try {
      await client.sessions.sendInput({ sessionId, input: { case: "data", value: data } });
      accepted += 1;
    } catch (error) {
      const { code, details } = error as grpc.ServiceError;
      if (code === grpc.status.RESOURCE_EXHAUSTED) {
        refused += 1;
        lastRefusal = details;
      } else {
        const name = grpc.status[code] ?? String(code);
        failed[name] = (failed[name] ?? 0) + 1;
      }
    }
    if (attempt % 100 === 0) {
      log(`${attempt} of ${sizes.inputAttempts} sent: ${accepted} accepted, ${refused} refused`);
    }
  }
  const sendSeconds = seconds(started);
  const rssPeak = peak.stop();
  const ticks = cpuTicks(daemon.pid);
  await pause(WAITING_MS);
  const waitingTicks = cpuTicks(daemon.pid) - ticks;
  const waitingRss = rssMB(daemon.pid);
  log(`input waiting: ${waitingTicks} CPU ticks in ${WAITING_MS / 1000} s; stopping the session`);
  await client.sessions.stopSession({ sessionId, gracePeriod: { seconds: 0n } });
  await daemon.waitForEnd(sessionId);
  await pause(SETTLE_MS);
  return {
    attempts: sizes.inputAttempts,
    bytes_per_attempt: sizes.inputBytes,
    accepted,
    refused,
    failed,
    last_refusal: lastRefusal,
    send_seconds: sendSeconds,
    daemon_rss_mb: {
      before: oneDecimal(before),
      peak: oneDecimal(rssPeak),
      while_waiting: oneDecimal(waitingRss),
      after_stop: oneDecimal(await settledRssMB(daemon.pid)),
    },
    while_waiting: { seconds: WAITING_MS / 1000, daemon_cpu_ticks: waitingTicks },
  };
};

const stalledTerminals: Scenario = async (context) => {
  const { sizes, cleanups, log } = context;
  const daemon = await ownDaemon(cleanups);
  const { client } = daemon;
  const attached = async () =>
    (await client.sessions.listSessions({})).sessions.reduce(
      (sum, session) => sum + session.attachedClients,
      0,
    );
  const flood = `read go; yes flooding | head -c ${sizes.floodBytes}; echo done`;
  const ids: string[] = [];
  for (let i = 0; i < sizes.terminalSessions; i++) {
    ids.push(await daemon.startSession(["bash", "-c", flood]));
  }
  const groups: StoppedClients[] = [];
  for (const sessionId of ids) {
    groups.push(
      await stoppedClis(
        context,
        daemon,
        ["attach", "--read-only", sessionId],
        sizes.terminalsPerSession,
        async () =>
          (await client.sessions.getSession({ sessionId })).session?.attachedClients ===
          sizes.terminalsPerSession,
      ),
    );
    log(`${groups.length * sizes.terminalsPerSession} terminal clients attached and stopped`);
  }
  const whileStopped = await attached();
  const before = await settledRssMB(daemon.pid);
  const peak = sampleRssPeak(daemon.pid);
  const started = Date.now();
  for (const sessionId of ids) {
    await client.sessions.sendInput({ sessionId, input: { case: "text", value: "go\n" } });
  }
  for (const sessionId of ids) await daemon.waitForEnd(sessionId, STEP_TIMEOUT_MS);
  const floodSeconds = seconds(started);
  const rssPeak = peak.stop();
  const afterExit = await attached();
  log(`sessions flooded and exited in ${floodSeconds} s; killing the stopped clients`);
  for (const group of groups) await group.kill();
  // Time for the daemon to see the killed clients' connections close.
  await pause(3000);
  const afterKill = await attached();
  for (const sessionId of ids) await client.sessions.resumeSession({ sessionId });
  const afterResume = await attached();
  for (const sessionId of ids) {
    await client.sessions.stopSession({ sessionId, gracePeriod: { seconds: 1n } });
  }
  for (const sessionId of ids) await daemon.waitForEnd(sessionId);
  const { counters } = await client.daemon.ping({});
  await pause(SETTLE_MS);
  return {
    sessions: sizes.terminalSessions,
    terminals_per_session: sizes.terminalsPerSession,
    flood_bytes_per_session: sizes.floodBytes,
    flood_seconds: floodSeconds,
    attached_clients: {
      while_stopped: whileStopped,
      after_sessions_exit: afterExit,
      after_clients_killed: afterKill,
      after_resume: afterResume,
    },
    daemon_rss_mb: {
      before: oneDecimal(before),
      peak: oneDecimal(rssPeak),
      after_stop: oneDecimal(await settledRssMB(daemon.pid)),
    },
    terminal_backlog_peak_bytes: Number(counters?.terminalBacklogPeakBytes ?? 0),
    terminal_backlog_limit_bytes: Number(counters?.terminalBacklogLimitBytes ?? 0),
    terminal_resyncs: Number(counters?.terminalResyncs ?? 0),
  };
};

/** Complete lines a `watch --json` client has printed (the last piece may be half written). */
function watchLines(output: string): Array<{ event?: string; skipped_events?: number }> {
  return output
    .split("\n")
    .slice(0, -1)
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as { event?: string; skipped_events?: number });
}

const stalledWatchers: Scenario = async (context) => {
  const { sizes, cleanups, log } = context;
  const daemon = await ownDaemon(cleanups);
  const { client } = daemon;
  const sessionId = await daemon.startSession(["sleep", "1000"]);
  const watchers = await stoppedClis(
    context,
    daemon,
    ["watch", "--existing", "--json"],
    sizes.watchers,
    (clients) => clients.pids.every((_, index) => clients.output(index).includes(sessionId)),
  );
  log(`${sizes.watchers} watchers listed the session and were stopped`);
  const before = await settledRssMB(daemon.pid);
  const peak = sampleRssPeak(daemon.pid);
  const terminal = attachTerminalClient(client, sessionId);
  cleanups.add(() => terminal.detach());
  const started = Date.now();
  // Every resize is an event for every watcher; the last one says when all have been made.
  for (let i = 0; i < sizes.resizes; i++) terminal.resize(40 + (i % 2), 20);
  terminal.resize(123, 45);
  await waitFor(
    "the last resize",
    async () => (await client.sessions.getSession({ sessionId })).session?.cols === 123,
    STEP_TIMEOUT_MS,
    50,
  );
  const eventSeconds = seconds(started);
  log(`${sizes.resizes} resizes made in ${eventSeconds} s; continuing one watcher`);
  await pause(2000);
  const rssPeak = peak.stop();
  const afterEvents = rssMB(daemon.pid);
  process.kill(watchers.pids[0] as number, "SIGCONT");
  // It has been sent all it will be once its output stops growing.
  let length = -1;
  await waitFor(
    "the continued watcher to go quiet",
    () => {
      const now = watchers.output(0).length;
      const quiet = now === length;
      length = now;
      return quiet;
    },
    STEP_TIMEOUT_MS,
    1000,
  );
  const lines = watchLines(watchers.output(0));
  const resyncs = lines.filter((line) => line.event === "resync");
  await watchers.kill();
  log("watchers killed");
  await pause(SETTLE_MS);
  const afterKill = await settledRssMB(daemon.pid);
  return {
    watchers: sizes.watchers,
    resizes: sizes.resizes,
    event_seconds: eventSeconds,
    daemon_rss_mb: {
      before: oneDecimal(before),
      peak: oneDecimal(rssPeak),
      after_events: oneDecimal(afterEvents),
      after_watchers_killed: oneDecimal(afterKill),
    },
    continued_watcher: {
      lines: lines.length,
      bytes: Buffer.byteLength(watchers.output(0)),
      resyncs: resyncs.length,
      skipped_events: resyncs.reduce((sum, line) => sum + (line.skipped_events ?? 0), 0),
    },
  };
};

const scenarios: Record<ScenarioName, Scenario> = {
  "unread-input": unreadInput,
  "stalled-terminals": stalledTerminals,
  "stalled-watchers": stalledWatchers,
};

function positive(name: string, value: string): number {
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number <= 0) {
    throw new Error(`--${name} must be a positive whole number, not ${JSON.stringify(value)}`);
  }
  return number;
}

function parse(): { selected: ScenarioName[]; sizes: Sizes } {
  const { values } = parseArgs({
    options: {
      scenario: { type: "string", default: "all" },
      "input-attempts": { type: "string", default: "1500" },
      "input-bytes": { type: "string", default: "4000000" },
      "terminal-sessions": { type: "string", default: "5" },
      "terminals-per-session": { type: "string", default: "20" },
      "flood-bytes": { type: "string", default: "20000000" },
      watchers: { type: "string", default: "20" },
      resizes: { type: "string", default: "30000" },
    },
  });
  const scenario = values.scenario;
  if (scenario !== "all" && !scenarioNames.includes(scenario as ScenarioName)) {
    throw new Error(`--scenario must be one of ${scenarioNames.join(", ")} or all`);
  }
  return {
    selected: scenario === "all" ? [...scenarioNames] : [scenario as ScenarioName],
    sizes: {
      inputAttempts: positive("input-attempts", values["input-attempts"]),
      inputBytes: positive("input-bytes", values["input-bytes"]),
      terminalSessions: positive("terminal-sessions", values["terminal-sessions"]),
      terminalsPerSession: positive("terminals-per-session", values["terminals-per-session"]),
      floodBytes: positive("flood-bytes", values["flood-bytes"]),
      watchers: positive("watchers", values.watchers),
      resizes: positive("resizes", values.resizes),
    },
  };
}

async function main(): Promise<number> {
  let options: ReturnType<typeof parse>;
  try {
    options = parse();
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 2;
  }
  const cleanups = new Cleanups();
  let running: Promise<Record<string, unknown>> = Promise.resolve({});
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write(`${signal}: stopping the daemon and the clients\n`);
    cleanups
      .close()
      // A daemon or clients still starting are undone as soon as they are registered.
      .then(() => Promise.race([running.catch(() => undefined), pause(START_GRACE_MS)]))
      .then(() => cleanups.run())
      .catch((error: unknown) => process.stderr.write(`clean-up: ${(error as Error).message}\n`))
      .finally(() => process.exit(128 + constants.signals[signal]));
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, onSignal);

  const results: Record<string, unknown> = {};
  let failed = false;
  const started = Date.now();
  for (const name of options.selected) {
    if (interrupted) break;
    process.stderr.write(`== ${name}\n`);
    const log = (line: string) => process.stderr.write(`   ${line}\n`);
    const start = Date.now();
    let result: Record<string, unknown>;
    try {
      running = scenarios[name]({ sizes: options.sizes, cleanups, log });
      result = await running;
    } catch (error) {
      failed = true;
      result = { error: error instanceof Error ? error.message : String(error) };
    }
    try {
      await cleanups.run();
    } catch (error) {
      failed = true;
      result.cleanup_error = error instanceof Error ? error.message : String(error);
    }
    results[name] = { ...result, seconds: seconds(start) };
    log(`${seconds(start)} s`);
  }
  const summary = { machine: machineInfo(), seconds: seconds(started), scenarios: results };
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  return failed ? 1 : 0;
}

process.exitCode = await main();
