/** AttachTerminal, SendInput and CaptureScreen against real programs in real PTYs. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { SessionState } from "../../gen/claude_sessions/v1/session_pb.js";
import type { AttachTerminalResponse } from "../../gen/claude_sessions/v1/session_service_pb.js";
import { useDaemon } from "../helpers/daemon-fixture.js";
import { attachTerminalClient } from "../helpers/terminal-client.js";
import { waitFor, waitForState } from "../helpers/wait.js";

const fullscreenFixture = fileURLToPath(
  new URL("../../../test/fixtures/fullscreen.py", import.meta.url),
);

describe("interactive attach, input and capture", () => {
  const fixture = useDaemon();

  const bash = async (name: string) => {
    const { session } = await fixture.daemon.client.sessions.startSession({
      workingDir: fixture.work.path,
      command: ["bash", "--norc", "--noprofile", "-i"],
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", PS1: "$ ", HOME: fixture.work.path },
      name,
    });
    assert.ok(session);
    return session;
  };

  it("two attached clients both receive the same output; a read-only client's keys never reach the program", async () => {
    const session = await bash("pair");
    const writer = attachTerminalClient(fixture.daemon.client, session.id);
    const watcher = attachTerminalClient(fixture.daemon.client, session.id, { readOnly: true });
    await writer.waitForText("$ ");
    await watcher.waitForText("$ ");
    watcher.type("echo from-the-watcher\r");
    writer.type("echo from-the-$((6*7))-writer\r");
    await writer.waitForText("from-the-42-writer");
    await watcher.waitForText("from-the-42-writer");
    const capture = await fixture.daemon.client.sessions.captureScreen({ sessionId: session.id });
    assert.match(capture.text, /from-the-42-writer/);
    assert.doesNotMatch(capture.text, /from-the-watcher/);
    assert.doesNotMatch(writer.text(), /from-the-watcher/);
    const shown = await fixture.daemon.client.sessions.getSession({ sessionId: session.id });
    assert.equal(shown.session?.attachedClients, 2);
    writer.detach();
    watcher.detach();
    await Promise.all([writer.exited, watcher.exited]);
    await waitFor(
      "attachments to go",
      async () =>
        (await fixture.daemon.client.sessions.getSession({ sessionId: session.id })).session
          ?.attachedClients === 0,
    );
    await fixture.daemon.client.sessions.stopSession({
      sessionId: session.id,
      gracePeriod: { seconds: 1n },
    });
  });

  it("the latest interactive client's size wins; a read-only client's size is ignored", async () => {
    const session = await bash("sizes");
    const first = attachTerminalClient(fixture.daemon.client, session.id, { cols: 90, rows: 20 });
    await first.waitForText("$ ");
    const viewer = attachTerminalClient(fixture.daemon.client, session.id, {
      readOnly: true,
      cols: 40,
      rows: 10,
    });
    await viewer.waitForText("$ ");
    let current = (await fixture.daemon.client.sessions.getSession({ sessionId: session.id }))
      .session;
    assert.deepEqual([current?.cols, current?.rows], [90, 20]);
    first.resize(100, 25);
    await waitFor(
      "the resize",
      async () =>
        (await fixture.daemon.client.sessions.getSession({ sessionId: session.id })).session
          ?.cols === 100,
    );
    first.type("stty size\r");
    await first.waitForText("25 100");
    current = (await fixture.daemon.client.sessions.getSession({ sessionId: session.id })).session;
    assert.deepEqual([current?.cols, current?.rows], [100, 25]);
    first.detach();
    viewer.detach();
    await fixture.daemon.client.sessions.stopSession({
      sessionId: session.id,
      gracePeriod: { seconds: 1n },
    });
  });

  it("capture shows a full-screen program's visible text, and attach starts from that screen", async () => {
    const { session } = await fixture.daemon.client.sessions.startSession({
      workingDir: fixture.work.path,
      command: ["/usr/bin/python3", fullscreenFixture],
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: fixture.work.path },
      cols: 80,
      rows: 24,
    });
    assert.ok(session);
    const capture = await waitFor("the fixture's screen", async () => {
      const screen = await fixture.daemon.client.sessions.captureScreen({ sessionId: session.id });
      // The status line is drawn last; a capture can land between the PTY reads of one redraw.
      return screen.text.includes("FULLSCREEN-FIXTURE") && /size \d+x\d+/.test(screen.text)
        ? screen
        : undefined;
    });
    const lines = capture.text.split("\n");
    assert.equal(lines[3]?.indexOf("| FULLSCREEN-FIXTURE"), 4);
    assert.equal(lines[23], "size 80x24");
    const withEscapes = await fixture.daemon.client.sessions.captureScreen({
      sessionId: session.id,
      escapes: true,
    });
    assert.match(withEscapes.text, /FULLSCREEN-FIXTURE/);

    // A late attacher gets the screen itself (alternate screen and all), not a replay of the log.
    const viewer = attachTerminalClient(fixture.daemon.client, session.id, { readOnly: true });
    await viewer.waitForText("FULLSCREEN-FIXTURE");
    assert.equal(viewer.screens, 1);
    assert.match(viewer.text(), /\x1b\[\?1049h/);
    viewer.detach();

    await fixture.daemon.client.sessions.sendInput({
      sessionId: session.id,
      input: { case: "text", value: "q" },
    });
    await waitForState(fixture.daemon.client, session.id, SessionState.EXITED);
  });

  it("SendInput with --enter semantics runs a command in bash; input to an ended session is FAILED_PRECONDITION", async () => {
    const session = await bash("sender");
    await fixture.daemon.client.sessions.sendInput({
      sessionId: "sender",
      input: { case: "text", value: "echo sent-$((1+1))\r" },
    });
    await waitFor("the command's output", async () =>
      (await fixture.daemon.client.sessions.captureScreen({ sessionId: session.id })).text.includes(
        "sent-2",
      ),
    );
    await fixture.daemon.client.sessions.sendInput({
      sessionId: "sender",
      input: { case: "text", value: "exit 4\r" },
    });
    const ended = await waitForState(fixture.daemon.client, session.id, SessionState.EXITED);
    assert.equal(ended.exitCode, 4);
    await assert.rejects(
      fixture.daemon.client.sessions.sendInput({
        sessionId: "sender",
        input: { case: "text", value: "x" },
      }),
      (error: grpc.ServiceError) =>
        error.code === grpc.status.FAILED_PRECONDITION && /is exited/.test(error.details),
    );
  });

  it("an attached client receives the exit status when the session ends", async () => {
    const session = await bash("ender");
    const client = attachTerminalClient(fixture.daemon.client, session.id);
    await client.waitForText("$ ");
    client.type("exit 9\r");
    const exit = await client.exited;
    assert.equal(exit?.message.case, "exit");
    const final = exit?.message.case === "exit" ? exit.message.value.session : undefined;
    assert.equal(final?.state, SessionState.EXITED);
    assert.equal(final?.exitCode, 9);
  });

  it("attaching to an ended session gets its final screen and its exit; the first message must be a start", async () => {
    const { session } = await fixture.daemon.client.sessions.startSession({
      workingDir: fixture.work.path,
      command: ["true"],
    });
    assert.ok(session);
    await waitForState(fixture.daemon.client, session.id, SessionState.EXITED);
    const call = fixture.daemon.client.sessions.attachTerminal();
    const kinds: string[] = [];
    call.on("data", (response: AttachTerminalResponse) => kinds.push(response.message.case ?? ""));
    const ended = new Promise<void>((resolve, reject) => {
      call.on("end", resolve);
      call.on("error", reject);
    });
    call.write({ message: { case: "start", value: { sessionId: session.id } } });
    await ended;
    assert.deepEqual(kinds, ["screen", "exit"]);

    const bad = fixture.daemon.client.sessions.attachTerminal();
    const badFailure = new Promise<grpc.ServiceError>((resolve) => bad.on("error", resolve));
    bad.on("data", () => undefined);
    bad.write({ message: { case: "input", value: Buffer.from("x") } });
    assert.equal((await badFailure).code, grpc.status.INVALID_ARGUMENT);
  });
});
