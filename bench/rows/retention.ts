/**
 * What log retention costs, where it is done: a session host's log writer (SessionLog) taking
 * 50 MB of output in 4 KiB reads, with a 5 MiB limit (segments cut, renamed and deleted as it
 * goes) against the same writer with no limit, in the same run, rounds alternating. Also what
 * is left on disk, held to about twice the limit.
 */
import { join } from "node:path";
import { SessionLog } from "../../daemon/log/session-log.js";
import { bytesOnDisk } from "../../test/helpers/log-reader.js";
import { tempDir } from "../../test/helpers/temp-home.js";
import { check, type Row } from "../lib/figure.js";
import { median, msSince } from "../lib/stats.js";

const TOTAL_BYTES = 50 * 1000 * 1000;
const READ_BYTES = 4096;
const LIMIT_BYTES = 5 * 1024 * 1024;
const ROUNDS = 5;
/** Reads between two waits for the file: a busy program's output comes a few reads a turn. */
const READS_PER_FLUSH = 64;

interface Round {
  ms: number;
  bytesOnDisk: number;
  dropped: number;
}

async function writeRound(dir: string, name: string, maxBytes: number): Promise<Round> {
  const path = join(dir, `${name}.jsonl`);
  let dropped = 0;
  const log = new SessionLog(path, 0, {
    maxBytes,
    ringBudget: 256 * 1024,
    onDropped: () => {
      dropped += 1;
    },
  });
  log.openForAppend();
  // Printable text, a line at a time, as a chatty program writes it.
  const line = `${"0123456789abcdef".repeat(7)}\r\n`;
  const read = line.repeat(Math.ceil(READ_BYTES / line.length)).slice(0, READ_BYTES);
  const start = process.hrtime.bigint();
  for (let written = 0, reads = 0; written < TOTAL_BYTES; written += READ_BYTES) {
    log.appendOutput(read);
    if (++reads % READS_PER_FLUSH === 0) await log.flush();
  }
  await log.close();
  const ms = msSince(start);
  return { ms, bytesOnDisk: bytesOnDisk(path), dropped };
}

const mbPerSecond = (round: Round) => TOTAL_BYTES / 1e6 / (round.ms / 1000);

export const retentionRow: Row = {
  name: "retention",
  title: "Log retention: 50 MB into a 5 MiB log vs an unlimited one",
  async run(log) {
    const dir = tempDir("csb-retention-");
    try {
      let index = 0;
      const limited = () => writeRound(dir.path, `limited-${index++}`, LIMIT_BYTES);
      const unlimited = () => writeRound(dir.path, `unlimited-${index++}`, 0);
      log("warm-up round");
      await unlimited();
      await limited();
      const subject: Round[] = [];
      const baseline: Round[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        const pair = [
          async () => baseline.push(await unlimited()),
          async () => subject.push(await limited()),
        ];
        if (i % 2 === 1) pair.reverse();
        for (const run of pair) await run();
        const [s, b] = [subject[i] as Round, baseline[i] as Round];
        check(s.dropped > 0, "the limited log dropped nothing");
        check(b.dropped === 0, "the unlimited log dropped segments");
        log(
          `round ${i + 1}: unlimited ${mbPerSecond(b).toFixed(0)} MB/s, limited ${mbPerSecond(s).toFixed(0)} MB/s, ${(s.bytesOnDisk / 2 ** 20).toFixed(1)} MiB left of ${(b.bytesOnDisk / 2 ** 20).toFixed(1)}`,
        );
      }
      return [
        {
          label: "log writer with retention (median)",
          unit: "MB/s",
          value: median(subject.map(mbPerSecond)),
          baseline: median(baseline.map(mbPerSecond)),
          target: { kind: "ratio-min", limit: 0.9 },
          note: `${ROUNDS} rounds of 50 MB in 4 KiB reads; 5 MiB limit vs none`,
        },
        {
          label: "log on disk after 50 MB, 5 MiB limit (largest)",
          unit: "MiB",
          value: Math.max(...subject.map((round) => round.bytesOnDisk)) / 2 ** 20,
          target: { kind: "max", limit: (2 * LIMIT_BYTES) / 2 ** 20 },
        },
      ];
    } finally {
      dir.remove();
    }
  },
};
