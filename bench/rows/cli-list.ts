/**
 * `claude-sessions list` wall time with 10 sessions, against bare Node start-up (`node -e 0`)
 * run by the same Node, on each Node version of {@link benchNodes}: the two are run
 * alternately, after a warm-up of each (which also writes the CLI's code cache for a Node
 * other than the one that built it), and compared by their medians, as a ratio and as the
 * milliseconds `list` adds.
 */
import { cliBin } from "../../test/helpers/paths.js";
import { startBenchDaemon } from "../lib/bench-daemon.js";
import { check, type Figure, type Row } from "../lib/figure.js";
import { benchNodes, type NodeBinary } from "../lib/nodes.js";
import { type TimedRun, timedRun } from "../lib/processes.js";
import { median } from "../lib/stats.js";

const SESSIONS = 10;
const RUNS = 20;
const WARM_UP = 3;
/** What `list` may add to bare start-up, on any Node. */
const MAX_ADDED_MS = 25;
/** The ratio held on Node 20, whose bare start-up is the slowest. */
const MAX_RATIO_NODE_20 = 1.5;

export const cliListRow: Row = {
  name: "cli-list",
  title: "claude-sessions list (10 sessions) vs node -e 0, per Node version",
  async run(log) {
    const nodes = benchNodes(log);
    const daemon = await startBenchDaemon();
    try {
      for (let i = 0; i < SESSIONS; i++) await daemon.startSession(["sleep", "1000"]);
      const env = { ...process.env, CLAUDE_SESSIONS_HOME: daemon.home, NO_COLOR: "1" };
      const figures: Figure[] = [];
      for (const node of nodes) figures.push(...(await measure(node, env, log)));
      return figures;
    } finally {
      await daemon.close();
    }
  },
};

async function measure(
  node: NodeBinary,
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
): Promise<Figure[]> {
  const list = async () => {
    const run = await timedRun(node.path, [cliBin, "list"], { env });
    check(run.code === 0, `list on Node ${node.version} exited with ${run.code}: ${run.stderr}`);
    // The table's rows, after its header line.
    const shown = run.stdout.trimEnd().split("\n").length - 1;
    check(shown === SESSIONS, `list showed ${shown} sessions: ${run.stdout}`);
    return run;
  };
  const bare = async () => {
    const run = await timedRun(node.path, ["-e", "0"], { env });
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
  log(`Node ${node.version} list: ${times.list.map((ms) => ms.toFixed(0)).join(" ")} ms`);
  log(`Node ${node.version} node -e 0: ${times.bare.map((ms) => ms.toFixed(0)).join(" ")} ms`);
  const value = median(times.list);
  const baseline = median(times.bare);
  const note = `median of ${RUNS}; baseline node -e 0 on the same Node`;
  return [
    {
      label: `Node ${node.version}: list wall time`,
      unit: "ms",
      value,
      baseline,
      ...(node.major === 20 ? { target: { kind: "ratio-max", limit: MAX_RATIO_NODE_20 } } : {}),
      note,
    },
    {
      label: `Node ${node.version}: list above node -e 0`,
      unit: "ms",
      value,
      baseline,
      target: { kind: "delta-max", limit: MAX_ADDED_MS },
      note,
    },
  ];
}
