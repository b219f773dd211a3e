/**
 * Slow clients: a follower and a terminal that stop reading while a session writes 50 MB. The
 * session is timed against the same session with no clients in the same run, so this file runs
 * alone (the serial phase of the test runner).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { LogEntryKind, SessionState } from "../../gen/claude_sessions/v1/session_pb.js";
import type { AttachSessionResponse } from "../../gen/claude_sessions/v1/session_service_pb.js";
import { useDaemon, waitForState } from "../helpers/fixture.js";
import { readLog } from "../helpers/log-reader.js";
import { attachTerminalClient } from "../helpers/terminal-client.js";

const BYTES = 50 * 1024 * 1024;
/** How long the clients read nothing, at least. */
const STALL_MS = 10_000;
/**
 * Runs of each kind, interleaved; their medians are compared, so a moment of load from
 * elsewhere on the machine (a single run swings by half on a shared machine) does not decide
 * the result.
 */
const ROUNDS = 7;

describe("slow clients", () => {
  const fixture = useDaemon();

  /** Starts a session that writes 50 MB as fast as it can and reports how long that took. */
  const startWriter = async () => {
    // The program times its own output, so the figure is the session's, not the test's.
    const writer = `start=$(date +%s%N); yes 'the quick brown fox jumps over the lazy dog 0123456789' | head -c ${BYTES}; end=$(date +%s%N); echo; echo "elapsed-ms=$(( (end - start) / 1000000 ))"`;
    const { session } = await fixture.daemon.client.sessions.startSession({
      workingDir: fixture.work.path,
      command: ["bash", "-c", `sleep 0.3; ${writer}`],
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    });
    assert.ok(session);
    return session.id;
  };

  const finished = async (id: string) => {
    const final = await waitForState(fixture.daemon.client, id, SessionState.EXITED, 120_000);
    const match = /elapsed-ms=(\d+)/.exec(readFileSync(final.logPath, "utf8").slice(-4096));
    assert.ok(match, "the writer reported its time");
    return { elapsed: Number(match[1]), logPath: final.logPath };
  };

  const rss = () =>
    Number(
      /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${fixture.daemon.pid}/status`, "utf8"))?.[1] ?? 0,
    ) * 1024;

  it("neither slow the session nor lose entries, and the daemon's memory stays bounded", async () => {
    const alone: number[] = [];
    const stalled: number[] = [];
    let peakGrowth = 0;
    // Alternate runs with and without stalled clients, so machine noise hits both alike.
    for (let round = 0; round < ROUNDS; round++) {
      alone.push((await finished(await startWriter())).elapsed);

      const baseline = rss();
      let peak = baseline;
      const id = await startWriter();
      const stalledAt = Date.now();
      // Both stop reading at once, like a client whose process or network stalls: their streams
      // fill and the daemon must neither wait for them nor buffer for them.
      const follower = fixture.daemon.client.sessions.attachSession({
        sessionId: id,
        follow: true,
      });
      const received: AttachSessionResponse[] = [];
      follower.on("data", (response: AttachSessionResponse) => received.push(response));
      follower.pause();
      const terminal = attachTerminalClient(fixture.daemon.client, id, { readOnly: true });
      terminal.pause();
      try {
        const sampler = setInterval(() => {
          peak = Math.max(peak, rss());
        }, 100);
        const { elapsed, logPath } = await finished(id);
        while (Date.now() - stalledAt < STALL_MS && round === 0) {
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
        clearInterval(sampler);
        peak = Math.max(peak, rss());
        stalled.push(elapsed);
        peakGrowth = Math.max(peakGrowth, peak - baseline);

        // Now the follower reads, and gets every entry of the file, in order.
        await new Promise<void>((resolve, reject) => {
          follower.on("end", resolve);
          follower.on("error", reject);
          follower.resume();
        });
        const seqs = received.flatMap((response) =>
          response.entries.map((entry) => Number(entry.seq)),
        );
        const output = received
          .flatMap((response) => response.entries)
          .filter((entry) => entry.kind === LogEntryKind.OUTPUT)
          .reduce((sum, entry) => sum + Buffer.byteLength(entry.data), 0);
        const file = readLog(logPath).records;
        assert.deepEqual(
          seqs,
          file.map((record) => record.seq),
          "the follower got every entry",
        );
        assert.ok(output >= BYTES, `the follower got all ${BYTES} bytes of output (${output})`);
        // The terminal was given a fresh screen instead of the output it could not take.
        terminal.resume();
        await terminal.exited;
      } finally {
        follower.cancel();
        terminal.detach();
      }
    }
    const median = (values: number[]) =>
      [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
    const ratio = median(stalled) / median(alone);
    console.log(
      `slow clients: alone ${alone.join("/")} ms, with stalled clients ${stalled.join("/")} ms, median ratio ${ratio.toFixed(2)}, peak daemon RSS growth ${(peakGrowth / 1048576).toFixed(1)} MiB`,
    );
    assert.ok(ratio <= 1.25, `with stalled clients the session took ${ratio.toFixed(2)}x as long`);
    assert.ok(
      peakGrowth < 100 * 1024 * 1024,
      `daemon RSS grew by ${(peakGrowth / 1048576).toFixed(1)} MiB`,
    );
  });
});
