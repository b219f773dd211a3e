/**
 * `claude-sessions logs -n 100` on a session with a 1 GiB log, against the same on a session
 * with a 1 MiB log: reading the end of a log must not cost more when the log is big. Both logs
 * are written directly into a temporary home, with records of the same size, so both commands
 * print the same amount; runs alternate and are compared by their medians.
 */
import { cliBin } from "../../test/helpers/paths.js";
import { benchFixture, startBenchDaemon } from "../lib/bench-daemon.js";
import { check, type Row } from "../lib/figure.js";
import { timedRun } from "../lib/processes.js";
import { median } from "../lib/stats.js";
import { type SyntheticSession, writeState, writeSyntheticLog } from "../lib/synthetic-log.js";

const TAIL = 100;
const RUNS = 20;
const WARM_UP = 3;

export const logsTailRow: Row = {
  name: "logs-tail",
  title: "logs -n 100 on a 1 GiB log vs a 1 MiB log",
  async run(log) {
    const fixture = benchFixture();
    const { home } = fixture;
    let big: SyntheticSession;
    let small: SyntheticSession;
    try {
      const start = Date.now();
      big = writeSyntheticLog(home.path, 2 ** 30, "big");
      small = writeSyntheticLog(home.path, 2 ** 20, "small");
      writeState(home.path, [big.record, small.record]);
      log(
        `wrote ${big.records} records (${(big.bytes / 2 ** 20).toFixed(0)} MiB) and ${small.records} (${(small.bytes / 2 ** 20).toFixed(2)} MiB) in ${((Date.now() - start) / 1000).toFixed(1)} s`,
      );
    } catch (error) {
      await fixture.cleanup();
      throw error;
    }
    const daemon = await startBenchDaemon(fixture);
    try {
      const env = { ...process.env, CLAUDE_SESSIONS_HOME: daemon.home, NO_COLOR: "1" };
      // -n counts lines, as tail does: the last TAIL lines of output, whole.
      const logs = async (session: SyntheticSession) => {
        const run = await timedRun(
          process.execPath,
          [cliBin, "logs", "-n", String(TAIL), session.record.id],
          {
            env,
          },
        );
        check(run.code === 0, `logs exited with ${run.code}: ${run.stderr}`);
        const lines = run.stdout.split("\n").length - 1;
        check(
          lines === TAIL && run.stdout.endsWith("\r\n"),
          `logs -n ${TAIL} printed ${lines} lines, expected ${TAIL}`,
        );
        return run.ms;
      };
      for (let i = 0; i < WARM_UP; i++) {
        await logs(small);
        await logs(big);
      }
      const times = { big: [] as number[], small: [] as number[] };
      for (let i = 0; i < RUNS; i++) {
        if (i % 2 === 0) {
          times.small.push(await logs(small));
          times.big.push(await logs(big));
        } else {
          times.big.push(await logs(big));
          times.small.push(await logs(small));
        }
      }
      log(`1 GiB: ${times.big.map((ms) => ms.toFixed(0)).join(" ")} ms`);
      log(`1 MiB: ${times.small.map((ms) => ms.toFixed(0)).join(" ")} ms`);
      return [
        {
          label: "logs -n 100, 1 GiB log (median)",
          unit: "ms",
          value: median(times.big),
          baseline: median(times.small),
          target: { kind: "ratio-max", limit: 1.2 },
          note: `median of ${RUNS}; baseline the same on a 1 MiB log; ${(big.recordChars / 1024).toFixed(0)} KiB records`,
        },
      ];
    } finally {
      await daemon.close();
    }
  },
};
