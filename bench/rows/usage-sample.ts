/**
 * What measuring a session costs its host: one sample of a process tree (TreeSampler: the tree
 * from the children files, each process's stat and status) for a shell with 10 children, as an
 * agent with a few tool servers has, median of 500. The host takes one a second, so a sample of
 * 1 ms is 0.1% of a core. The baseline is the least any sample reads: the root's own stat.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { TreeSampler } from "../../daemon/host/resource-usage.js";
import { readStat } from "../../daemon/terminal/process-tree.js";
import { check, type Row } from "../lib/figure.js";
import { median } from "../lib/stats.js";

const CHILDREN = 10;
const SAMPLES = 500;
const WARM_UP = 50;
/** A sample past this is more than 0.1% of a core at one a second. */
const MAX_SAMPLE_US = 1000;

function microseconds(run: () => void): number {
  const start = process.hrtime.bigint();
  run();
  return Number(process.hrtime.bigint() - start) / 1000;
}

export const usageSampleRow: Row = {
  name: "usage-sample",
  title: "One sample of a session's process tree (a shell and 10 children)",
  async run(log) {
    // Its own group, so that the whole tree is ended with it.
    const tree: ChildProcess = spawn(
      "bash",
      ["-c", `for i in $(seq ${CHILDREN}); do sleep 1000 & done; echo ready; wait`],
      { stdio: ["ignore", "pipe", "ignore"], detached: true },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        tree.stdout?.once("data", () => resolve());
        tree.once("exit", () => reject(new Error("the tree ended before it was ready")));
      });
      const root = tree.pid as number;
      const sampler = new TreeSampler(root);
      const first = sampler.sample();
      check(
        first.processes === CHILDREN + 1,
        `the sampler found ${first.processes} processes, expected ${CHILDREN + 1}`,
      );
      const subject: number[] = [];
      const baseline: number[] = [];
      for (let i = 0; i < WARM_UP + SAMPLES; i++) {
        const s = microseconds(() => sampler.sample());
        const b = microseconds(() => readStat(root));
        if (i >= WARM_UP) {
          subject.push(s);
          baseline.push(b);
        }
      }
      log(`median ${median(subject).toFixed(0)} µs per sample of ${first.processes} processes`);
      return [
        {
          label: `tree sample, ${CHILDREN + 1} processes (median)`,
          unit: "µs",
          value: median(subject),
          baseline: median(baseline),
          target: { kind: "max", limit: MAX_SAMPLE_US },
          note: `${SAMPLES} samples; baseline: one read of the root's stat`,
        },
      ];
    } finally {
      try {
        process.kill(-(tree.pid as number), "SIGKILL");
      } catch {
        // Gone already.
      }
    }
  },
};
