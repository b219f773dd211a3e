/**
 * Starting a daemon in the background: a detached process in a new session, its output going
 * to daemon.log, which reports on an IPC channel once its socket answers (or why it could not
 * start) and then lets go of us.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, constants } from "node:fs";
import { withTimeout } from "../daemon/common/async.js";
import { ensurePrivateHome } from "../daemon/common/home-guard.js";
import { homePaths } from "../daemon/common/paths.js";
import { openRegularFile, UnsafeFileError } from "../daemon/common/regular-file.js";
import type { StartReport } from "../daemon/common/start-report.js";
import { daemonEntry } from "./daemon-entry.js";

/** How long a starting daemon may take to answer. */
const START_TIMEOUT_MS = 15_000;

export class DaemonLaunchError extends Error {
  override readonly name = "DaemonLaunchError";
  constructor(
    message: string,
    /** The daemon did not start because one already runs for the home. */
    readonly alreadyRunning = false,
  ) {
    super(message);
  }
}

/** Starts a detached daemon for `home`; resolves with its pid once it serves. */
export async function launchDaemon(
  home: string,
  options: { resume?: boolean } = {},
): Promise<number> {
  const paths = homePaths(home);
  ensurePrivateHome(home);
  // Appending through a symbolic link planted at daemon.log would write wherever it points.
  // So would a FIFO there block the open until something read it.
  let log: number;
  try {
    log = openRegularFile(paths.log, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, {
      mode: 0o600,
    });
  } catch (error) {
    if (error instanceof UnsafeFileError) throw new DaemonLaunchError(error.message);
    throw error;
  }
  // A daemon started from inside a session is none of that session's processes: without the
  // session's id, stopping the session does not end the daemon and every session it runs.
  const { CLAUDE_SESSIONS_ID: _sessionId, ...env } = process.env;
  let child: ChildProcess;
  try {
    child = spawn(
      process.execPath,
      [daemonEntry, "--foreground", ...(options.resume ? ["--resume"] : [])],
      {
        detached: true,
        stdio: ["ignore", log, log, "ipc"],
        env: { ...env, CLAUDE_SESSIONS_HOME: home },
        cwd: "/",
      },
    );
  } finally {
    closeSync(log);
  }
  try {
    const report = new Promise<number>((resolve, reject) => {
      child.once("message", (message: StartReport) => {
        if (message.ready) resolve(message.pid);
        else reject(new DaemonLaunchError(message.message, message.alreadyRunning === true));
      });
      child.once("exit", (code) => {
        reject(
          new DaemonLaunchError(
            `the daemon exited with code ${code} before serving; see ${paths.log}`,
          ),
        );
      });
      child.once("error", (error) => {
        reject(new DaemonLaunchError(`cannot start the daemon: ${error.message}`));
      });
    });
    return await withTimeout(report, START_TIMEOUT_MS, () => {
      throw new DaemonLaunchError(
        `the daemon did not start within ${START_TIMEOUT_MS / 1000}s; see ${paths.log}`,
      );
    });
  } finally {
    child.removeAllListeners();
    if (child.connected) child.disconnect();
    child.unref();
  }
}
