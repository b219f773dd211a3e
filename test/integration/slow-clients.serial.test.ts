/**
 * Slow clients: a follower and a terminal that read nothing while a session writes 50 MB. Timed
 * against the same session with no clients in the same run, so it runs alone (serial phase).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { LogEntryKind, SessionState } from "../../gen/claude_sessions/v1/session_pb.js";
import type { AttachSessionResponse } from "../../gen/claude_sessions/v1/session_service_pb.js";
import { type DaemonHandle, withDaemon } from "../helpers/daemon-process.js";
import { readLogFile } from "../helpers/log-file.js";
import { type TempHome, tempDir } from "../helpers/temp-home.js";
import { attachTerminalClient } from "../helpers/terminal-client.js";
import { waitFor } from "../helpers/wait.js";

describe("slow clients", () => {
  let daemon: DaemonHandle & { cleanup(): Promise<void> };
  let work: TempHome;

  before(async () => {
    daemon = await withDaemon();
    work = tempDir();
  });

  after(async () => {
    await daemon.cleanup();
    work.remove();
  });

  it("slow clients neither slow the session nor lose entries, and memory stays bounded", async () => {
    const bytes = 50 * 1024 * 1024;
    // The program times its own output, so the figure is the session's, not the test's.
    const writer = `start=$(date +%s%N); yes 'the quick brown fox jumps over the lazy dog 0123456789' | head -c ${bytes}; end=$(date +%s%N); echo; echo "elapsed-ms=$(( (end - start) / 1000000 ))"`;
    const run = async () => {
      const { session } = await daemon.client.sessions.startSession({
        workingDir: work.path,
        command: ["bash", "-c", `sleep 0.3; ${writer}`],
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
      });
      assert.ok(session);
      return session;
    };
    const elapsedOf = async (id: string) => {
      const final = await waitFor(
        "the writer to finish",
        async () => {
          const current = (await daemon.client.sessions.getSession({ sessionId: id })).session;
          return current?.state === SessionState.EXITED ? current : undefined;
        },
        120_000,
        50,
      );
      const text = readFileSync(final.logPath, "utf8");
      const match = /elapsed-ms=(\d+)/.exec(text.slice(-4096));
      assert.ok(match, `the writer reported its time: ${JSON.stringify(text.slice(-600))}`);
      return { elapsed: Number(match[1]), session: final };
    };
    const rss = () =>
      Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${daemon.pid}/status`, "utf8"))?.[1] ?? 0) *
      1024;

    // Alternate runs with and without stalled clients, so machine noise hits both alike.
    const alone: number[] = [];
    const stalled: number[] = [];
    let peakGrowth = 0;
    for (let round = 0; round < 3; round++) {
      alone.push((await elapsedOf((await run()).id)).elapsed);

      const baseline = rss();
      const session = await run();
      // A follower and a terminal that read nothing while the session writes.
      const stream = daemon.client.sessions.attachSession({ sessionId: session.id, follow: true });
      stream.pause();
      const terminal = attachTerminalClient(daemon.client, session.id, { readOnly: true });
      try {
        let peak = baseline;
        const sampler = setInterval(() => {
          peak = Math.max(peak, rss());
        }, 100);
        const { elapsed, session: final } = await elapsedOf(session.id);
        const stalledSince = Date.now();
        while (Date.now() - stalledSince < 10_000 - elapsed && round === 0) {
          await new Promise((resolve) => setTimeout(resolve, 250));
          peak = Math.max(peak, rss());
        }
        clearInterval(sampler);
        stalled.push(elapsed);
        peakGrowth = Math.max(peakGrowth, peak - baseline);

        // The follower now reads, and gets every entry of the file.
        const seqs: number[] = [];
        let output = 0;
        stream.resume();
        for await (const response of stream as AsyncIterable<AttachSessionResponse>) {
          for (const entry of response.entries) {
            seqs.push(Number(entry.seq));
            if (entry.kind === LogEntryKind.OUTPUT) output += Buffer.byteLength(entry.data);
          }
        }
        const file = readLogFile(final.logPath);
        assert.equal(seqs.length, file.length, "the follower got every entry");
        assert.deepEqual(
          seqs,
          file.map((record) => record.seq),
        );
        assert.ok(output >= bytes, `the follower got all ${bytes} bytes of output (${output})`);
      } finally {
        stream.cancel();
        terminal.detach();
        await terminal.exited;
      }
    }
    const median = (values: number[]) =>
      [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
    const best = (values: number[]) => Math.min(...values);
    const ratio = best(stalled) / best(alone);
    console.log(
      `slow clients: alone ${alone.join("/")} ms, with stalled clients ${stalled.join("/")} ms, ratio ${ratio.toFixed(2)} (median ${(median(stalled) / median(alone)).toFixed(2)}), peak RSS growth ${(peakGrowth / 1048576).toFixed(1)} MiB`,
    );
    assert.ok(ratio <= 1.25, `with stalled clients the session took ${ratio.toFixed(2)}x as long`);
    assert.ok(
      peakGrowth < 100 * 1024 * 1024,
      `daemon RSS grew by ${(peakGrowth / 1048576).toFixed(1)} MiB`,
    );
  });
});
