/**
 * Input to a program that is not reading: the daemon holds a bounded amount for it, refuses a
 * SendInput past that with RESOURCE_EXHAUSTED, stops reading a terminal's stream until the
 * program reads, and delivers everything it accepted, in order, once it does.
 *
 * The program puts its terminal in raw mode (so the kernel passes every byte as it is), stops
 * itself with SIGSTOP (it reads nothing), and once the test continues it, copies exactly the
 * number of bytes named in a file to another file.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { status } from "@grpc/grpc-js";
import type { DaemonClient } from "../../cli/client.js";
import { SessionState } from "../../gen/claude_sessions/v1/session_pb.js";
import { useDaemon } from "../helpers/daemon-fixture.js";
import { outputText, readLog } from "../helpers/log-reader.js";
import { cpuTicks, procInfo } from "../helpers/proc.js";
import { expectStatus } from "../helpers/rpc.js";
import { attachTerminalClient } from "../helpers/terminal-client.js";
import { waitFor, waitForState } from "../helpers/wait.js";

/** What a session holds for a program that is not reading (README, "How it works"). */
const PENDING_LIMIT = 1024 * 1024;
/** A pseudo-terminal's own input buffer is far smaller (about 15 KiB on Linux). */
const KERNEL_BUFFER = 64 * 1024;
const CHUNK = 64 * 1024;

const PROGRAM = `stty raw -echo; echo ready; kill -STOP $$; head -c "$(cat "$1")" > "$2"; echo got-all`;

/** Chunk `index`: printable bytes that say which chunk they are, so a reordering shows. */
function chunk(index: number): Buffer {
  return Buffer.from(`[chunk ${index}]`.padEnd(CHUNK, String.fromCharCode(97 + (index % 26))));
}

describe("input a program does not read", () => {
  const fixture = useDaemon();

  /** Starts the program, which reads `total` bytes once continued; resolves when it stopped. */
  async function startStopped(name: string) {
    const { client } = fixture.daemon;
    const total = join(fixture.work.path, `${name}.total`);
    const received = join(fixture.work.path, `${name}.received`);
    const { session } = await client.sessions.startSession({
      workingDir: fixture.work.path,
      command: ["bash", "-c", PROGRAM, name, total, received],
      env: fixture.env,
    });
    assert.ok(session);
    await waitFor("the program to stop itself", () =>
      outputText(readLog(session.logPath).records).includes("ready")
        ? procInfo(session.pid)?.state === "T"
        : false,
    );
    return { session, total, received };
  }

  function send(client: DaemonClient, sessionId: string, data: Buffer) {
    return client.sessions.sendInput({ sessionId, input: { case: "data", value: data } });
  }

  /** Waits until the session refuses input; an empty SendInput asks without adding any. */
  function untilFull(client: DaemonClient, sessionId: string) {
    return waitFor("the session to refuse input", () =>
      send(client, sessionId, Buffer.alloc(0)).then(
        () => false,
        (error: { code?: number }) => error.code === status.RESOURCE_EXHAUSTED,
      ),
    );
  }

  it("SendInput is refused past the limit, the daemon waits without spinning, and input is taken again once the program reads", async () => {
    const { client } = fixture.daemon;
    const { session, total, received } = await startStopped("unary");
    const accepted: Buffer[] = [];
    let refusal: unknown;
    // Four times the limit: every call is taken when nothing bounds the input.
    for (let index = 0; index < (4 * PENDING_LIMIT) / CHUNK && refusal === undefined; index++) {
      const data = chunk(index);
      try {
        const { bytesWritten } = await send(client, session.id, data);
        assert.equal(bytesWritten, data.length);
        accepted.push(data);
      } catch (error) {
        refusal = error;
      }
    }
    const taken = accepted.reduce((sum, data) => sum + data.length, 0);
    assert.ok(refusal !== undefined, `all ${taken} bytes were taken by a program that reads none`);
    const failure = await expectStatus(Promise.reject(refusal), status.RESOURCE_EXHAUSTED);
    assert.match(failure.details, /is not reading its input: \d+ bytes are waiting/);
    assert.ok(taken >= PENDING_LIMIT, `${taken} bytes taken before the first refusal`);
    assert.ok(
      taken < PENDING_LIMIT + CHUNK + KERNEL_BUFFER,
      `${taken} bytes taken: the limit, one request and what the terminal holds`,
    );

    // With input waiting, the daemon waits for the program: it does not retry in a loop. A
    // core spinning for a second is about 100 ticks.
    const before = cpuTicks(fixture.daemon.pid);
    await delay(1000);
    const ticks = cpuTicks(fixture.daemon.pid) - before;
    assert.ok(ticks < 20, `the daemon used ${ticks} ticks of CPU in one second`);

    // Once the program reads, input is taken again; nothing taken was lost or reordered.
    const last = chunk(999);
    writeFileSync(total, String(taken + last.length));
    process.kill(session.pid, "SIGCONT");
    await waitFor("input to be taken again", async () => {
      await send(client, session.id, last);
      return true;
    });
    const ended = await waitForState(client, session.id, SessionState.EXITED);
    assert.equal(ended.exitCode, 0);
    assert.ok(
      readFileSync(received).equals(Buffer.concat([...accepted, last])),
      "the program read every byte taken, in order",
    );
  });

  it("a terminal's input past the limit stops its stream until the program reads; no keystroke is dropped", async () => {
    const { client } = fixture.daemon;
    const { session, total, received } = await startStopped("stream");
    const sent = Array.from({ length: (3 * PENDING_LIMIT) / CHUNK }, (_, index) => chunk(index));
    const all = Buffer.concat(sent);
    writeFileSync(total, String(all.length));
    const terminal = attachTerminalClient(client, session.id);
    for (const data of sent) terminal.type(data.toString("latin1"));
    terminal.resize(100, 30);

    await untilFull(client, session.id);
    // The resize follows the input on the stream: the daemon has not read that far.
    const { session: held } = await client.sessions.getSession({ sessionId: session.id });
    assert.equal(held?.cols, session.cols, "the stream stopped before the resize");

    process.kill(session.pid, "SIGCONT");
    const ended = await waitForState(client, session.id, SessionState.EXITED);
    assert.equal(ended.exitCode, 0);
    assert.ok(readFileSync(received).equals(all), "the program read every keystroke, in order");
    assert.equal((await terminal.exited)?.message.case, "exit");
  });

  it("a session stopped with input waiting ends its held-back terminal and refuses more input", async () => {
    const { client } = fixture.daemon;
    const { session } = await startStopped("stopped");
    const terminal = attachTerminalClient(client, session.id);
    for (let index = 0; index < (2 * PENDING_LIMIT) / CHUNK; index++)
      terminal.type(chunk(index).toString("latin1"));
    await untilFull(client, session.id);
    await client.sessions.stopSession({ sessionId: session.id, gracePeriod: { seconds: 0n } });
    assert.equal((await terminal.exited)?.message.case, "exit", "the terminal was told it ended");
    await expectStatus(send(client, session.id, chunk(0)), status.FAILED_PRECONDITION);
  });
});
