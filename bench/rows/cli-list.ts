/**
 * `claude-sessions list` wall time with 10 sessions, against bare Node start-up (`node -e 0`):
 * the two are run alternately, after a warm-up of each, and compared by their medians.
 */
import { cliBin } from "../../test/helpers/paths.js";
import { startBenchDaemon } from "../lib/bench-daemon.js";
import { check, type Row } from "../lib/figure.js";
import { type TimedRun, timedRun } from "../lib/processes.js";
import { median } from "../lib/stats.js";

const SESSIONS = 10;
const RUNS = 20;
const WARM_UP = 3;

export const cliListRow: Row = {
  name: "cli-list",
  title: "claude-sessions list (10 sessions) vs node -e 0",
  async run(log) {
    const daemon = await startBenchDaemon();
    try {
      for (let i = 0; i < SESSIONS; i++) await daemon.startSession(["sleep", "1000"]);
      const env = { ...process.env, CLAUDE_SESSIONS_HOME: daemon.home, NO_COLOR: "1" };
      const list = async () => {
        const run = await timedRun(process.execPath, [cliBin, "list"], { env });
        check(run.code === 0, `list exited with ${run.code}: ${run.stderr}`);
        const shown = run.stdout.match(/Active sessions \((\d+)\)/)?.[1];
        check(shown === String(SESSIONS), `list showed ${shown ?? "no"} sessions: ${run.stdout}`);
        return run;
      };
      const bare = async () => {
        const run = await timedRun(process.execPath, ["-e", "0"], { env });
        check(run.code === 0, `node -e 0 exited with ${run.code}`);
        return run;
      };
      for (let i = 0; i < WARM_UP; i++) {
        await bare();
        await list();
      }
      const times: { list: number[]; bare: number[] } = { list: [], bare: [] };
      for (let i = 0; i < RUNS; i++) {
        // Alternate the order so neither always runs right after the other.
        const pair: Array<[keyof typeof times, () => Promise<TimedRun>]> = [
          ["bare", bare],
          ["list", list],
        ];
        if (i % 2 === 1) pair.reverse();
        for (const [key, run] of pair) times[key].push((await run()).ms);
      }
      log(`list: ${times.list.map((ms) => ms.toFixed(0)).join(" ")} ms`);
      log(`node -e 0: ${times.bare.map((ms) => ms.toFixed(0)).join(" ")} ms`);
      return [
        {
          label: "list wall time (median)",
          unit: "ms",
          value: median(times.list),
          baseline: median(times.bare),
          target: { kind: "ratio-max", limit: 1.6 },
          note: `median of ${RUNS}; baseline node -e 0`,
        },
      ];
    } finally {
      await daemon.close();
    }
  },
};
