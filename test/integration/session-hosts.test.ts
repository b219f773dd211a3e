/**
 * Sessions outlive the daemon: each one's program is held by a session host, which logs alone
 * while no daemon runs and which every new daemon reconnects to. Real daemons, real hosts, real
 * programs; a crash is `kill -9`.
 */
import assert from "node:assert/strict";
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import type { DaemonClient } from "../../cli/client.js";
import { homePaths, hostPaths } from "../../daemon/common/paths.js";
import {
  decodeDaemonMessage,
  decodeHostMessage,
  encodeDaemonMessage,
  encodeHostMessage,
  FrameReader,
  type Hello,
  HOST_PROTOCOL_VERSION,
  type HostMessage,
  MIN_HOST_PROTOCOL_VERSION,
} from "../../daemon/host/host-wire.js";
import type { LogEntry } from "../../gen/claude_sessions/v1/session_pb.js";
import { Activity, SessionState } from "../../gen/claude_sessions/v1/session_pb.js";
import { type DaemonFixture, fixturePerTest } from "../helpers/daemon-fixture.js";
import { assertContiguous, outputText, readLog } from "../helpers/log-reader.js";
import { isRunning } from "../helpers/proc.js";
import { attachTerminalClient } from "../helpers/terminal-client.js";
import { waitFor } from "../helpers/wait.js";

const fixture = fixturePerTest();

const env = () => ({ PATH: process.env.PATH ?? "/usr/bin:/bin", LANG: "C.UTF-8", TERM: "xterm" });

/**
 * Counts every 100 ms; a line typed to it is echoed back as "got <line>". The counter runs in a
 * subshell and the reader blocks: bash reads a terminal a byte at a time, so a `read -t` that
 * times out mid-line would drop the keys it had already taken.
 */
const COUNTER = [
  "bash",
  "--norc",
  "--noprofile",
  "-c",
  '(i=0; while :; do i=$((i+1)); echo "count $i"; sleep 0.1; done) & while read -r line; do echo "got $line"; done',
];

function countsIn(text: string): number[] {
  return [...text.matchAll(/count (\d+)\r\n/g)].map((match) => Number(match[1]));
}

async function sessionOf(client: DaemonClient, id: string) {
  const { session } = await client.sessions.getSession({ sessionId: id });
  assert.ok(session);
  return session;
}

async function start(daemons: DaemonFixture, command: string[], cols = 80, rows = 24) {
  const { session } = await daemons.daemon.client.sessions.startSession({
    workingDir: daemons.work.path,
    command,
    env: env(),
    cols,
    rows,
  });
  assert.ok(session);
  return session;
}

describe("kill -9 of the daemon while a session prints", () => {
  it("3 s later a new daemon serves it RUNNING, same pid; the log has every count, seqs contiguous; the screen and typing work", async () => {
    const daemons = fixture();
    await daemons.start();
    const session = await start(daemons, COUNTER);
    await waitFor("the counter to count", () =>
      countsIn(outputText(readLog(session.logPath).records)).includes(5),
    );
    await daemons.daemon.kill();
    const killedAt = countsIn(outputText(readLog(session.logPath).records)).at(-1) ?? 0;
    // The outage: no daemon for 3 s, while the program goes on counting.
    await delay(3000);
    const next = await daemons.start();
    const served = await sessionOf(next.client, session.id);
    assert.equal(served.state, SessionState.RUNNING);
    assert.equal(served.pid, session.pid);
    assert.ok(isRunning(session.pid));

    const text = await waitFor("counting past the outage", () => {
      const current = outputText(readLog(session.logPath).records);
      const counts = countsIn(current);
      return (counts.at(-1) ?? 0) >= killedAt + 35 ? current : undefined;
    });
    const counts = countsIn(text);
    assert.deepEqual(
      counts,
      Array.from({ length: counts.length }, (_, index) => index + 1),
      "every count, once, in order, through the outage",
    );
    assertContiguous(readLog(session.logPath).records);

    const screen = (await next.client.sessions.captureScreen({ sessionId: session.id })).text;
    const last = Math.max(...countsIn(`${screen.replaceAll("\n", "\r\n")}\r\n`));
    assert.ok(last > killedAt + 30, `the screen shows the latest counts: ${last}`);

    const terminal = attachTerminalClient(next.client, session.id, { cols: 80, rows: 24 });
    await terminal.waitForText("count ");
    terminal.type("hello-through-the-next-daemon\r");
    await terminal.waitForText("got hello-through-the-next-daemon");
    terminal.detach();
    await terminal.exited;
    await next.client.sessions.stopSession({ sessionId: session.id });
  });

  it("a follower that reconnects with from_seq = last seen + 1 misses nothing", async () => {
    const daemons = fixture();
    await daemons.start();
    const session = await start(daemons, COUNTER);
    const seen: LogEntry[] = [];
    const follow = async (
      client: DaemonClient,
      fromSeq: bigint,
      until: (entry: LogEntry) => boolean,
    ) => {
      const stream = client.sessions.attachSession({
        sessionId: session.id,
        start: { case: "fromSeq", value: fromSeq },
        follow: true,
      });
      try {
        for await (const response of stream) {
          for (const entry of response.entries) {
            seen.push(entry);
            if (until(entry)) return;
          }
        }
      } catch {
        // The daemon went away under the stream.
      }
    };
    const first = follow(daemons.daemon.client, 1n, () => false);
    await waitFor(
      "the follower to see counts",
      () => countsIn(seen.map((e) => e.data).join("")).length >= 5,
    );
    await daemons.daemon.kill();
    await first;
    await delay(1000);
    const next = await daemons.start();
    const lastSeen = seen.at(-1)?.seq ?? 0n;
    const target = (countsIn(seen.map((e) => e.data).join("")).at(-1) ?? 0) + 20;
    await follow(
      next.client,
      lastSeen + 1n,
      () => (countsIn(seen.map((e) => e.data).join("")).at(-1) ?? 0) >= target,
    );
    const reached = countsIn(seen.map((entry) => entry.data).join("")).at(-1) ?? 0;
    assert.ok(reached >= target, `the follower of the next daemon got to count ${reached}`);
    const seqs = seen.map((entry) => Number(entry.seq));
    assert.deepEqual(
      seqs,
      Array.from({ length: seqs.length }, (_, index) => index + 1),
    );
    const counts = countsIn(seen.map((entry) => entry.data).join(""));
    assert.deepEqual(
      counts,
      Array.from({ length: counts.length }, (_, index) => index + 1),
    );
    await next.client.sessions.stopSession({ sessionId: session.id });
  });
});

/** A full-screen program: the alternate screen, a box, colours, and a count of keys pressed. */
const FULL_SCREEN = `
import curses
def main(screen):
    curses.start_color()
    curses.init_pair(1, curses.COLOR_YELLOW, curses.COLOR_BLUE)
    curses.curs_set(0)
    keys = 0
    while True:
        screen.erase()
        screen.border()
        screen.addstr(2, 4, "full screen", curses.color_pair(1) | curses.A_BOLD)
        screen.addstr(4, 4, "keys: %d" % keys, curses.A_UNDERLINE)
        for row in range(6, 18):
            screen.addstr(row, 4, ("row %02d " % row) * 6)
        screen.refresh()
        screen.getch()
        keys += 1
curses.wrapper(main)
`;

describe("a full-screen program across a daemon crash", () => {
  it("capture with escapes after reconnect equals capture before, with and without a checkpoint since the first draw", async () => {
    const daemons = fixture();
    await daemons.start();
    const session = await start(daemons, ["/usr/bin/python3", "-c", FULL_SCREEN], 100, 30);
    const capture = async (client: DaemonClient) =>
      (await client.sessions.captureScreen({ sessionId: session.id, escapes: true })).text;
    await waitFor("the program's screen", async () =>
      (await capture(daemons.daemon.client)).includes("keys: 0"),
    );
    // Within moments of the first draw: rebuilt from the blank checkpoint of the launch.
    const before = await capture(daemons.daemon.client);
    await daemons.daemon.kill();
    let next = await daemons.start();
    assert.equal(await capture(next.client), before, "the screen rebuilt from the whole run");

    // Later, a key pressed: the screen is checkpointed, and rebuilt from there.
    await delay(5500);
    await next.client.sessions.sendInput({
      sessionId: session.id,
      input: { case: "text", value: "x" },
    });
    await waitFor("the redraw", async () => (await capture(next.client)).includes("keys: 1"));
    const checkpoint = hostPaths(homePaths(daemons.home.path), session.id).screen;
    const saved = await waitFor("a checkpoint after the key", () => {
      const value = JSON.parse(readFileSync(checkpoint, "utf8")) as { seq: number; frame: string };
      return value.frame.includes("keys: 1") ? value : undefined;
    });
    assert.ok(saved.seq > 1);
    const later = await capture(next.client);
    await next.kill();
    next = await daemons.start();
    assert.equal(await capture(next.client), later, "the screen rebuilt from the checkpoint");
    assert.equal((await sessionOf(next.client, session.id)).pid, session.pid);
    await next.client.sessions.stopSession({ sessionId: session.id });
  });
});

describe("a daemon's life with hosts", () => {
  it("Shutdown, then a new daemon: RUNNING; a host killed: INTERRUPTED with a reason, and resume works", async () => {
    const daemons = fixture();
    await daemons.start();
    const session = await start(daemons, ["cat"]);
    await daemons.daemon.client.daemon.shutdown({});
    await daemons.daemon.exited;
    assert.ok(isRunning(session.pid), "the program outlived its daemon");
    const next = await daemons.start();
    const served = await sessionOf(next.client, session.id);
    assert.deepEqual([served.state, served.pid], [SessionState.RUNNING, session.pid]);

    process.kill(served.hostPid, "SIGKILL");
    const interrupted = await waitFor("the session to be INTERRUPTED", async () => {
      const current = await sessionOf(next.client, session.id);
      return current.state === SessionState.INTERRUPTED ? current : undefined;
    });
    assert.match(interrupted.failureReason, /its session host ended unexpectedly \(host pid \d+\)/);
    const events = readLog(session.logPath).records.filter((record) => record.kind === "event");
    assert.match(events.at(-1)?.data ?? "", /^interrupted: its session host ended unexpectedly/);

    const { session: resumed } = await next.client.sessions.resumeSession({
      sessionId: session.id,
    });
    assert.equal(resumed?.state, SessionState.RUNNING);
    assert.notEqual(resumed?.pid, session.pid);
    await next.client.sessions.sendInput({
      sessionId: session.id,
      input: { case: "text", value: "again\r" },
    });
    await waitFor("the resumed cat", () =>
      outputText(readLog(session.logPath).records).includes("again\r\nagain"),
    );
    assertContiguous(readLog(session.logPath).records);
    await next.client.sessions.stopSession({ sessionId: session.id });
  });

  it("a host alone for 30 s of output whose program then exits: the next daemon shows it EXITED with its code and the whole log", async () => {
    const daemons = fixture();
    await daemons.start();
    const session = await start(daemons, [
      "bash",
      "-c",
      "for i in $(seq 1 300); do echo line $i; sleep 0.1; done; exit 7",
    ]);
    await daemons.daemon.kill();
    await waitFor("the program to end, with no daemon", () => !isRunning(session.pid), 60_000, 250);
    const exitRecord = hostPaths(homePaths(daemons.home.path), session.id).exit;
    await waitFor("the host to record the exit", () => existsSync(exitRecord));
    const next = await daemons.start();
    const ended = await sessionOf(next.client, session.id);
    assert.equal(ended.state, SessionState.EXITED);
    assert.equal(ended.exitCode, 7);
    const { records } = readLog(session.logPath);
    assertContiguous(records);
    const lines = [...outputText(records).matchAll(/line (\d+)\r\n/g)].map((match) =>
      Number(match[1]),
    );
    assert.deepEqual(
      lines,
      Array.from({ length: 300 }, (_, index) => index + 1),
    );
    assert.equal(records.at(-1)?.data, "exited (exit code 7)");
    assert.equal(existsSync(exitRecord), false, "the exit record is gone once the state holds it");
  });

  it("the run directory and the host's files are private; a run directory open to others is refused", async () => {
    const daemons = fixture();
    await daemons.start();
    const session = await start(daemons, ["cat"]);
    const paths = homePaths(daemons.home.path);
    const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);
    assert.equal(mode(paths.run), "700");
    assert.equal(mode(paths.hostKey), "600");
    assert.equal(mode(hostPaths(paths, session.id).socket), "600");
    await daemons.daemon.kill();
    chmodSync(paths.run, 0o755);
    const refused = daemons.spawn();
    assert.equal(await refused.exited, 1);
    assert.match(
      refused.output(),
      /run is accessible to other users \(mode 0755\); fix it with: chmod 700 /,
    );
    chmodSync(paths.run, 0o700);
    const next = await daemons.start();
    assert.equal((await sessionOf(next.client, session.id)).state, SessionState.RUNNING);
    await next.client.sessions.stopSession({ sessionId: session.id });
  });

  it("a host no record names (its daemon died before saving the session) is ended by the next daemon", async () => {
    const daemons = fixture();
    await daemons.start();
    const session = await start(daemons, ["cat"]);
    const paths = homePaths(daemons.home.path);
    await daemons.daemon.kill();
    // As if the daemon had died before its state file held the session.
    writeFileSync(paths.state, JSON.stringify({ version: 1, sessions: [] }), { mode: 0o600 });
    const next = await daemons.start();
    await waitFor(
      "the unknown host and its program to end",
      () => !isRunning(session.hostPid) && !isRunning(session.pid),
    );
    assert.match(next.output(), new RegExp(`no session record names ${session.id}`));
    assert.equal(existsSync(hostPaths(paths, session.id).socket), false);
    assert.deepEqual((await next.client.sessions.listSessions({})).sessions, []);
  });

  it("a host serves only a daemon with the home's key", async () => {
    const daemons = fixture();
    await daemons.start();
    const session = await start(daemons, ["cat"]);
    const socket = hostPaths(homePaths(daemons.home.path), session.id).socket;
    const answer = await helloWith(socket, {
      protocolVersion: 1,
      minProtocolVersion: 1,
      daemonVersion: "9.9.9",
      key: Buffer.alloc(32, 7),
    });
    assert.equal(answer.kind, "refused");
    assert.match(answer.kind === "refused" ? answer.reason : "", /key is not this home's/);
    // The daemon's own connection is untouched.
    await daemons.daemon.client.sessions.sendInput({
      sessionId: session.id,
      input: { case: "text", value: "still\r" },
    });
    await waitFor("cat to answer", () =>
      outputText(readLog(session.logPath).records).includes("still\r\nstill"),
    );
    await daemons.daemon.client.sessions.stopSession({ sessionId: session.id });
  });
});

/** Sends a Hello to a host's socket; resolves with its first answer. */
function helloWith(path: string, hello: Hello): Promise<HostMessage> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    const frames = new FrameReader();
    socket.on("error", reject);
    socket.on("data", (chunk: Buffer) => {
      const [frame] = frames.push(chunk);
      if (frame === undefined) return;
      socket.destroy();
      resolve(decodeHostMessage(frame));
    });
    socket.write(encodeDaemonMessage({ kind: "hello", hello }));
  });
}

/**
 * A host of another version, played by the test: it answers Hello with `welcome` (or nothing
 * more), records what it is sent, and serves `run/<id>.sock` for a record in state.json.
 */
async function fakeHost(
  daemons: DaemonFixture,
  id: string,
  pid: number,
  protocolVersion: number,
): Promise<{ server: Server; hellos: Hello[]; sockets: Socket[] }> {
  const paths = homePaths(daemons.home.path);
  const { mkdirSync } = await import("node:fs");
  mkdirSync(paths.run, { recursive: true, mode: 0o700 });
  mkdirSync(paths.logs, { recursive: true, mode: 0o700 });
  writeFileSync(
    paths.state,
    JSON.stringify({
      version: 1,
      sessions: [
        {
          id,
          name: "",
          workingDir: daemons.work.path,
          command: ["sleep", "1000"],
          state: "running",
          pid,
          createdAt: new Date().toISOString(),
          cols: 80,
          rows: 24,
          claudeCode: false,
        },
      ],
    }),
    { mode: 0o600 },
  );
  writeFileSync(
    join(paths.logs, `${id}.jsonl`),
    `${JSON.stringify({ seq: 1, time: new Date().toISOString(), kind: "event", data: "started: sleep 1000" })}\n`,
    { mode: 0o600 },
  );
  const hellos: Hello[] = [];
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    const frames = new FrameReader();
    socket.on("error", () => undefined);
    socket.on("data", (chunk: Buffer) => {
      for (const frame of frames.push(chunk)) {
        const message = decodeDaemonMessage(frame);
        if (message.kind !== "hello") continue;
        hellos.push(message.hello);
        // An older host: only the fields its version had.
        socket.write(
          encodeHostMessage({
            kind: "welcome",
            welcome: {
              protocolVersion,
              hostVersion: protocolVersion === 1 ? "0.0.9" : "9.0.0",
              firstKeptSeq: 0,
              hostPid: process.pid,
              pid,
              cols: 80,
              rows: 24,
              lastSeq: 1,
              writtenSeq: 1,
              exit: undefined,
              inputTaken: 0,
              startedAt: "",
              activity: undefined,
            },
          }),
        );
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(hostPaths(paths, id).socket, resolve));
  return { server, hellos, sockets };
}

describe("the host protocol's versions", () => {
  it("a daemon drives a host of an older build that speaks a protocol it supports", async () => {
    const daemons = fixture();
    const id = "3f7a2c10-0000-4000-8000-000000000001";
    const { server, hellos, sockets } = await fakeHost(daemons, id, process.pid, 1);
    try {
      const daemon = await daemons.start();
      const served = await sessionOf(daemon.client, id);
      assert.deepEqual([served.state, served.pid], [SessionState.RUNNING, process.pid]);
      // A protocol 1 host reports no activity: the daemon says it does not know.
      assert.equal(served.activity, Activity.UNKNOWN);
      assert.equal(hellos.length, 1);
      // The daemon offers its range; this host speaks the oldest version in it.
      assert.deepEqual(
        [hellos[0]?.minProtocolVersion, hellos[0]?.protocolVersion],
        [MIN_HOST_PROTOCOL_VERSION, HOST_PROTOCOL_VERSION],
      );
      assert.equal(hellos[0]?.key.length, 32);
      // Input reaches it as protocol 1 Input messages.
      const got: string[] = [];
      for (const socket of sockets)
        socket.on("data", (chunk: Buffer) => got.push(chunk.toString("latin1")));
      await daemon.client.sessions.sendInput({
        sessionId: id,
        input: { case: "text", value: "typed" },
      });
      await waitFor("the input at the old host", () => got.join("").includes("typed"));
    } finally {
      for (const socket of sockets) socket.destroy();
      server.close();
    }
  });

  it("a daemon refuses a host that speaks a protocol it does not, naming both versions", async () => {
    const daemons = fixture();
    const id = "3f7a2c10-0000-4000-8000-000000000002";
    const { server, sockets } = await fakeHost(daemons, id, process.pid, 99);
    try {
      const daemon = await daemons.start();
      const refused = await sessionOf(daemon.client, id);
      assert.equal(refused.state, SessionState.INTERRUPTED);
      assert.match(
        refused.failureReason,
        new RegExp(
          `claude-sessions 9\\.0\\.0 and speaks protocol 99; this daemon \\(claude-sessions [\\d.]+\\) speaks ${MIN_HOST_PROTOCOL_VERSION}-${HOST_PROTOCOL_VERSION}`,
        ),
      );
      assert.match(daemon.output(), /speaks protocol 99/);
      // Its program is left alone: this daemon cannot drive it, and says how to end it.
      assert.match(refused.failureReason, /its host is pid \d+/);
    } finally {
      for (const socket of sockets) socket.destroy();
      server.close();
    }
  });
});
