/**
 * A session host's measure of its program's process tree (daemon/host/resource-usage.ts), on
 * real processes: every descendant counted, their memory summed, their CPU time per wall time;
 * both ways of finding the tree (children files, and every process's parent) agree.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { after, describe, it } from "node:test";
import { TreeSampler } from "../../daemon/host/resource-usage.js";
import { waitFor } from "../helpers/wait.js";

const MiB = 1024 * 1024;
const PYTHON = "/usr/bin/python3";

describe("TreeSampler", () => {
  const started: ChildProcess[] = [];
  const run = (script: string) => {
    // Its own process group, so that the whole tree is ended with it.
    const child = spawn("bash", ["-c", script], { stdio: "ignore", detached: true });
    started.push(child);
    return child.pid as number;
  };

  after(() => {
    for (const child of started) {
      try {
        process.kill(-(child.pid as number), "SIGKILL");
      } catch {
        // Gone already.
      }
    }
  });

  for (const byParent of [false, true]) {
    const how = byParent ? "every process's parent" : "children files";
    it(`counts the program and each of its descendants, their memory summed (${how})`, async () => {
      const hog = `${PYTHON} -c 'import sys, time; x = bytearray(40 << 20); print(flush=True); time.sleep(60)'`;
      // bash, then two holders of 40 MiB each, one of them a grandchild under a subshell.
      const root = run(`${hog} | cat & ( ${hog} ) & wait`);
      const sampler = new TreeSampler(root, { byParent });
      const usage = await waitFor("the whole tree, its memory held", () => {
        const now = sampler.sample();
        return now.memoryBytes > 80 * MiB && now;
      });
      // bash, the pipeline's python and cat, the subshell and its python.
      assert.ok(usage.processes >= 4 && usage.processes <= 6, `${usage.processes} processes`);
      assert.ok(usage.memoryBytes < 200 * MiB, `${usage.memoryBytes} bytes`);
    });
  }

  it("gives CPU time per wall time: a busy process is near one core, an idle one near none", async () => {
    const busy = new TreeSampler(run("while :; do :; done"));
    const idle = new TreeSampler(run("sleep 60"));
    assert.equal(busy.sample().cpuPermille, 0, "the first sample has nothing to compare with");
    idle.sample();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const busyNow = busy.sample().cpuPermille;
    const idleNow = idle.sample().cpuPermille;
    // On a shared machine a busy loop gets less than a whole core (a CI run under load gave it
    // 17%), but far more than nothing, and far more than the idle one.
    assert.ok(busyNow > 100 && busyNow <= 1100, `busy: ${busyNow} per mille`);
    assert.ok(busyNow > 4 * idleNow, `busy ${busyNow}, idle ${idleNow} per mille`);
    assert.ok(idleNow < 50, `idle: ${idleNow} per mille`);
  });

  it("reports nothing for a tree that has gone", () => {
    const sampler = new TreeSampler(2 ** 22 + 12345);
    assert.deepEqual(sampler.sample(), { memoryBytes: 0, cpuPermille: 0, processes: 0 });
  });
});
