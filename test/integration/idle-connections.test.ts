/**
 * Connections that never speak: they are closed once the handshake time is up, they cannot
 * take the daemon's last file descriptors, and the clients that do speak keep working.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { afterEach, describe, it } from "node:test";
import { status } from "@grpc/grpc-js";
import { CLIENT_PREFACE, encodeFrame, FrameType } from "../../cli/rpc/http2-frame.js";
import { homePaths } from "../../daemon/common/paths.js";
import { SessionState } from "../../gen/claude_sessions/v1/session_pb.js";
import { fixturePerTest } from "../helpers/daemon-fixture.js";
import { openFds } from "../helpers/proc.js";
import { waitFor } from "../helpers/wait.js";

const fixture = fixturePerTest();
/** Client ends of raw connections, destroyed after each test. */
const opened: Socket[] = [];
afterEach(() => {
  for (const socket of opened.splice(0)) socket.destroy();
});

interface RawConnection {
  socket: Socket;
  closed: boolean;
}

/** Opens `count` connections to `path`, sending `bytes` on each (nothing by default). */
async function openRaw(path: string, count: number, bytes?: Buffer): Promise<RawConnection[]> {
  const connections = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<RawConnection>((resolve, reject) => {
          const socket = connect(path);
          opened.push(socket);
          const connection = { socket, closed: false };
          socket.once("connect", () => {
            if (bytes !== undefined) socket.write(bytes);
            resolve(connection);
          });
          socket.once("error", reject);
          socket.once("close", () => {
            connection.closed = true;
          });
          // What the daemon may answer (its SETTINGS) is not this test's concern.
          socket.resume();
        }),
    ),
  );
  return connections;
}

const closedCount = (connections: readonly RawConnection[]) =>
  connections.filter((connection) => connection.closed).length;

function stateIds(home: string): string[] {
  const state = JSON.parse(readFileSync(homePaths(home).state, "utf8")) as {
    sessions: Array<{ id: string; state: string }>;
  };
  return state.sessions.filter((session) => session.state === "running").map(({ id }) => id);
}

describe("connections that do not complete the HTTP/2 handshake", () => {
  it("are closed after the handshake time, while clients that spoke keep working", async () => {
    const daemons = fixture();
    const { work } = daemons;
    const daemon = await daemons.start();
    const { sessions } = daemon.client;
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: work.path };
    await daemon.client.isRunning();
    const fdsBefore = openFds(daemon.pid);
    // The preface and an empty SETTINGS frame, then nothing: an idle HTTP/2 client, not a silent one.
    const [spoke] = await openRaw(
      daemon.socket,
      1,
      Buffer.concat([CLIENT_PREFACE, encodeFrame(FrameType.SETTINGS, 0, 0)]),
    );
    const silent = await openRaw(daemon.socket, 300);

    const { session } = await sessions.startSession({
      workingDir: work.path,
      command: ["cat"],
      env,
    });
    assert.equal(session?.state, SessionState.RUNNING);
    await waitFor("every silent connection closed by the daemon", () =>
      closedCount(silent) === silent.length ? true : undefined,
    ).catch((error: Error) => {
      throw new Error(`${error.message} (${closedCount(silent)} of ${silent.length} closed)`);
    });
    assert.equal(spoke?.closed, false, "the connection that sent its preface is kept");
    const { session: stopped } = await sessions.stopSession({ sessionId: session?.id ?? "" });
    assert.equal(stopped?.state, SessionState.STOPPED);
    spoke?.socket.destroy();
    await waitFor("the daemon's descriptors back to where they were", () =>
      openFds(daemon.pid) <= fdsBefore ? true : undefined,
    );
  });

  it("at a low fd limit they cannot take the last descriptors: sessions start, state.json is written, then a clear refusal", async () => {
    const LIMIT = 100;
    const daemons = fixture();
    const { home, work } = daemons;
    const daemon = await daemons.start({
      wrapper: ["prlimit", `--nofile=${LIMIT}:${LIMIT}`],
    });
    const { sessions } = daemon.client;
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: work.path };
    await daemon.client.isRunning();
    const silent = await openRaw(daemon.socket, 2 * LIMIT);
    await waitFor("connections past the budget refused at once", () =>
      closedCount(silent) >= LIMIT ? true : undefined,
    ).catch((error: Error) => {
      throw new Error(`${error.message} (${closedCount(silent)} of ${silent.length} closed)`);
    });

    const started: string[] = [];
    const { session } = await sessions.startSession({
      workingDir: work.path,
      command: ["cat"],
      env,
    });
    assert.equal(session?.state, SessionState.RUNNING);
    started.push(session?.id ?? "");
    assert.deepEqual(stateIds(home.path), started, "state.json has the session");

    // Sessions until the daemon says no: a clear RESOURCE_EXHAUSTED, not an EMFILE half-start.
    let refusal: { code: number; details: string } | undefined;
    while (refusal === undefined && started.length < LIMIT) {
      try {
        const next = await sessions.startSession({ workingDir: work.path, command: ["cat"], env });
        assert.equal(next.session?.state, SessionState.RUNNING);
        started.push(next.session?.id ?? "");
      } catch (error) {
        refusal = error as { code: number; details: string };
      }
    }
    assert.ok(refusal, `${started.length} sessions started at a limit of ${LIMIT} descriptors`);
    assert.equal(refusal.code, status.RESOURCE_EXHAUSTED, refusal.details);
    assert.match(refusal.details, /open files/);
    assert.deepEqual(stateIds(home.path).sort(), [...started].sort(), "state.json has them all");
    const listed = (await sessions.listSessions({})).sessions;
    assert.equal(listed.length, started.length, "no FAILED session was left by the refusal");
    assert.doesNotMatch(daemon.output(), /EMFILE/);
  });
});
