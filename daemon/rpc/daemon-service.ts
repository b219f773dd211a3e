/** The DaemonService handlers. */

import { durationFromMs, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { status } from "@grpc/grpc-js";
import type { DaemonService } from "../../gen/claude_sessions/v1/daemon_pb.js";
import { DEFAULT_GRACE_MS } from "../common/grace.js";
import { VERSION } from "../common/version.js";
import { ConfigError, configJson, type DaemonConfig } from "../server/config.js";
import type { DaemonCounters } from "../server/daemon-counters.js";
import type { SessionManager } from "../session/session-manager.js";
import { durationMs } from "./duration.js";
import { RpcError } from "./rpc-error.js";
import type { ServiceImpl } from "./service-binding.js";

export interface DaemonControl {
  readonly home: string;
  readonly configPath: string;
  /** The config file's `web_port`, as last loaded. */
  webPort(): number;
  readonly startedAt: Date;
  /** Begins shutting down once the current response is sent. */
  requestShutdown(options: { graceMs: number; stopSessions: boolean }): void;
  /** Reads the config file again; throws a ConfigError (and keeps the old) if it is bad. */
  reloadConfig(): { path: string; found: boolean; config: DaemonConfig };
}

export function daemonService(
  control: DaemonControl,
  manager: SessionManager,
  counters: DaemonCounters,
): ServiceImpl<(typeof DaemonService)["method"]> {
  return {
    async reloadConfig() {
      try {
        const { path, found, config } = control.reloadConfig();
        return { path, found, effective: JSON.stringify(configJson(config)) };
      } catch (error) {
        if (error instanceof ConfigError)
          throw new RpcError(status.FAILED_PRECONDITION, error.message);
        throw error;
      }
    },

    async ping() {
      const sessions = manager.list();
      return {
        version: VERSION,
        pid: process.pid,
        uptime: durationFromMs(Date.now() - control.startedAt.getTime()),
        startedAt: timestampFromDate(control.startedAt),
        home: control.home,
        configPath: control.configPath,
        webPort: control.webPort(),
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
