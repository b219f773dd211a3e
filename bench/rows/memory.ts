/**
 * The daemon's resident memory when idle, and what each idle session adds to it: 50 sessions of
 * `sleep`. Absolute figures; there is no baseline. Each session's pseudo-terminal and log writer
 * are in its session host, not in the daemon: what a session adds here is its record, its
 * headless screen and its host connection. A host's own memory is the `host-memory` row.
 */
import { SessionState } from "../../gen/claude_sessions/v1/session_pb.js";
import { startBenchDaemon } from "../lib/bench-daemon.js";
import { check, type Row } from "../lib/figure.js";
import { settledRssMB } from "../lib/rss.js";

const SESSIONS = 50;
/** Time for start-up work (module loading, first calls) to settle before reading memory. */
const SETTLE_MS = 2000;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const memoryRow: Row = {
  name: "memory",
  title: "Daemon RSS idle and per idle session (50 x sleep)",
  async run(log) {
    const daemon = await startBenchDaemon();
    try {
      await pause(SETTLE_MS);
      const idle = await settledRssMB(daemon.pid);
      for (let i = 0; i < SESSIONS; i++) await daemon.startSession(["sleep", "1000"]);
      const { sessions } = await daemon.client.sessions.listSessions({});
      const running = sessions.filter((session) => session.state === SessionState.RUNNING);
      check(running.length === SESSIONS, `${running.length} of ${SESSIONS} sessions run`);
      await pause(SETTLE_MS);
      const loaded = await settledRssMB(daemon.pid);
      const perSession = (loaded - idle) / SESSIONS;
      log(`idle ${idle.toFixed(1)} MB, with ${SESSIONS} sessions ${loaded.toFixed(1)} MB`);
      return [
        {
          label: "RSS idle",
          unit: "MB",
          value: idle,
          target: { kind: "max", limit: 80 },
        },
        {
          label: "RSS per idle session",
          unit: "MB",
          value: perSession,
          target: { kind: "max", limit: 3 },
          note: `(${loaded.toFixed(1)} - ${idle.toFixed(1)} MB) / ${SESSIONS}; the daemon's share only, hosts apart`,
        },
      ];
    } finally {
      await daemon.close();
    }
  },
};
