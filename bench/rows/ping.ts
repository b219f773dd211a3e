/**
 * Ping round trip from a separate client process, 5000 sequential calls, against the daemon and
 * against a bare grpc-js server bound through the same adapter (its Ping does nothing).
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { tempDir } from "../../test/helpers/temp-home.js";
import { startBenchDaemon } from "../lib/bench-daemon.js";
import { BenchFailure, check, type Row } from "../lib/figure.js";
import { assertGone, childScript, runJsonChild } from "../lib/processes.js";
import { percentile } from "../lib/stats.js";

const CALLS = 5000;
const WARM_UP = 1000;
const BLOCK = 100;

/** Starts the bare server and resolves once it serves. */
async function startEchoServer(socket: string) {
  const child = spawn(process.execPath, [childScript("ping-echo-server"), socket], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new BenchFailure("echo server did not start")), 15_000);
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("ready")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new BenchFailure(`echo server exited with ${code}: ${output}`));
    });
  });
  child.removeAllListeners("exit");
  const exited = new Promise((resolve) => child.once("exit", resolve));
  return {
    pid: child.pid as number,
    async stop() {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

export const pingRow: Row = {
  name: "ping",
  title: "Ping round trip (separate client process)",
  async run(log) {
    const daemon = await startBenchDaemon();
    const dir = tempDir("csbench-e-");
    let echo: Awaited<ReturnType<typeof startEchoServer>> | undefined;
    try {
      echo = await startEchoServer(join(dir.path, "echo.sock"));
      log(`${CALLS} calls each after ${WARM_UP} warm-up, alternating blocks of ${BLOCK}`);
      const { a: bare, b: subject } = await runJsonChild<{ a: number[]; b: number[] }>(
        "ping-client",
        [join(dir.path, "echo.sock"), daemon.socket, String(CALLS), String(WARM_UP), String(BLOCK)],
      );
      check(
        bare.length === CALLS && subject.length === CALLS,
        `ping client made ${bare.length} and ${subject.length} calls, not ${CALLS}`,
      );
      const ms = (micros: number) => micros / 1000;
      return [
        {
          label: "Ping p50",
          unit: "ms",
          value: ms(percentile(subject, 50)),
          baseline: ms(percentile(bare, 50)),
          target: { kind: "ratio-max", limit: 1.15 },
          note: `${CALLS} calls`,
        },
        {
          label: "Ping p99",
          unit: "ms",
          value: ms(percentile(subject, 99)),
          baseline: ms(percentile(bare, 99)),
        },
      ];
    } finally {
      const pid = echo?.pid;
      await echo?.stop();
      if (pid !== undefined) await assertGone([pid], "the echo server");
      dir.remove();
      await daemon.close();
    }
  },
};
