/**
 * Bad input over the real socket: each case gets the gRPC status a client can act on, with a
 * one-line message naming the problem, and the daemon keeps serving afterwards.
 */
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { socketAddress } from "../../daemon/common/paths.js";
import {
  StartSessionRequestSchema,
  StartSessionResponseSchema,
} from "../../gen/claude_sessions/v1/session_service_pb.js";
import { DaemonFixture, type DaemonHandle } from "../helpers/daemon-fixture.js";
import { expectStatus } from "../helpers/rpc.js";
import { savedRecord } from "../helpers/saved-record.js";
import type { TempHome } from "../helpers/temp-home.js";

/**
 * Two saved sessions whose ids share "abcd1234": random v4 ids would need hundreds of sessions
 * before two share four characters, so the daemon loads these from its state file instead.
 */
const TWINS = ["abcd1234-1111-4111-8111-111111111111", "abcd1234-2222-4222-8222-222222222222"];
const TAKEN_NAME = "taken";

interface Case {
  name: string;
  call: () => Promise<unknown>;
  code: grpc.status;
  /** What the message must say. */
  message: RegExp;
}

describe("bad input over the socket", () => {
  const fixture = new DaemonFixture();
  let home: TempHome;
  let work: TempHome;
  let daemon: DaemonHandle;
  let channel: grpc.Client;
  let env: Record<string, string>;

  before(async () => {
    home = fixture.home;
    work = fixture.work;
    env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: work.path };
    const saved = TWINS.map((id, index) =>
      savedRecord(id, work.path, { name: index === 0 ? TAKEN_NAME : "", env }),
    );
    writeFileSync(`${home.path}/state.json`, JSON.stringify({ version: 1, sessions: saved }));
    daemon = await fixture.start();
    channel = new grpc.Client(socketAddress(daemon.socket), grpc.credentials.createInsecure());
  });

  after(async () => {
    channel.close();
    await fixture.cleanup();
  });

  /** A StartSession whose name is not valid UTF-8: the typed client cannot even encode it. */
  function startWithRawName(nameBytes: Buffer): Promise<unknown> {
    const placeholder = "N".repeat(nameBytes.length);
    const encoded = Buffer.from(
      toBinary(
        StartSessionRequestSchema,
        create(StartSessionRequestSchema, {
          workingDir: work.path,
          command: ["true"],
          name: placeholder,
        }),
      ),
    );
    const at = encoded.indexOf(placeholder);
    assert.ok(at > 0);
    nameBytes.copy(encoded, at);
    return new Promise((resolve, reject) => {
      channel.makeUnaryRequest(
        "/claude_sessions.v1.SessionService/StartSession",
        (value: Buffer) => value,
        (value: Buffer) => fromBinary(StartSessionResponseSchema, value),
        encoded,
        new grpc.Metadata(),
        {},
        (error, response) => (error ? reject(error) : resolve(response)),
      );
    });
  }

  it("each bad request gets its status and a one-line message; the daemon keeps answering", async () => {
    const { sessions } = daemon.client;
    const file = `${work.path}/a-file`;
    writeFileSync(file, "not a directory\n");
    const script = `${work.path}/a-script`;
    writeFileSync(script, "#!/bin/sh\necho hi\n");
    mkdirSync(`${work.path}/dir`);
    const start = (fields: Record<string, unknown>) =>
      sessions.startSession({ workingDir: work.path, command: ["cat"], env, ...fields });
    const before = (await sessions.listSessions({})).sessions.length;

    const cases: Case[] = [
      {
        name: "relative working dir",
        call: () => start({ workingDir: "relative/dir" }),
        code: grpc.status.INVALID_ARGUMENT,
        message: /working_dir must be an absolute path, got 'relative\/dir'/,
      },
      {
        name: "missing working dir",
        call: () => start({ workingDir: `${work.path}/missing` }),
        code: grpc.status.INVALID_ARGUMENT,
        message: new RegExp(`working_dir ${work.path}/missing does not exist`),
      },
      {
        name: "a file as working dir",
        call: () => start({ workingDir: file }),
        code: grpc.status.INVALID_ARGUMENT,
        message: new RegExp(`working_dir ${file} is not a directory`),
      },
      {
        name: "a path through a file as working dir",
        call: () => start({ workingDir: `${file}/below` }),
        code: grpc.status.INVALID_ARGUMENT,
        message: /does not exist|not a directory/,
      },
      {
        name: "empty working dir",
        call: () => start({ workingDir: "" }),
        code: grpc.status.INVALID_ARGUMENT,
        message: /working_dir is required/,
      },
      {
        name: "a memory limit too small to run anything",
        call: () => start({ limits: { maxMemoryBytes: 4096n } }),
        code: grpc.status.INVALID_ARGUMENT,
        message: /^limits\.max_memory_bytes must be 0 \(no limit\) or at least 1\.00 MiB$/,
      },
      {
        name: "a log limit below a few segments",
        call: () => start({ limits: { maxLogBytes: 1000n } }),
        code: grpc.status.INVALID_ARGUMENT,
        message: /^limits\.max_log_bytes must be 0 \(no limit\) or at least 64\.0 KiB$/,
      },
      {
        name: "a niceness out of range",
        call: () => start({ limits: { nice: 40 } }),
        code: grpc.status.INVALID_ARGUMENT,
        message: /^limits\.nice must be an integer from -20 to 19$/,
      },
      {
        name: "a prune of sessions that end in the future",
        call: () => sessions.pruneSessions({ olderThan: { seconds: -5n, nanos: 0 } }),
        code: grpc.status.INVALID_ARGUMENT,
        message: /^older_than must be between 0s and 3653d$/,
      },
      {
        name: "a prune that does not say how old",
        call: () => sessions.pruneSessions({}),
        code: grpc.status.INVALID_ARGUMENT,
        message:
          /^older_than is required: how long ago a session must have ended \(0s for every ended session\)$/,
      },
      {
        name: "a prune with a bad label selector",
        call: () =>
          sessions.pruneSessions({ olderThan: { seconds: 0n, nanos: 0 }, labelSelector: "=api" }),
        code: grpc.status.INVALID_ARGUMENT,
        message: /^label selector '=api': /,
      },
      {
        name: "unknown session id (Get)",
        call: () => sessions.getSession({ sessionId: "0f0f0f0f-0000-4000-8000-000000000000" }),
        code: grpc.status.NOT_FOUND,
        message: /no session matches '0f0f0f0f-0000-4000-8000-000000000000'/,
      },
      {
        name: "unknown session id (Stop)",
        call: () => sessions.stopSession({ sessionId: "no-such-session" }),
        code: grpc.status.NOT_FOUND,
        message: /no session matches 'no-such-session'/,
      },
      {
        name: "unknown session id (SendInput)",
        call: () => sessions.sendInput({ sessionId: "ffff", input: { case: "text", value: "x" } }),
        code: grpc.status.NOT_FOUND,
        message: /no session matches 'ffff'/,
      },
      {
        name: "a prefix under 4 characters",
        call: () => sessions.getSession({ sessionId: "abc" }),
        code: grpc.status.NOT_FOUND,
        message: /at least 4 characters/,
      },
      {
        name: "ambiguous id prefix",
        call: () => sessions.getSession({ sessionId: "abcd" }),
        code: grpc.status.FAILED_PRECONDITION,
        message: new RegExp(
          `'abcd' matches 2 sessions: ${TWINS[0]} \\(${TAKEN_NAME}\\), ${TWINS[1]}; type more`,
        ),
      },
      {
        name: "ambiguous id prefix (Resume)",
        call: () => sessions.resumeSession({ sessionId: "ABCD1234" }),
        code: grpc.status.FAILED_PRECONDITION,
        message: /'ABCD1234' matches 2 sessions/,
      },
      {
        name: "command not found",
        call: () => start({ command: ["no-such-program-3141"] }),
        code: grpc.status.FAILED_PRECONDITION,
        message: /command not found: no-such-program-3141 in PATH/,
      },
      {
        name: "command is a directory",
        call: () => start({ command: [`${work.path}/dir`] }),
        code: grpc.status.FAILED_PRECONDITION,
        message: /command not found/,
      },
      {
        name: "command is a script that is not executable",
        call: () => start({ command: [script] }),
        code: grpc.status.FAILED_PRECONDITION,
        message: new RegExp(`${script} is not executable; fix it with: chmod \\+x`),
      },
      {
        name: "command is a file that is no program",
        call: () => start({ command: [file] }),
        code: grpc.status.FAILED_PRECONDITION,
        message: new RegExp(`^${file} is not a program \\(`),
      },
      {
        name: "zero cols",
        call: () => start({ cols: 0, rows: 24 }),
        code: grpc.status.INVALID_ARGUMENT,
        message: /cols must be between 1 and \d+, got 0/,
      },
      {
        name: "zero rows",
        call: () => start({ cols: 80, rows: 0 }),
        code: grpc.status.INVALID_ARGUMENT,
        message: /rows must be between 1 and \d+, got 0/,
      },
      {
        name: "zero size on resize",
        call: () => sessions.resizeSession({ sessionId: TWINS[1] as string, cols: 0, rows: 0 }),
        code: grpc.status.FAILED_PRECONDITION,
        message: /cannot resize: session .* is exited/,
      },
      {
        name: "a name already in use",
        call: () => start({ name: TAKEN_NAME }),
        code: grpc.status.ALREADY_EXISTS,
        message: new RegExp(`the name '${TAKEN_NAME}' is already used by session ${TWINS[0]}`),
      },
      {
        name: "a name that looks like an id",
        call: () => start({ name: "12345678-1234-whatever" }),
        code: grpc.status.INVALID_ARGUMENT,
        message: /looks like a session id/,
      },
      {
        name: "a name that could be read as an id prefix",
        call: () => start({ name: "37e0" }),
        code: grpc.status.INVALID_ARGUMENT,
        message: /name '37e0' could be read as a session id prefix/,
      },
      {
        name: "a name with whitespace",
        call: () => start({ name: "two words" }),
        code: grpc.status.INVALID_ARGUMENT,
        message: /name contains U\+0020 \(whitespace\)/,
      },
      {
        name: "NUL in a command argument",
        call: () => start({ command: ["echo", "a\0b"] }),
        code: grpc.status.INVALID_ARGUMENT,
        message: /command argument 1 contains NUL/,
      },
      {
        name: "NUL in the program",
        call: () => start({ command: ["ca\0t"] }),
        code: grpc.status.INVALID_ARGUMENT,
        message: /command argument 0 contains NUL/,
      },
      {
        name: "NUL in the working dir",
        call: () => start({ workingDir: `${work.path}\0x` }),
        code: grpc.status.INVALID_ARGUMENT,
        message: /working_dir contains NUL/,
      },
      {
        name: "NUL in an environment value",
        call: () => start({ env: { ...env, BAD: "a\0b" } }),
        code: grpc.status.INVALID_ARGUMENT,
        message: /environment variable BAD contains NUL/,
      },
      {
        name: "'=' in an environment name",
        call: () => start({ env: { ...env, "A=B": "x" } }),
        code: grpc.status.INVALID_ARGUMENT,
        message: /environment variable name 'A=B' is not valid/,
      },
      {
        name: "invalid UTF-8 in the name",
        call: () => startWithRawName(Buffer.from([0x62, 0xff, 0xfe, 0x61])),
        code: grpc.status.INVALID_ARGUMENT,
        message: /UTF-8/i,
      },
      {
        name: "a truncated multi-byte character in the name",
        call: () => startWithRawName(Buffer.from([0x61, 0xe2, 0x82])),
        code: grpc.status.INVALID_ARGUMENT,
        message: /UTF-8/i,
      },
      {
        name: "a grace period over a day",
        call: () =>
          sessions.stopSession({
            sessionId: TWINS[1] as string,
            gracePeriod: { seconds: 90_000n },
          }),
        code: grpc.status.INVALID_ARGUMENT,
        message: /grace_period must be between 0s and 24h/,
      },
      {
        name: "removing with an empty id",
        call: () => sessions.removeSession({ sessionId: "" }),
        code: grpc.status.INVALID_ARGUMENT,
        message: /session id, id prefix or name is required/,
      },
      {
        name: "forking an unknown session",
        call: () => sessions.forkSession({ sessionId: "nope", env }),
        code: grpc.status.NOT_FOUND,
        message: /^no session matches 'nope'$/,
      },
      {
        name: "forking with a name in use",
        call: () => sessions.forkSession({ sessionId: TWINS[1] as string, name: TAKEN_NAME, env }),
        code: grpc.status.ALREADY_EXISTS,
        message: /^the name 'taken' is already used by session /,
      },
      {
        name: "forking with a zero size",
        call: () => sessions.forkSession({ sessionId: TWINS[1] as string, cols: 0, env }),
        code: grpc.status.INVALID_ARGUMENT,
        message: /^cols must be between 1 and 1000, got 0$/,
      },
      {
        name: "forking with a bad label",
        call: () =>
          sessions.forkSession({ sessionId: TWINS[1] as string, labels: { "a b": "x" }, env }),
        code: grpc.status.INVALID_ARGUMENT,
        message: /label/,
      },
      {
        name: "a snapshot of an ambiguous prefix",
        call: () => sessions.createSnapshot({ sessionId: "abcd1234", env }),
        code: grpc.status.FAILED_PRECONDITION,
        message: /^'abcd1234' matches 2 sessions: /,
      },
      {
        name: "a snapshot named like an id",
        call: () => sessions.createSnapshot({ sessionId: TAKEN_NAME, name: "abcdef12", env }),
        code: grpc.status.INVALID_ARGUMENT,
        message: /could be read as a session id prefix/,
      },
      {
        name: "restoring an unknown snapshot",
        call: () => sessions.restoreSnapshot({ snapshotId: "nope", env }),
        code: grpc.status.NOT_FOUND,
        message: /^no snapshot matches 'nope'$/,
      },
      {
        name: "restoring with an empty id",
        call: () => sessions.restoreSnapshot({ snapshotId: "", env }),
        code: grpc.status.INVALID_ARGUMENT,
        message: /^a snapshot id, id prefix or name is required$/,
      },
      {
        name: "removing an unknown snapshot",
        call: () => sessions.removeSnapshot({ snapshotId: "nope" }),
        code: grpc.status.NOT_FOUND,
        message: /^no snapshot matches 'nope'$/,
      },
      {
        name: "the snapshots of an unknown session",
        call: () => sessions.listSnapshots({ sessionId: "nope" }),
        code: grpc.status.NOT_FOUND,
        message: /^no session matches 'nope'$/,
      },
    ];

    const failures: string[] = [];
    for (const entry of cases) {
      try {
        const error = await expectStatus(entry.call(), entry.code);
        assert.ok(!/[\r\n]/.test(error.details), `one line: ${JSON.stringify(error.details)}`);
        assert.doesNotMatch(error.details, /\bat .*\(.*:\d+:\d+\)/, "no stack trace");
        assert.match(error.details, entry.message);
      } catch (error) {
        failures.push(`${entry.name}: ${(error as Error).message}`);
      }
    }
    assert.deepEqual(failures, []);

    const pong = await daemon.client.daemon.ping({});
    assert.equal(pong.pid, daemon.pid);
    // No bad request left a session behind.
    assert.equal((await sessions.listSessions({})).sessions.length, before);
  });
});
