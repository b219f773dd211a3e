/**
 * Sustained RPC load: a mix of ListSessions, GetSession and CaptureScreen at a fixed rate, with
 * bounded concurrency, against a daemon.
 *
 *   node dist/bench/soak.js --socket <path> [--rate 1000] [--seconds 30] [--concurrency 64]
 *     Loads a running daemon (its running sessions are the targets) and prints one JSON line:
 *     achieved rate, errors by status, latency percentiles.
 *
 *   node dist/bench/soak.js [--rate 1000] [--seconds 600] [--sessions 20]
 *     The long soak: starts its own daemon on a temporary home with sessions that keep
 *     printing, loads it, samples the daemon's RSS and open fds every 5 s, then stops it all.
 *
 * The generator itself is `test/helpers/load-generator.ts`, which the load test and the `load`
 * row run in a process of their own; this is its command-line front.
 */
import { parseArgs } from "node:util";
import { DaemonFixture } from "../test/helpers/daemon-fixture.js";
import { loadSocket, runLoad } from "../test/helpers/load-generator.js";
import { openFds as fds, rssBytes as rss } from "../test/helpers/proc.js";

const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;

/** The long soak: own daemon, own sessions, samples along the way. */
async function soak(options: {
  rate: number;
  seconds: number;
  concurrency: number;
  sessions: number;
}) {
  const fixture = new DaemonFixture({ prefix: "cs-soak-" });
  try {
    const { client, pid } = await fixture.start();
    const work = fixture.work.path;
    for (let i = 0; i < options.sessions; i++) {
      await client.sessions.startSession({
        workingDir: work,
        command: ["sh", "-c", `while :; do echo "session ${i} $(date +%s%N)"; sleep 0.5; done`],
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
      });
    }
    // Warm up, so the baseline is a daemon that has served this load before.
    await runLoad(client, { ...options, seconds: 5 });
    const before = { rss: rss(pid), fds: fds(pid) };
    let peak = before.rss;
    const sampler = setInterval(() => {
      const now = rss(pid);
      peak = Math.max(peak, now);
      console.error(`  ${new Date().toISOString()} rss ${mib(now)} fds ${fds(pid)}`);
    }, 5000);
    const result = await runLoad(client, options);
    clearInterval(sampler);
    const after = { rss: rss(pid), fds: fds(pid) };
    console.log(
      JSON.stringify({
        ...result,
        daemon: {
          rss_before: mib(before.rss),
          rss_peak: mib(peak),
          rss_after: mib(after.rss),
          fds_before: before.fds,
          fds_after: after.fds,
        },
      }),
    );
    await client.daemon.shutdown({ gracePeriod: { seconds: 2n } });
  } finally {
    await fixture.cleanup();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      socket: { type: "string" },
      rate: { type: "string", default: "1000" },
      seconds: { type: "string" },
      concurrency: { type: "string", default: "64" },
      sessions: { type: "string", default: "20" },
    },
  });
  const rate = Number(values.rate);
  const concurrency = Number(values.concurrency);
  if (values.socket !== undefined) {
    const result = await loadSocket(values.socket, {
      rate,
      concurrency,
      seconds: Number(values.seconds ?? 30),
    });
    console.log(JSON.stringify(result));
    return;
  }
  await soak({
    rate,
    concurrency,
    seconds: Number(values.seconds ?? 600),
    sessions: Number(values.sessions),
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
