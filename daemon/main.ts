/**
 * The daemon's entry: `node dist/daemon/main.js [--foreground] [--resume]`. It always runs in
 * the foreground; `claude-sessions daemon` detaches it. When started with an IPC channel it
 * reports readiness (or the reason it could not start) on it.
 */

import { resolveHome } from "./common/paths.js";
import type { StartReport } from "./common/start-report.js";
import { ConfigError } from "./server/config.js";
import { Daemon, DaemonStartError } from "./server/daemon-server.js";
import { stderrLogger } from "./server/logger.js";

function report(message: StartReport): void {
  if (process.send === undefined) return;
  process.send(message, () => process.disconnect?.());
}

/** Runs the daemon until it is told to stop; resolves with the exit code. */
export async function runDaemon(argv: readonly string[]): Promise<number> {
  process.on("uncaughtException", (error) => {
    // A bug in one request must not take every session down with it: log it and carry on.
    stderrLogger.error(`uncaught exception: ${error.stack ?? error.message}`);
  });
  // The logger does not use these streams; anything else that writes to them (a dependency's
  // console call) must not turn a failing destination into an uncaught exception.
  process.stdout.on("error", () => undefined);
  process.stderr.on("error", () => undefined);
  process.on("unhandledRejection", (reason) => {
    stderrLogger.error(
      `unhandled rejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`,
    );
  });
  const daemon = new Daemon({
    home: resolveHome(),
    logger: stderrLogger,
    resume: argv.includes("--resume"),
  });
  const stopped = daemon.whenStopped();
  const onSignal = (signal: NodeJS.Signals) => {
    stderrLogger.info(`received ${signal}`);
    void daemon.stop();
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  // SIGHUP reloads the config file, as daemons do; the daemon outlives the terminal that
  // started it. A bad file is logged and the config in effect kept.
  process.on("SIGHUP", () => {
    stderrLogger.info("received SIGHUP: reloading the config file");
    try {
      daemon.reloadConfig();
    } catch (error) {
      if (!(error instanceof ConfigError)) stderrLogger.error((error as Error).message);
    }
  });
  // A file size limit (RLIMIT_FSIZE) must surface as a failed log write (EFBIG), which the
  // session reports, not as a signal that kills the daemon and every session with it.
  process.on("SIGXFSZ", () => undefined);
  try {
    await daemon.start();
  } catch (error) {
    const message =
      error instanceof DaemonStartError
        ? error.message
        : `cannot start the daemon: ${(error as Error).message}`;
    stderrLogger.error(message);
    report({
      ready: false,
      message,
      alreadyRunning: error instanceof DaemonStartError && error.alreadyRunning,
    });
    await daemon.stop().catch(() => undefined);
    return 1;
  }
  report({ ready: true, pid: process.pid });
  await stopped;
  return 0;
}

const isEntry =
  process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, "/"));
if (isEntry) {
  runDaemon(process.argv.slice(2)).then((code) => process.exit(code));
}
