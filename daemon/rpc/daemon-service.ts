/** The DaemonService handlers. */

import { durationFromMs, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { status } from "@grpc/grpc-js";
import type { DaemonService } from "../../gen/claude_sessions/v1/daemon_pb.js";
import { DEFAULT_GRACE_MS } from "../common/grace.js";
import { VERSION } from "../common/version.js";
import type { DaemonCounters } from "../server/daemon-counters.js";
import type { SessionManager } from "../session/session-manager.js";
import { durationMs } from "./duration.js";
import { RpcError } from "./rpc-error.js";
import type { ServiceImpl } from "./service-binding.js";

export interface DaemonControl {
  readonly home: string;
  readonly startedAt: Date;
  /** Begins shutting down once the current response is sent. */
  requestShutdown(options: { graceMs: number; stopSessions: boolean }): void;
}

export function daemonService(
  control: DaemonControl,
  manager: SessionManager,
  counters: DaemonCounters,
): ServiceImpl<(typeof DaemonService)["method"]> {
  return {
    async reloadConfig() {
      throw new RpcError(status.UNIMPLEMENTED, "ReloadConfig is not served yet");
    },

    async ping() {
      const sessions = manager.list();
      return {
        version: VERSION,
        pid: process.pid,
        uptime: durationFromMs(Date.now() - control.startedAt.getTime()),
        startedAt: timestampFromDate(control.startedAt),
        home: control.home,
        sessionCount: sessions.length,
        runningCount: sessions.filter((session) => session.isRunning).length,
        counters: countersMessage(counters),
      };
    },
    async shutdown(request) {
      const grace =
        request.gracePeriod === undefined
          ? DEFAULT_GRACE_MS
          : durationMs(request.gracePeriod, "grace_period");
      setImmediate(() =>
        control.requestShutdown({ graceMs: grace, stopSessions: request.stopSessions }),
      );
      return { pid: process.pid };
    },
  };
}

function countersMessage(counters: DaemonCounters) {
  const now = counters.snapshot();
  return {
    terminalBacklogLimitBytes: BigInt(now.terminalBacklogLimitBytes),
    terminalBacklogPeakBytes: BigInt(now.terminalBacklogPeakBytes),
    terminalResyncs: BigInt(now.terminalResyncs),
    followerHeldLimitBytes: BigInt(now.followerHeldLimitBytes),
    followerHeldPeakBytes: BigInt(now.followerHeldPeakBytes),
    followerFileReads: BigInt(now.followerFileReads),
  };
}
