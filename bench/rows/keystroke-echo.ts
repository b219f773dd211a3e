/**
 * Keystroke echo: one key at a time, each waited for until its echo arrives, through
 * AttachTerminal to `cat` in a daemon session, against `cat` in a pseudo-terminal straight
 * from node-pty in this process. The terminal is raw with echo off, so the echo is `cat`'s own
 * write, as with Claude Code and other full-screen programs. Blocks of keys alternate between
 * the two.
 */
import { tmpdir } from "node:os";
import { sessionEnv, startBenchDaemon } from "../lib/bench-daemon.js";
import { BenchFailure, check, type Row } from "../lib/figure.js";
import { assertGone } from "../lib/processes.js";
import { spawnRawPty } from "../lib/raw-pty.js";
import { percentile } from "../lib/stats.js";
import { openTerminal } from "../lib/terminal-stream.js";
import { withTimeout } from "../lib/timeout.js";

const KEYS = 1000;
const WARM_UP = 200;
const BLOCK = 50;
const command = ["sh", "-c", "stty raw -echo; printf READY; exec cat"];
const KEY_TIMEOUT_MS = 5000;

/** A terminal to type into: writes one key, resolves when its echo arrives. */
interface EchoTarget {
  ready: Promise<void>;
  press(key: string): Promise<number>;
}

/** Turns a stream of output into per-key echo waits. */
function echoTarget(write: (key: string) => void): {
  target: EchoTarget;
  received(data: Uint8Array): void;
} {
  let seen = "";
  let readyResolve: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    readyResolve = resolve;
  });
  let waiting: { key: string; start: bigint; resolve: (ms: number) => void } | undefined;
  return {
    received(data) {
      const now = process.hrtime.bigint();
      seen += Buffer.from(data).toString("latin1");
      if (seen.includes("READY")) {
        readyResolve();
        if (waiting === undefined) seen = "";
      }
      if (waiting !== undefined && seen.includes(waiting.key)) {
        const { start, resolve } = waiting;
        waiting = undefined;
        seen = "";
        resolve(Number(now - start) / 1e6);
      }
    },
    target: {
      ready,
      press(key) {
        return new Promise<number>((resolve, reject) => {
          const timer = setTimeout(
            () =>
              reject(new BenchFailure(`no echo of ${JSON.stringify(key)} in ${KEY_TIMEOUT_MS} ms`)),
            KEY_TIMEOUT_MS,
          );
          seen = "";
          waiting = {
            key,
            start: process.hrtime.bigint(),
            resolve: (ms) => {
              clearTimeout(timer);
              resolve(ms);
            },
          };
          write(key);
        });
      },
    },
  };
}

const alphabet = "abcdefghijklmnopqrstuvwxyz";

async function typeKeys(target: EchoTarget, count: number, offset: number, into?: number[]) {
  for (let i = 0; i < count; i++) {
    const ms = await target.press(alphabet[(offset + i) % alphabet.length] as string);
    into?.push(ms);
  }
}

export const keystrokeEchoRow: Row = {
  name: "keystroke-echo",
  title: "Keystroke echo through AttachTerminal to cat vs node-pty to cat",
  async run(log) {
    const daemon = await startBenchDaemon();
    const raw = spawnRawPty(command, { cwd: tmpdir(), env: sessionEnv });
    try {
      const baseline = echoTarget((key) => raw.write(key));
      raw.onData((data) => baseline.received(data));

      const sessionId = await daemon.startSession(command);
      let terminal: ReturnType<typeof openTerminal> | undefined;
      const subject = echoTarget((key) => terminal?.type(key));
      terminal = openTerminal(daemon.client, sessionId, {
        screen: (data) => subject.received(data),
        output: (data) => subject.received(data),
      });
      await withTimeout(
        Promise.all([baseline.target.ready, subject.target.ready]),
        15_000,
        "cat to get ready",
      );
      await typeKeys(baseline.target, WARM_UP, 0);
      await typeKeys(subject.target, WARM_UP, 0);
      const times = { baseline: [] as number[], subject: [] as number[] };
      for (let done = 0; done < KEYS; done += BLOCK) {
        const pair: Array<[EchoTarget, number[]]> = [
          [baseline.target, times.baseline],
          [subject.target, times.subject],
        ];
        if ((done / BLOCK) % 2 === 1) pair.reverse();
        for (const [target, into] of pair) await typeKeys(target, BLOCK, done, into);
      }
      check(
        times.subject.length === KEYS && times.baseline.length === KEYS,
        "not every key was measured",
      );
      terminal.detach();
      await terminal.ended;
      log(
        `p50 ${percentile(times.subject, 50).toFixed(3)} vs ${percentile(times.baseline, 50).toFixed(3)} ms, p99 ${percentile(times.subject, 99).toFixed(3)} vs ${percentile(times.baseline, 99).toFixed(3)} ms`,
      );
      return [
        {
          label: "echo p50",
          unit: "ms",
          value: percentile(times.subject, 50),
          baseline: percentile(times.baseline, 50),
          target: { kind: "delta-max", limit: 0.5 },
          note: `${KEYS} keys after ${WARM_UP} warm-up`,
        },
        {
          label: "echo p99",
          unit: "ms",
          value: percentile(times.subject, 99),
          baseline: percentile(times.baseline, 99),
          compare: "delta",
        },
      ];
    } finally {
      raw.kill();
      await raw.exited;
      await assertGone([raw.pid], "the baseline cat");
      await daemon.close();
    }
  },
};
