/**
 * Output throughput: a session writing 50 MB, timed until all of it is in the log and has been
 * delivered to one attached terminal client, against the same generator read straight from
 * node-pty in one process. Rounds alternate between the two; MB/s are compared by medians.
 */
import { SessionState } from "../../gen/claude_sessions/v1/session_pb.js";
import { readLog } from "../../test/helpers/log-reader.js";
import { startBenchDaemon } from "../lib/bench-daemon.js";
import { cpuMs, ownCpuMs } from "../lib/cpu.js";
import { check, type Row } from "../lib/figure.js";
import {
  GENERATOR_BYTES,
  GENERATOR_TERMINAL_BYTES,
  generatorCommand,
  READY_MARK,
} from "../lib/generator.js";
import { runJsonChild } from "../lib/processes.js";
import { median, msSince } from "../lib/stats.js";
import { openTerminal } from "../lib/terminal-stream.js";
import { withTimeout } from "../lib/timeout.js";

const ROUNDS = 3;
/** A round far slower than this is broken, not slow. */
const ROUND_TIMEOUT_MS = 120_000;

interface Round {
  bytes: number;
  ms: number;
}

/** Where the CPU went in a daemon round, in ms per MB of output, and how it was delivered. */
interface Costs {
  daemonCpuPerMB: number;
  clientCpuPerMB: number;
  messages: number;
}

function megabytesPerSecond(round: Round): number {
  return GENERATOR_BYTES / 1e6 / (round.ms / 1000);
}

/**
 * node-pty alone may drop the last few KiB when the program exits (the terminal reads EIO while
 * the kernel still holds output; the daemon reads that tail itself, see pty-process.ts). The
 * baseline is allowed that loss, and it is reported; anything more means it did not run through.
 */
const BASELINE_TAIL_SLACK = 256 * 1024;

async function baselineRound(log: (line: string) => void): Promise<Round> {
  const round = await runJsonChild<Round>("pty-drain", []);
  const missing = GENERATOR_TERMINAL_BYTES - round.bytes;
  check(
    missing >= 0 && missing <= BASELINE_TAIL_SLACK,
    `baseline: node-pty delivered ${round.bytes} bytes, expected ${GENERATOR_TERMINAL_BYTES}`,
  );
  if (missing > 0) log(`baseline: node-pty dropped the last ${missing} bytes at exit`);
  return round;
}

export const throughputRow: Row = {
  name: "throughput",
  title: "Output throughput, 50 MB to the log and one attached client",
  async run(log) {
    const daemon = await startBenchDaemon();
    const costs: Costs[] = [];
    const subjectRound = async (): Promise<Round> => {
      const sessionId = await daemon.startSession(generatorCommand);
      let head = "";
      let start: bigint | undefined;
      let bytes = 0;
      let messages = 0;
      let lateScreens = 0;
      let daemonCpuAtStart = 0;
      let clientCpuAtStart = 0;
      const onData = (data: Uint8Array, isScreen: boolean) => {
        if (start !== undefined) {
          // A screen after the start means the client fell behind and output was skipped.
          if (isScreen) lateScreens += 1;
          else {
            bytes += data.length;
            messages += 1;
          }
          return;
        }
        head += Buffer.from(data).toString("latin1");
        const mark = head.indexOf(READY_MARK);
        if (mark < 0) return;
        daemonCpuAtStart = cpuMs(daemon.pid);
        clientCpuAtStart = ownCpuMs();
        start = process.hrtime.bigint();
        terminal.type("\n");
        if (!isScreen) bytes += head.length - mark - READY_MARK.length;
      };
      const terminal = openTerminal(daemon.client, sessionId, {
        screen: (data) => onData(data, true),
        output: (data) => onData(data, false),
      });
      const exit = await withTimeout(
        terminal.ended,
        ROUND_TIMEOUT_MS,
        `the daemon session to write 50 MB (${bytes} bytes arrived${start === undefined ? ", never saw it ready" : ""})`,
      ).catch(async (error: unknown) => {
        terminal.detach();
        await daemon.client.sessions.stopSession({ sessionId }).catch(() => undefined);
        throw error;
      });
      check(start !== undefined, `subject: the generator never got ready: ${head}`);
      const ms = msSince(start);
      const megabytes = GENERATOR_BYTES / 1e6;
      costs.push({
        daemonCpuPerMB: (cpuMs(daemon.pid) - daemonCpuAtStart) / megabytes,
        clientCpuPerMB: (ownCpuMs() - clientCpuAtStart) / megabytes,
        messages,
      });
      check(exit !== undefined, "subject: the stream ended without the session's exit");
      check(
        lateScreens === 0,
        `subject: the attached client fell behind and was given ${lateScreens} fresh screen(s) instead of output`,
      );
      check(
        bytes === GENERATOR_TERMINAL_BYTES,
        `subject: the attached client got ${bytes} bytes, expected ${GENERATOR_TERMINAL_BYTES}`,
      );
      const { session } = await daemon.client.sessions.getSession({ sessionId });
      check(session?.state === SessionState.EXITED, `subject: session is ${session?.state}`);
      const records = readLog(session.logPath).records;
      const output = records
        .filter((record) => record.kind === "output")
        .reduce((sum, record) => sum + record.data.length, 0);
      check(
        output === READY_MARK.length + GENERATOR_TERMINAL_BYTES,
        `subject: the log holds ${output} characters of output, expected ${READY_MARK.length + GENERATOR_TERMINAL_BYTES}`,
      );
      const last = records[records.length - 1];
      check(
        last?.kind === "event" && last.data.startsWith("exited"),
        `subject: the log's last record is not the exit: ${JSON.stringify(last).slice(0, 200)}`,
      );
      await daemon.client.sessions.removeSession({ sessionId, deleteLog: true });
      return { bytes, ms };
    };
    try {
      log("warm-up round");
      await baselineRound(log);
      await subjectRound();
      const baseline: number[] = [];
      const subject: number[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        const pair = [
          async () => baseline.push(megabytesPerSecond(await baselineRound(log))),
          async () => subject.push(megabytesPerSecond(await subjectRound())),
        ];
        if (i % 2 === 1) pair.reverse();
        for (const run of pair) await run();
        const cost = costs[costs.length - 1];
        log(
          `round ${i + 1}: node-pty ${baseline[i]?.toFixed(0)} MB/s, daemon ${subject[i]?.toFixed(0)} MB/s` +
            ` (daemon CPU ${cost?.daemonCpuPerMB.toFixed(1)} ms/MB, client CPU ${cost?.clientCpuPerMB.toFixed(1)} ms/MB, ${cost?.messages} messages)`,
        );
      }
      return [
        {
          label: "output throughput (median)",
          unit: "MB/s",
          value: median(subject),
          baseline: median(baseline),
          target: { kind: "ratio-min", limit: 0.9 },
          note: `${ROUNDS} rounds of 50 MB; log + 1 AttachTerminal client vs node-pty alone`,
        },
      ];
    } finally {
      await daemon.close();
    }
  },
};
