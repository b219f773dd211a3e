/**
 * Slow clients: a session writing 50 MB while a log follower and a read-only terminal read
 * nothing, against the same session with no clients, in interleaved rounds compared by medians.
 * The program times its own output, so the figure is the session's. Also the daemon's peak RSS
 * growth while the clients stall. That nothing is lost and the daemon's own bounds hold is
 * asserted by `test/integration/slow-clients.test.ts`; this row measures the cost.
 */
import { SessionState } from "../../gen/claude_sessions/v1/session_pb.js";
import { readLog } from "../../test/helpers/log-reader.js";
import { rssBytes } from "../../test/helpers/proc.js";
import { stallClients } from "../../test/helpers/stalled-clients.js";
import { type BenchDaemon, startBenchDaemon } from "../lib/bench-daemon.js";
import { check, type Row } from "../lib/figure.js";
import { median } from "../lib/stats.js";
import { withTimeout } from "../lib/timeout.js";

const BYTES = 50 * 1024 * 1024;
/** Rounds of each kind; a single run swings by half on a shared machine, a median much less. */
const ROUNDS = 5;
const ROUND_TIMEOUT_MS = 120_000;
const MIB = 1024 * 1024;

const writer = [
  "bash",
  "-c",
  `read go; start=$(date +%s%N); yes 'the quick brown fox jumps over the lazy dog 0123456789' | head -c ${BYTES}; end=$(date +%s%N); echo; echo "elapsed-ms=$(( (end - start) / 1000000 ))"`,
];

/** Lets the session write, waits for its end and returns the time it reported. */
async function writeAndTime(daemon: BenchDaemon, sessionId: string): Promise<number> {
  await daemon.client.sessions.sendInput({ sessionId, input: { case: "text", value: "go\n" } });
  const state = await daemon.waitForEnd(sessionId, ROUND_TIMEOUT_MS);
  check(state === SessionState.EXITED, `the writer ended ${SessionState[state]}`);
  const { session } = await daemon.client.sessions.getSession({ sessionId });
  const records = readLog(session?.logPath ?? "").records;
  const tail = records
    .slice(-4)
    .map((record) => record.data)
    .join("");
  const match = /elapsed-ms=(\d+)/.exec(tail);
  check(match !== null, `the writer did not report its time: ${tail.slice(-200)}`);
  return Number(match[1]);
}

async function alone(daemon: BenchDaemon): Promise<number> {
  const id = await daemon.startSession(writer);
  const ms = await writeAndTime(daemon, id);
  await daemon.client.sessions.removeSession({ sessionId: id, deleteLog: true });
  return ms;
}

/** A round with both clients stalled; returns the session's time and the peak RSS growth. */
async function stalled(daemon: BenchDaemon): Promise<{ ms: number; growth: number }> {
  const id = await daemon.startSession(writer);
  const { client } = daemon;
  const clients = await stallClients(client, id);
  try {
    const baseline = rssBytes(daemon.pid);
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssBytes(daemon.pid));
    }, 100);
    let ms: number;
    try {
      ms = await writeAndTime(daemon, id);
    } finally {
      clearInterval(sampler);
    }
    peak = Math.max(peak, rssBytes(daemon.pid));
    clients.resume();
    await withTimeout(
      clients.followerEnded,
      ROUND_TIMEOUT_MS,
      "the follower to reach the end of the log",
    );
    const exit = await withTimeout(
      clients.terminal.exited,
      ROUND_TIMEOUT_MS,
      "the terminal's exit",
    );
    check(exit?.message.case === "exit", "the stalled terminal was not told of the exit");
    const { session } = await client.sessions.getSession({ sessionId: id });
    const fileSeqs = readLog(session?.logPath ?? "").records.map((record) => record.seq);
    const seqs = clients.received.flatMap((response) =>
      response.entries.map((entry) => Number(entry.seq)),
    );
    check(
      seqs.length === fileSeqs.length && seqs.every((seq, i) => seq === fileSeqs[i]),
      `the follower got ${seqs.length} entries, the log holds ${fileSeqs.length}`,
    );
    await client.sessions.removeSession({ sessionId: id, deleteLog: true });
    return { ms, growth: peak - baseline };
  } finally {
    clients.close();
  }
}

export const slowClientsRow: Row = {
  name: "slow-clients",
  title: "A session writing 50 MB with a stalled follower and a stalled terminal",
  async run(log) {
    const daemon = await startBenchDaemon();
    try {
      log("warm-up round");
      await alone(daemon);
      await stalled(daemon);
      const times = { alone: [] as number[], stalled: [] as number[] };
      let peakGrowth = 0;
      for (let i = 0; i < ROUNDS; i++) {
        const pair = [
          async () => times.alone.push(await alone(daemon)),
          async () => {
            const round = await stalled(daemon);
            times.stalled.push(round.ms);
            peakGrowth = Math.max(peakGrowth, round.growth);
          },
        ];
        if (i % 2 === 1) pair.reverse();
        for (const run of pair) await run();
        log(
          `round ${i + 1}: alone ${times.alone[i]} ms, with stalled clients ${times.stalled[i]} ms`,
        );
      }
      const { counters } = await daemon.client.daemon.ping({});
      log(
        `daemon counters: terminal backlog peak ${counters?.terminalBacklogPeakBytes} of ${counters?.terminalBacklogLimitBytes} bytes, ${counters?.terminalResyncs} resyncs; follower held peak ${counters?.followerHeldPeakBytes} of ${counters?.followerHeldLimitBytes}, ${counters?.followerFileReads} file reads`,
      );
      return [
        {
          label: "session time with stalled clients (median)",
          unit: "ms",
          value: median(times.stalled),
          baseline: median(times.alone),
          target: { kind: "ratio-max", limit: 1.25 },
          note: `${ROUNDS} interleaved rounds of 50 MB; baseline: the same session with no client`,
        },
        {
          label: "daemon RSS growth while the clients stall (peak)",
          unit: "MiB",
          value: peakGrowth / MIB,
          target: { kind: "max", limit: 100 },
          note: "sampled every 100 ms, from the RSS just before each stalled round",
        },
      ];
    } finally {
      await daemon.close();
    }
  },
};
