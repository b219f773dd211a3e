/**
 * A daemon for one benchmark, on a daemon fixture (a temporary home and working directory).
 * Closing it stops the daemon, checks that it exited 0, cleans up the fixture (which ends the
 * session hosts: a daemon's SIGTERM leaves them running), and checks that the daemon, every
 * session host of the home and every session's program are gone.
 */
import type { ChildProcess } from "node:child_process";
import type { DaemonClient } from "../../cli/client.js";
import { SessionState } from "../../gen/claude_sessions/v1/session_pb.js";
import { DaemonFixture, type DaemonHandle } from "../../test/helpers/daemon-fixture.js";
import { hostsFor } from "../../test/helpers/proc.js";
import { waitFor } from "../../test/helpers/wait.js";
import { BenchFailure } from "./figure.js";
import { assertGone } from "./processes.js";

export interface BenchDaemon {
  home: string;
  socket: string;
  pid: number;
  process: ChildProcess;
  client: DaemonClient;
  /** Everything the daemon wrote to stdout and stderr so far. */
  output(): string;
  /** A directory sessions can run in. */
  work: string;
  /** Starts `command` as a session and returns its id once it runs. */
  startSession(command: string[], options?: { cols?: number; rows?: number }): Promise<string>;
  /** Waits until the session has ended; returns its final state. */
  waitForEnd(sessionId: string, timeoutMs?: number): Promise<SessionState>;
  /**
   * SIGKILL and wait (a crash): the hosts go on alone. A killed daemon is not closed: the
   * fixture's cleanup (or the close of a daemon started after it) ends what it left.
   */
  kill(): Promise<void>;
  close(): Promise<void>;
}

/** The environment sessions get: enough for shell utilities, nothing from the bench's. */
export const sessionEnv = {
  PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
  HOME: process.env.HOME ?? "/tmp",
  LANG: "C.UTF-8",
};

/**
 * Node options for the daemon, from `BENCH_DAEMON_NODE_ARGS` (space-separated), e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile it under a benchmark's load (NODE_OPTIONS
 * does not take `--cpu-prof`).
 */
function daemonNodeArgs(): string[] {
  return (process.env.BENCH_DAEMON_NODE_ARGS ?? "").split(" ").filter((arg) => arg !== "");
}

/** The fixture a benchmark's daemon gets unless it prepared one (a home with files in it). */
export function benchFixture(): DaemonFixture {
  return new DaemonFixture({ prefix: "csbench-" });
}

/** A daemon on `fixture`'s home, with its working directory. */
export async function startBenchDaemon(fixture = benchFixture()): Promise<BenchDaemon> {
  const work = fixture.work;
  let daemon: DaemonHandle;
  try {
    daemon = await fixture.start({ nodeArgs: daemonNodeArgs() });
  } catch (error) {
    await fixture.cleanup();
    throw error;
  }
  const { process: child, client, pid } = daemon;
  return {
    home: fixture.home.path,
    socket: daemon.socket,
    pid,
    process: child,
    client,
    output: daemon.output,
    work: work.path,
    async startSession(command, size = {}) {
      const { session } = await client.sessions.startSession({
        workingDir: work.path,
        command,
        env: sessionEnv,
        ...size,
      });
      if (session === undefined) throw new BenchFailure("StartSession returned no session");
      return session.id;
    },
    async waitForEnd(sessionId, timeoutMs = 60_000) {
      return waitFor(
        `session ${sessionId} to end`,
        async () => {
          const { session } = await client.sessions.getSession({ sessionId });
          const state = session?.state;
          return state === SessionState.STARTING || state === SessionState.RUNNING
            ? undefined
            : state;
        },
        timeoutMs,
        20,
      );
    },
    kill: () => daemon.kill(),
    async close() {
      let pids: number[] = [];
      let hosts: number[] = [];
      try {
        if (child.exitCode === null) {
          // A daemon already stopping (a Ctrl-C reaches it too) may no longer answer.
          const { sessions } = await client.sessions
            .listSessions({})
            .catch(() => ({ sessions: [] }));
          pids = sessions.map((session) => session.pid).filter((pid) => pid > 0);
          hosts = sessions.map((session) => session.hostPid).filter((pid) => pid > 0);
        }
        // Hosts of sessions the daemon did not list (it failed to take them over) count too.
        hosts = [...new Set([...hosts, ...hostsFor(fixture.home.path)])];
      } finally {
        // SIGTERM, and SIGKILL if the daemon does not stop; the directories go too.
        await fixture.cleanup();
      }
      const code = await daemon.exited;
      if (code !== 0) {
        throw new BenchFailure(`daemon exited with ${code}: ${daemon.output().slice(-2000)}`);
      }
      await assertGone([pid], "the daemon");
      await assertGone(hosts, "session hosts");
      await assertGone(pids, "session programs");
    },
  };
}
