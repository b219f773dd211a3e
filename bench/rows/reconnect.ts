/**
 * How long a new daemon takes to serve 100 live sessions again after its predecessor crashed.
 * 100 sessions of `sleep 1000` run; the daemon is killed (SIGKILL: the hosts go on alone) and a
 * new one started on the home, timed from its spawn until its first ListSessions has answered,
 * with every session RUNNING under the same program pid and host pid. The daemon reconnects to
 * every host before it serves (`SessionManager.load`), so the first answer covers the
 * reconnect; the first ListSessions must show all of it, not a later one.
 *
 * The baseline is the same start on a home with 100 sessions of `sleep 1000` that have EXITED
 * (their programs were killed while their first daemon ran): the same records and logs to load,
 * no host to reconnect to. The difference is what the reconnect costs. Three rounds (crash,
 * restart, measure), alternating between the two homes; medians. The first answer is asked
 * for as the CLI asks: its HTTP/2 client tries to connect every 2 ms, then calls ListSessions
 * at once. (A grpc-js client would share the fixture's connection, which backs off for up to
 * 200 ms after each refused attempt: too coarse to time a start-up with.)
 */
import { DaemonConnection } from "../../cli/daemon-connection.js";
import { type Session, SessionState } from "../../gen/claude_sessions/v1/session_pb.js";
import type { DaemonFixture } from "../../test/helpers/daemon-fixture.js";
import { hostsFor, isRunning } from "../../test/helpers/proc.js";
import { waitFor } from "../../test/helpers/wait.js";
import { type BenchDaemon, benchFixture, startBenchDaemon } from "../lib/bench-daemon.js";
import { BenchFailure, check, type Row } from "../lib/figure.js";
import { median, msSince } from "../lib/stats.js";

const SESSIONS = 100;
const ROUNDS = 3;
const PROGRAM = ["sleep", "1000"];
/** Sessions started at once: the daemon starts a few hosts at a time anyway. */
const START_BATCH = 10;
/** The goal: a restarted daemon serves its running sessions again within 2 s. */
const MAX_MS = 2000;
const START_TIMEOUT_MS = 60_000;
/** Between two attempts to connect to a starting daemon. */
const CONNECT_INTERVAL_MS = 2;

/**
 * A connection to the daemon that will serve `socketPath`, as soon as it accepts one: attempts
 * {@link CONNECT_INTERVAL_MS} apart, while the old socket file refuses or the new one is not
 * there yet.
 */
async function firstConnection(socketPath: string, signal: AbortSignal): Promise<DaemonConnection> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (signal.aborted) throw new BenchFailure("the daemon did not start");
    let connection: DaemonConnection | undefined;
    try {
      connection = new DaemonConnection(socketPath);
      await connection.connect();
      return connection;
    } catch {
      connection?.close();
    }
    if (Date.now() > deadline) {
      throw new BenchFailure(`${socketPath} accepted no connection in ${START_TIMEOUT_MS} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, CONNECT_INTERVAL_MS));
  }
}

/** What a timed start measured. */
interface Start {
  /** From the spawn until the socket accepted a connection. */
  acceptMs: number;
  /** From the spawn until the first ListSessions answered. */
  listedMs: number;
}

/** A home and the daemon serving it, if one does: a crashed daemon is replaced by a new one. */
class Home {
  daemon: BenchDaemon | undefined;

  constructor(readonly fixture: DaemonFixture) {}

  async start(): Promise<BenchDaemon> {
    this.daemon = await startBenchDaemon(this.fixture);
    return this.daemon;
  }

  /**
   * Kills the daemon and starts a new one, timed from its spawn until its first ListSessions
   * answered; `verify` checks what that answer says.
   */
  async crashAndRestart(verify: (sessions: Session[]) => void): Promise<Start> {
    const crashed = this.daemon;
    check(crashed !== undefined, "no daemon to crash");
    this.daemon = undefined;
    await crashed.kill();
    const startFailed = new AbortController();
    const begin = process.hrtime.bigint();
    const starting = startBenchDaemon(this.fixture);
    starting.catch(() => startFailed.abort());
    const measuring = (async (): Promise<Start> => {
      const connection = await firstConnection(crashed.socket, startFailed.signal);
      const acceptMs = msSince(begin);
      try {
        const { sessions } = await connection.sessions.listSessions({});
        const listedMs = msSince(begin);
        verify(sessions);
        return { acceptMs, listedMs };
      } finally {
        connection.close();
      }
    })();
    // Both settle before either's failure is thrown, so no daemon is left starting unseen.
    const [measured, started] = await Promise.allSettled([measuring, starting]);
    if (started.status === "fulfilled") this.daemon = started.value;
    else throw started.reason;
    if (measured.status === "rejected") throw measured.reason;
    return measured.value;
  }

  /** Closes the daemon with its checks (nothing of the home left running), or cleans up. */
  async close(): Promise<void> {
    if (this.daemon !== undefined) await this.daemon.close();
    else await this.fixture.cleanup();
  }
}

async function startSessions(daemon: BenchDaemon): Promise<void> {
  for (let i = 0; i < SESSIONS; i += START_BATCH) {
    const batch = Math.min(START_BATCH, SESSIONS - i);
    await Promise.all(Array.from({ length: batch }, () => daemon.startSession(PROGRAM)));
  }
}

/** The home of the baseline: 100 sessions of `sleep 1000` that have exited, no host left. */
async function prepareExited(home: Home): Promise<void> {
  const daemon = await home.start();
  await startSessions(daemon);
  const { sessions } = await daemon.client.sessions.listSessions({});
  check(sessions.length === SESSIONS, `${sessions.length} of ${SESSIONS} sessions started`);
  // Killed from outside, the program ends on its own as far as the daemon knows: EXITED.
  for (const session of sessions) process.kill(session.pid, "SIGKILL");
  for (const session of sessions) {
    const state = await daemon.waitForEnd(session.id);
    check(state === SessionState.EXITED, `session ${session.id} ended ${SessionState[state]}`);
  }
  await waitFor("the hosts of the exited sessions to end", () =>
    hostsFor(daemon.home).length === 0 ? true : undefined,
  );
}

/** Checks a restarted daemon's first answer: every session RUNNING, same program, same host. */
function sameRunning(expected: ReadonlyMap<string, Session>) {
  return (sessions: Session[]) => {
    check(sessions.length === SESSIONS, `ListSessions returned ${sessions.length} sessions`);
    for (const session of sessions) {
      const before = expected.get(session.id);
      check(before !== undefined, `session ${session.id} was not started`);
      check(
        session.state === SessionState.RUNNING,
        `session ${session.id} is ${SessionState[session.state]} after the restart`,
      );
      check(
        session.pid === before.pid && session.hostPid === before.hostPid,
        `session ${session.id}: pid ${session.pid} host ${session.hostPid}, before ${before.pid} host ${before.hostPid}`,
      );
      check(isRunning(session.pid), `session ${session.id}: program ${session.pid} is gone`);
    }
  };
}

/** Checks the baseline's first answer: every session still EXITED, none with a host. */
function allExited(sessions: Session[]): void {
  check(sessions.length === SESSIONS, `ListSessions returned ${sessions.length} sessions`);
  const other = sessions.filter(
    (session) => session.state !== SessionState.EXITED || session.hostPid !== 0,
  );
  check(other.length === 0, `${other.length} baseline sessions are not EXITED without a host`);
}

export const reconnectRow: Row = {
  name: "reconnect",
  title: "Daemon restart after a crash, 100 live sessions, vs 100 exited",
  async run(log) {
    const live = new Home(benchFixture());
    const exited = new Home(benchFixture());
    try {
      await prepareExited(exited);
      const daemon = await live.start();
      await startSessions(daemon);
      const { sessions } = await daemon.client.sessions.listSessions({});
      const running = sessions.filter((session) => session.state === SessionState.RUNNING);
      check(running.length === SESSIONS, `${running.length} of ${SESSIONS} sessions run`);
      const expected = new Map(running.map((session) => [session.id, session]));
      log(`${SESSIONS} sessions running, ${SESSIONS} exited; ${ROUNDS} rounds`);
      const times = { live: [] as number[], exited: [] as number[] };
      for (let round = 0; round < ROUNDS; round++) {
        const reconnect = await live.crashAndRestart(sameRunning(expected));
        const baseline = await exited.crashAndRestart(allExited);
        times.live.push(reconnect.listedMs);
        times.exited.push(baseline.listedMs);
        log(
          `round ${round + 1}: live ${reconnect.listedMs.toFixed(0)} ms (accepting at ${reconnect.acceptMs.toFixed(0)}), exited ${baseline.listedMs.toFixed(0)} ms (accepting at ${baseline.acceptMs.toFixed(0)})`,
        );
      }
      const left = hostsFor(live.fixture.home.path).length;
      check(left === SESSIONS, `${left} hosts run after the restarts, not ${SESSIONS}`);
      return [
        {
          label: "restart to all 100 RUNNING",
          unit: "ms",
          value: median(times.live),
          baseline: median(times.exited),
          target: { kind: "max", limit: MAX_MS },
          compare: "delta",
          note: `median of ${ROUNDS}; spawn to the first ListSessions; baseline 100 EXITED, no hosts`,
        },
      ];
    } finally {
      try {
        await live.close();
      } finally {
        await exited.close();
      }
    }
  },
};
