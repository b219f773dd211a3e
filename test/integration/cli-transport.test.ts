/**
 * The CLI's own HTTP/2 gRPC transport against the real daemon: statuses, streams, cancelling,
 * deadlines, backpressure, and a socket where nothing listens.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { DaemonConnection } from "../../cli/daemon-connection.js";
import { CallError, Status } from "../../cli/rpc/call-error.js";
import type { Http2Channel } from "../../cli/rpc/http2-channel.js";
import { LogEntryKind } from "../../gen/claude_sessions/v1/session_pb.js";
import { DaemonFixture, type DaemonHandle } from "../helpers/daemon-fixture.js";
import { tempHome } from "../helpers/temp-home.js";
import { waitFor } from "../helpers/wait.js";

async function rejection(promise: Promise<unknown>): Promise<CallError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof CallError, `not a CallError: ${error}`);
    return error;
  }
  assert.fail("the call succeeded");
}

describe("CLI transport: HTTP/2 gRPC calls to the daemon", () => {
  const fixture = new DaemonFixture();
  let daemon: DaemonHandle;
  let connection: DaemonConnection;

  before(async () => {
    daemon = await fixture.start();
    connection = new DaemonConnection(daemon.socket);
  });

  after(async () => {
    connection.close();
    await fixture.cleanup();
  });

  const startSession = async (command: string[]) => {
    const { session } = await connection.sessions.startSession({ workingDir: "/tmp", command });
    assert.ok(session);
    return session;
  };

  it("a unary call returns the typed response", async () => {
    const pong = await connection.daemon.ping({});
    assert.equal(pong.pid, daemon.pid);
    assert.equal(pong.home, daemon.home);
  });

  it("a failed call rejects with the daemon's status code and message", async () => {
    const error = await rejection(connection.sessions.getSession({ sessionId: "nothing-here" }));
    assert.equal(error.code, Status.NOT_FOUND);
    assert.equal(error.details, "no session matches 'nothing-here'");
    assert.equal(error.requestSent, true);

    const invalid = await rejection(
      connection.sessions.startSession({ workingDir: "relative/dir", command: ["true"] }),
    );
    assert.equal(invalid.code, Status.INVALID_ARGUMENT);
  });

  it("an unknown method is UNIMPLEMENTED", async () => {
    const channel = (connection as unknown as { channel: Http2Channel }).channel;
    const call = channel.start("/claude_sessions.v1.SessionService/NoSuchMethod", {
      serialize: () => new Uint8Array(),
      deserialize: (bytes) => bytes,
    });
    call.end();
    const error = await new Promise<CallError>((resolve) => call.on("error", resolve));
    assert.equal(error.code, Status.UNIMPLEMENTED);
  });

  it("a server stream delivers every entry in order and ends when the session ends", async () => {
    const session = await startSession([
      "sh",
      "-c",
      "for i in 1 2 3; do echo n-$i; sleep 0.1; done",
    ]);
    const seqs: bigint[] = [];
    let text = "";
    for await (const response of connection.sessions.attachSession({
      sessionId: session.id,
      follow: true,
    })) {
      for (const entry of response.entries) {
        seqs.push(entry.seq);
        text += entry.data;
      }
    }
    assert.match(text, /n-1[\s\S]*n-2[\s\S]*n-3/);
    assert.deepEqual(
      seqs,
      seqs.map((_, index) => BigInt(index + 1)),
    );
  });

  it("a reader slower than the session still gets everything, in order", async () => {
    // It stays alive after printing: what a reader gets, not how a session's end is flushed.
    const session = await startSession([
      "sh",
      "-c",
      "seq 1 30000; echo $((1+1))-finished; sleep 100",
    ]);
    await waitFor("the output to be logged", () =>
      readFileSync(session.logPath, "utf8").includes("2-finished"),
    );
    let next = 1n;
    let text = "";
    for await (const response of connection.sessions.attachSession({ sessionId: session.id })) {
      for (const entry of response.entries) {
        assert.equal(entry.seq, next);
        next += 1n;
        if (entry.kind === LogEntryKind.OUTPUT) text += entry.data;
      }
      // Slow down so that the transport has to hold the daemon back.
      await new Promise((resolve) => setImmediate(resolve));
    }
    const numbers = text.split(/\r?\n/).filter((line) => /^\d+$/.test(line));
    assert.deepEqual(
      numbers,
      Array.from({ length: 30000 }, (_, index) => String(index + 1)),
    );
    await connection.sessions.stopSession({ sessionId: session.id });
  });

  it("cancelling a followed stream ends it with CANCELLED; the connection keeps working", async () => {
    const session = await startSession(["sleep", "100"]);
    const stream = connection.sessions.attachSession({ sessionId: session.id, follow: true });
    const failed = new Promise<CallError>((resolve) => stream.on("error", resolve));
    setTimeout(() => stream.cancel(), 100);
    assert.equal((await failed).code, Status.CANCELLED);
    assert.equal((await connection.daemon.ping({})).pid, daemon.pid);
    await connection.sessions.stopSession({ sessionId: session.id });
  });

  it("a deadline ends a call with DEADLINE_EXCEEDED", async () => {
    const session = await startSession(["sleep", "100"]);
    const started = Date.now();
    const stream = connection.sessions.attachSession(
      { sessionId: session.id, follow: true },
      { deadline: Date.now() + 300 },
    );
    const error = await new Promise<CallError>((resolve) => stream.on("error", resolve));
    assert.equal(error.code, Status.DEADLINE_EXCEEDED);
    assert.ok(Date.now() - started < 5000);
    await connection.sessions.stopSession({ sessionId: session.id });
  });

  it("a socket where nothing listens is UNAVAILABLE, quickly", async () => {
    const empty = tempHome();
    const nowhere = new DaemonConnection(`${empty.path}/daemon.sock`);
    try {
      const error = await rejection(nowhere.daemon.ping({}));
      assert.equal(error.code, Status.UNAVAILABLE);
      assert.match(error.details, /ENOENT/);
      // Nothing was sent, so the CLI may start a daemon and make the call again.
      assert.equal(error.requestSent, false);
      assert.equal(await nowhere.isRunning(), false);
    } finally {
      nowhere.close();
      empty.remove();
    }
  });
});
