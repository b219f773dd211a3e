/**
 * What a request may weigh: StartSession and ResumeSession refuse, with INVALID_ARGUMENT, what
 * is past Linux's execve limits or the name and path lengths, and keep nothing of it;
 * ListSessions answers a page at a time, each under gRPC's default 4 MiB, however big the
 * sessions; a session's environment is never written to disk (resume takes the client's); and
 * attaching, detaching or resizing does not rewrite state.json.
 */
import assert from "node:assert/strict";
import { readFileSync, statSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { create, fromBinary, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { homePaths, socketAddress } from "../../daemon/common/paths.js";
import { methodPath } from "../../daemon/rpc/service-binding.js";
import { type Session, SessionState } from "../../gen/claude_sessions/v1/session_pb.js";
import {
  ListSessionsRequestSchema,
  type ListSessionsResponse,
  ListSessionsResponseSchema,
  SessionService,
} from "../../gen/claude_sessions/v1/session_service_pb.js";
import { runCli } from "../helpers/cli.js";
import { DaemonFixture, type DaemonHandle } from "../helpers/daemon-fixture.js";
import { outputText, readLog } from "../helpers/log-reader.js";
import { expectStatus } from "../helpers/rpc.js";
import type { TempHome } from "../helpers/temp-home.js";
import { attachTerminalClient } from "../helpers/terminal-client.js";
import { waitFor } from "../helpers/wait.js";

/** gRPC's default limit on a message a client takes (grpcurl, Python, grpc-js). */
const DEFAULT_MAX_MESSAGE = 4 * 1024 * 1024;
const KiB = 1024;

/**
 * state.json as last written. Until writes keep it in place, it may be missing for a moment
 * while one replaces it (an exit is written after GetSession can see it).
 */
function readState(home: string): Promise<string> {
  return waitFor("state.json", () => readFileSync(homePaths(home).state, "utf8"));
}

/** A ListSessions through a channel with gRPC's default limits, as grpcurl or Python calls it. */
function listWithDefaults(
  channel: grpc.Client,
  request: MessageInitShape<typeof ListSessionsRequestSchema>,
): Promise<{ code: grpc.status; details: string; bytes: number; response?: ListSessionsResponse }> {
  return new Promise((resolve) => {
    channel.makeUnaryRequest(
      methodPath(SessionService.method.listSessions),
      (value: Buffer) => value,
      (value: Buffer) => value,
      Buffer.from(toBinary(ListSessionsRequestSchema, create(ListSessionsRequestSchema, request))),
      new grpc.Metadata(),
      { deadline: Date.now() + 10_000 },
      (error, bytes) =>
        resolve(
          error || bytes === undefined
            ? { code: error?.code ?? grpc.status.UNKNOWN, details: error?.details ?? "", bytes: 0 }
            : {
                code: grpc.status.OK,
                details: "",
                bytes: bytes.length,
                response: fromBinary(ListSessionsResponseSchema, bytes),
              },
        ),
    );
  });
}

describe("request limits", () => {
  const fixture = new DaemonFixture();
  let daemon: DaemonHandle;
  let work: TempHome;
  let channel: grpc.Client;
  let env: Record<string, string>;
  const made: string[] = [];

  before(async () => {
    daemon = await fixture.start({ env: { DAEMON_ONLY: "in-its-environment" } });
    work = fixture.work;
    channel = new grpc.Client(socketAddress(daemon.socket), grpc.credentials.createInsecure());
    env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: work.path, LANG: "C.UTF-8" };
  });

  after(async () => {
    channel?.close();
    await fixture.cleanup();
  });

  async function start(command: string[], extra: { name?: string } = {}): Promise<Session> {
    const { session } = await daemon.client.sessions.startSession({
      workingDir: work.path,
      command,
      env,
      ...extra,
    });
    assert.ok(session);
    made.push(session.id);
    return session;
  }

  function ended(id: string): Promise<Session> {
    return waitFor(`session ${id} to end`, async () => {
      const { session } = await daemon.client.sessions.getSession({ sessionId: id });
      return session !== undefined && session.pid === 0 ? session : undefined;
    });
  }

  it("past the limits StartSession and ResumeSession are INVALID_ARGUMENT naming the limit and the size, and keep nothing", async () => {
    const { sessions } = daemon.client;
    const finished = await ended((await start(["true"])).id);
    const before = (await sessions.listSessions({})).sessions.length;
    const manyVariables: Record<string, string> = { ...env };
    for (let i = 0; i < 100_000; i++) manyVariables[`MANY_${i}`] = `value-${i}`;
    const bigVariables: Record<string, string> = { ...env };
    for (let i = 0; i < 20; i++) bigVariables[`BIG_${i}`] = "v".repeat(110 * KiB);
    const startWith = (init: Parameters<typeof sessions.startSession>[0]) =>
      sessions.startSession({ workingDir: work.path, command: ["true"], env, ...init });
    const cases: Array<[string, () => Promise<unknown>, RegExp]> = [
      [
        "a 200 KiB argument",
        () => startWith({ command: ["echo", "A".repeat(200 * KiB)] }),
        /command argument 1 is 204800 bytes; the limit is 131071 bytes/,
      ],
      [
        "20 arguments of 110 KiB",
        () => startWith({ command: ["true", ...Array(20).fill("B".repeat(110 * KiB))] }),
        /command and environment take \d+ bytes .*the limit is 2097152 bytes/,
      ],
      [
        "a 5,001-byte program path",
        () => startWith({ command: [`/${"p".repeat(5000)}`] }),
        /command\[0\] \(the program\) is 5001 bytes; the limit is 4096 bytes/,
      ],
      [
        "100,000 environment variables",
        () => startWith({ env: manyVariables }),
        /the environment has 100003 variables; the limit is 16384/,
      ],
      [
        "a 200 KiB environment variable",
        () => startWith({ env: { ...env, HUGE: "h".repeat(200 * KiB) } }),
        /environment variable HUGE is 204805 bytes as HUGE=value; the limit is 131071 bytes/,
      ],
      [
        "20 environment variables of 110 KiB",
        () => startWith({ env: bigVariables }),
        /command and environment take \d+ bytes .*the limit is 2097152 bytes/,
      ],
      [
        "a 129-byte name",
        () => startWith({ name: "n".repeat(129) }),
        /name is 129 bytes; the limit is 128 bytes/,
      ],
      [
        "a name of 65 two-byte characters",
        () => startWith({ name: "é".repeat(65) }),
        /name is 130 bytes; the limit is 128 bytes/,
      ],
      [
        "a 5,001-byte working directory",
        () => startWith({ workingDir: `/${"d".repeat(5000)}` }),
        /working_dir is 5001 bytes; the limit is 4096 bytes/,
      ],
      [
        "resuming with 100,000 environment variables",
        () => sessions.resumeSession({ sessionId: finished.id, env: manyVariables }),
        /the environment has 100003 variables; the limit is 16384/,
      ],
    ];
    const failures: string[] = [];
    for (const [name, call, message] of cases) {
      try {
        const error = await expectStatus(call(), grpc.status.INVALID_ARGUMENT);
        assert.match(error.details, message);
        assert.ok(error.details.length < 500, `a short message: ${error.details.length} chars`);
      } catch (error) {
        failures.push(`${name}: ${(error as Error).message.slice(0, 300)}`);
      }
    }
    assert.deepEqual(failures, []);
    assert.equal((await sessions.listSessions({})).sessions.length, before, "no session was made");
    assert.equal(
      (await sessions.getSession({ sessionId: finished.id })).session?.state,
      SessionState.EXITED,
    );
    // Nothing of the refused requests was written anywhere.
    const state = await readState(daemon.home);
    for (const kept of [
      "A".repeat(1000),
      "B".repeat(1000),
      "ppppp",
      "MANY_",
      "HUGE",
      "nnnnn",
      "ééééé",
      "ddddd",
    ])
      assert.ok(!state.includes(kept), `state.json holds ${kept.slice(0, 10)}`);
    assert.ok(daemon.output().length < 64 * KiB, `daemon log: ${daemon.output().length} chars`);

    // Just within the limits runs (a 128 KiB argument, 64 two-byte characters of name).
    const within = await ended(
      (await start(["true", "A".repeat(128 * KiB - 1)], { name: "é".repeat(64) })).id,
    );
    assert.equal(within.state, SessionState.EXITED);
    assert.equal(within.exitCode, 0);
  });

  it("ListSessions answers a page at a time, each under 4 MiB, however big the sessions", async () => {
    // Three sessions of nearly 2 MiB of arguments each: within the limits, 5.7 MiB together.
    const big = Array(15).fill("L".repeat(127 * KiB));
    const started: string[] = [];
    for (let i = 0; i < 3; i++) started.push((await start(["true", ...big])).id);
    for (const id of started) await ended(id);

    const seen: string[] = [];
    let token = "";
    let pages = 0;
    do {
      const page = await listWithDefaults(channel, { pageToken: token });
      assert.equal(grpc.status[page.code], "OK", page.details);
      assert.ok(page.bytes < DEFAULT_MAX_MESSAGE, `a page of ${page.bytes} bytes`);
      for (const session of page.response?.sessions ?? []) seen.push(session.id);
      token = page.response?.nextPageToken ?? "";
      pages += 1;
    } while (token !== "" && pages < 100);
    assert.equal(token, "", "the pages end");
    assert.equal(new Set(seen).size, seen.length, "no session twice");
    assert.deepEqual(
      seen.filter((id) => started.includes(id)),
      started,
      "every big session, oldest first",
    );
    assert.deepEqual(seen, made, "every session, in the order started");

    // page_size bounds a page; the pages of one cover the same sessions.
    const single: string[] = [];
    token = "";
    do {
      const page = await listWithDefaults(channel, { pageSize: 1, pageToken: token });
      assert.equal(grpc.status[page.code], "OK", page.details);
      assert.equal(page.response?.sessions.length, 1);
      single.push(...(page.response?.sessions ?? []).map((session) => session.id));
      token = page.response?.nextPageToken ?? "";
    } while (token !== "" && single.length < 100);
    assert.deepEqual(single, seen);

    const badToken = await listWithDefaults(channel, { pageToken: "not-a-token" });
    assert.equal(grpc.status[badToken.code], "INVALID_ARGUMENT");
    assert.match(badToken.details, /page_token/);
    const negative = await listWithDefaults(channel, { pageSize: -1 });
    assert.equal(grpc.status[negative.code], "INVALID_ARGUMENT");
    assert.match(negative.details, /page_size/);

    // The CLI's list follows the pages.
    const listed = await runCli(["list", "--all", "--json"], { home: daemon.home });
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(
      (JSON.parse(listed.stdout) as Array<{ id: string }>).map((session) => session.id),
      seen,
    );
  });

  it("a session's environment is never written to disk; resume takes the client's, else the daemon's", async () => {
    const secret = `s3cret-${process.pid}-${Date.now()}`;
    const { session } = await daemon.client.sessions.startSession({
      workingDir: work.path,
      command: [
        "bash",
        "-c",
        'echo "token=$SECRET_TOKEN resumed=$RESUMED daemon=$DAEMON_ONLY. home=$CLAUDE_SESSIONS_HOME."; exec cat',
      ],
      env: { ...env, SECRET_TOKEN: secret },
    });
    assert.ok(session);
    made.push(session.id);
    const output = () => outputText(readLog(session.logPath).records);
    await waitFor("the program to see its environment", () =>
      output().includes(`token=${secret} resumed= daemon=.`),
    );
    // The daemon adds its home, so that the CLI inside the session reaches it.
    assert.ok(output().includes(`home=${daemon.home}.`), output());
    assert.ok(!(await readState(daemon.home)).includes(secret), "not in state.json (running)");
    await daemon.client.sessions.stopSession({ sessionId: session.id, gracePeriod: {} });
    assert.ok(!(await readState(daemon.home)).includes(secret), "not in state.json (ended)");

    // The CLI's resume sends the environment it runs in.
    const resumed = await runCli(["resume", session.id], {
      home: daemon.home,
      env: { RESUMED: "by-cli" },
    });
    assert.equal(resumed.code, 0, resumed.stderr);
    await waitFor("the resumed program to see the CLI's environment", () =>
      output().includes("token= resumed=by-cli daemon=."),
    );
    await daemon.client.sessions.stopSession({ sessionId: session.id, gracePeriod: {} });

    // Without one (grpcurl, daemon --resume), the daemon's own.
    await daemon.client.sessions.resumeSession({ sessionId: session.id });
    await waitFor("the resumed program to see the daemon's environment", () =>
      output().includes("token= resumed= daemon=in-its-environment."),
    );
    await daemon.client.sessions.stopSession({ sessionId: session.id, gracePeriod: {} });
    assert.ok(!(await readState(daemon.home)).includes("by-cli"), "not in state.json");
  });

  it("attaching, detaching and resizing do not rewrite state.json, in ten cycles; the size is kept with the next write", async () => {
    const paths = homePaths(daemon.home);
    // Its reply comes once every change made so far is written: state.json is settled.
    const cat = await start(["cat"]);
    const before = statSync(paths.state, { bigint: true });
    for (let cycle = 0; cycle < 10; cycle++) {
      const terminal = attachTerminalClient(daemon.client, cat.id, { cols: 90, rows: 30 });
      await waitFor("the first screen", () => terminal.screens > 0);
      terminal.resize(100, 33 + cycle);
      await waitFor("the resize", async () => {
        const { session } = await daemon.client.sessions.getSession({ sessionId: cat.id });
        return session?.rows === 33 + cycle && session.attachedClients === 1;
      });
      terminal.detach();
      await terminal.exited;
      await waitFor("the detach", async () => {
        const { session } = await daemon.client.sessions.getSession({ sessionId: cat.id });
        return session?.attachedClients === 0;
      });
    }
    const after = statSync(paths.state, { bigint: true });
    assert.deepEqual(
      [after.ino, after.mtimeNs],
      [before.ino, before.mtimeNs],
      "state.json was rewritten by ten attach/detach cycles",
    );
    // A change that is written (a program that keeps running, so that no exit follows): the copy
    // it replaces must be the one from before the attach.
    const next = await start(["cat"]);
    const replaced = statSync(`${paths.state}.bak`, { bigint: true });
    assert.deepEqual(
      [replaced.ino, replaced.mtimeNs],
      [before.ino, before.mtimeNs],
      "state.json was rewritten between the start of cat and the next start",
    );
    const saved = JSON.parse(readFileSync(paths.state, "utf8")) as {
      sessions: Array<{ id: string; cols: number; rows: number }>;
    };
    const record = saved.sessions.find((entry) => entry.id === cat.id);
    assert.deepEqual([record?.cols, record?.rows], [100, 42], "the size went with the next write");
    for (const id of [cat.id, next.id])
      await daemon.client.sessions.stopSession({ sessionId: id, gracePeriod: {} });
  });
});
