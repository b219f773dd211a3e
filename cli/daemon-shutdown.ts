/**
 * Asking a daemon to shut down and waiting until its process is gone: what `stop-daemon` and
 * `daemon restart` share, so that whatever follows (a new daemon, a user's next command) finds
 * the home free.
 */
import { delay } from "../daemon/common/async.js";
import { DEFAULT_GRACE_MS } from "../daemon/common/grace.js";
import type { PingResponse } from "../gen/claude_sessions/v1/daemon_pb.js";
import type { DaemonConnection } from "./daemon-connection.js";
import { durationMessage } from "./durations.js";
import { LIVENESS_TIMEOUT_MS } from "./liveness.js";
import { RemoteError } from "./remote/remote-error.js";

/** The daemon was asked to stop and did not; the message says how to end it. */
export class DaemonStillRunningError extends Error {
  override readonly name = "DaemonStillRunningError";
}

/** How long past the grace period a daemon may take to exit once it has been asked to. */
const EXIT_WAIT_MS = 10_000;

export interface ShutdownOptions {
  /** End the running sessions first (they become interrupted); otherwise they keep running. */
  stopSessions: boolean;
  /** With `stopSessions`: each session's time between SIGTERM and SIGKILL (default 5s). */
  graceMs?: number | undefined;
}

/** The daemon's answer to Ping, or undefined if none answers within the liveness timeout. */
export async function pingDaemon(client: DaemonConnection): Promise<PingResponse | undefined> {
  try {
    return await client.daemon.ping({}, { deadline: Date.now() + LIVENESS_TIMEOUT_MS });
  } catch {
    return undefined;
  }
}

/**
 * Sends Shutdown and waits until the daemon's process is gone; resolves with its pid. Rejects
 * with a {@link DaemonStillRunningError} if it is still there after the grace period and
 * {@link EXIT_WAIT_MS} more. A failed call rejects as it failed, for the caller to report.
 */
export async function shutdownDaemon(
  client: DaemonConnection,
  options: ShutdownOptions,
): Promise<number> {
  const grace = options.graceMs;
  const { pid } = await client.daemon.shutdown(
    {
      stopSessions: options.stopSessions,
      ...(grace === undefined ? {} : { gracePeriod: durationMessage(grace) }),
    },
    { deadline: client.deadlineAfter(grace ?? DEFAULT_GRACE_MS) },
  );
  const waitMs = (grace ?? DEFAULT_GRACE_MS) + EXIT_WAIT_MS;
  const deadline = Date.now() + waitMs;
  // A daemon on another machine is gone once its machine says none runs (the connection is
  // made again for each ask, without starting one).
  const alive = client.remote ? () => stillServes(client) : async () => isAlive(pid);
  while (Date.now() < deadline && (await alive())) await delay(client.remote ? 100 : 25);
  if (await alive()) {
    throw new DaemonStillRunningError(
      `the daemon (pid ${pid}) is still running ${waitMs / 1000}s after it was asked to stop; end it with: kill -9 ${pid}`,
    );
  }
  return pid;
}

/** Whether a remote daemon still answers, or is still shutting down. */
async function stillServes(client: DaemonConnection): Promise<boolean> {
  try {
    await client.daemon.ping({}, { deadline: Date.now() + LIVENESS_TIMEOUT_MS });
    return true;
  } catch (error) {
    return !(error instanceof RemoteError);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
