/**
 * Hostile input over the real socket: undecodable bytes on every method of every service,
 * valid bytes of the wrong message, unknown methods, a message four times the limit, invalid
 * UTF-8 and NUL in every string field that names something, huge environments and absurd
 * terminal sizes. Every case must end with a status a client can act on (never UNKNOWN, never
 * INTERNAL), the daemon must answer Ping after each one, and a bash session running the whole
 * time must come out undisturbed: it still echoes, its log is contiguous, and a follower
 * attached from the start got every entry.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { DescMessage, DescMethod, MessageInitShape } from "@bufbuild/protobuf";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { GenService } from "@bufbuild/protobuf/codegenv2";
import * as grpc from "@grpc/grpc-js";
import { socketAddress } from "../../daemon/common/paths.js";
import { methodPath } from "../../daemon/rpc/service-binding.js";
import {
  DaemonService,
  PingResponseSchema,
  ShutdownRequestSchema,
} from "../../gen/claude_sessions/v1/daemon_pb.js";
import {
  LogEntrySchema,
  SessionSchema,
  SessionState,
} from "../../gen/claude_sessions/v1/session_pb.js";
import {
  AttachSessionRequestSchema,
  type AttachSessionResponse,
  AttachTerminalRequestSchema,
  CaptureScreenRequestSchema,
  GetSessionRequestSchema,
  PruneSessionsRequestSchema,
  RemoveSessionRequestSchema,
  ResizeSessionRequestSchema,
  ResumeSessionRequestSchema,
  SendInputRequestSchema,
  SessionService,
  StartSessionRequestSchema,
  StopSessionRequestSchema,
  TerminalSizeSchema,
} from "../../gen/claude_sessions/v1/session_service_pb.js";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { ServerReflection as ReflectionV1 } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ReflectionV1alpha } from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { DaemonFixture, type DaemonHandle } from "../helpers/daemon-fixture.js";
import { assertContiguous, outputText, readLog } from "../helpers/log-reader.js";
import { fdTargets, openFds } from "../helpers/proc.js";
import {
  type Outcome,
  rawBidi,
  rawServerStream,
  rawUnary,
  spliceBytes,
} from "../helpers/raw-call.js";
import type { TempHome } from "../helpers/temp-home.js";
import { waitFor } from "../helpers/wait.js";

const SERVICES = [
  SessionService,
  DaemonService,
  Health,
  ReflectionV1,
  ReflectionV1alpha,
] as unknown as GenService<never>[];
const ALL_METHODS: DescMethod[] = SERVICES.flatMap((service) => service.methods);

/**
 * Bytes that are not a protobuf message of any type: each breaks the wire format itself, so
 * no schema can decode them (checked below, so a case cannot quietly turn into a valid Shutdown).
 */
const GARBAGE: ReadonlyArray<[string, Buffer]> = [
  ["wire type 7", Buffer.from([0x0f, 0x01])],
  ["field number 0", Buffer.from([0x00, 0x01])],
  ["length past the end", Buffer.from([0x0a, 0x7f, 0x41])],
  ["tag varint over 10 bytes", Buffer.from([...Array(11).fill(0xff), 0x01])],
  ["truncated tag", Buffer.from([0x80])],
  ["unterminated group", Buffer.from([0x0b, 0x0b, 0x0b])],
  ["text", Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n")],
];

/** Byte sequences that are not UTF-8, each a different way to be wrong. */
const BAD_UTF8: ReadonlyArray<[string, Buffer]> = [
  ["0xff", Buffer.from([0x61, 0xff, 0x62])],
  ["bad continuation", Buffer.from([0x61, 0xc3, 0x28])],
  ["encoded surrogate", Buffer.from([0xed, 0xa0, 0x80])],
  ["truncated sequence", Buffer.from([0x61, 0xe2, 0x82])],
  ["overlong '/'", Buffer.from([0x61, 0xc0, 0xaf])],
];

/** The most a status may be, for each kind of case. */
type Expect = grpc.status | "clean";

const UNCLEAN = new Set([grpc.status.UNKNOWN, grpc.status.INTERNAL]);
/** How long a stream that must end in an error is given to end before it is cancelled. */
const ANSWER_WAIT_MS = 20_000;

function encode<D extends DescMessage>(schema: D, init: MessageInitShape<D>): Buffer {
  return Buffer.from(toBinary(schema, create(schema, init)));
}

describe("hostile input over the socket", () => {
  const fixture = new DaemonFixture();
  let daemon: DaemonHandle;
  let work: TempHome;
  let channel: grpc.Client;
  let bash: { id: string; logPath: string; pid: number };
  /** An ended session: what ResumeSession's checks apply to. */
  let finished: string;
  let follower: { seqs: number[]; stream: { cancel(): void }; ended: Promise<void> };
  let fdsBefore: number;
  let sessionsBefore: number;
  const tried = new Map<string, number>();
  const codes = new Map<string, number>();
  let env: Record<string, string>;

  before(async () => {
    daemon = await fixture.start();
    work = fixture.work;
    channel = new grpc.Client(socketAddress(daemon.socket), grpc.credentials.createInsecure());
    env = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: work.path,
      LANG: "C.UTF-8",
      PS1: "$ ",
    };
    const { session } = await daemon.client.sessions.startSession({
      workingDir: work.path,
      command: ["bash", "--norc", "--noprofile"],
      env,
      cols: 80,
      rows: 24,
    });
    assert.ok(session);
    bash = { id: session.id, logPath: session.logPath, pid: session.pid };
    const stream = daemon.client.sessions.attachSession({
      sessionId: bash.id,
      start: { case: "fromSeq", value: 1n },
      follow: true,
    });
    const seqs: number[] = [];
    stream.on("data", (response: AttachSessionResponse) => {
      for (const entry of response.entries) seqs.push(Number(entry.seq));
    });
    const ended = new Promise<void>((resolve) => {
      stream.on("error", () => resolve());
      stream.on("end", () => resolve());
    });
    follower = { seqs, stream, ended };
    await daemon.client.sessions.sendInput({
      sessionId: bash.id,
      input: { case: "text", value: "echo ready-$((1+1))\r" },
    });
    await waitFor("bash to answer", () =>
      outputText(readLog(bash.logPath).records).includes("ready-2"),
    );
    const done = (
      await daemon.client.sessions.startSession({ workingDir: work.path, command: ["true"], env })
    ).session;
    assert.ok(done);
    finished = done.id;
    await waitFor("the short session to end", async () => {
      const { session: current } = await daemon.client.sessions.getSession({ sessionId: finished });
      return current?.state === SessionState.EXITED;
    });
    sessionsBefore = (await daemon.client.sessions.listSessions({})).sessions.length;
    // Both clients' connections are open before counting the daemon's fds.
    const pinged = await rawUnary(channel, methodPath(DaemonService.method.ping), Buffer.alloc(0));
    assert.equal(pinged.code, grpc.status.OK);
    fdsBefore = openFds(daemon.pid);
  });

  after(async () => {
    follower?.stream.cancel();
    channel?.close();
    await fixture.cleanup();
  });

  /**
   * How long the case being run keeps a stream open before it cancels it (which counts as OK):
   * a case that expects an error waits for the daemon to end the call, however loaded the
   * machine; any other only long enough to see the daemon accept it (the raw calls' default).
   */
  let openMs: number | undefined;

  /** Runs one case: its status must be `expect` (or any clean one), and Ping must still work. */
  async function attempt(
    category: string,
    name: string,
    run: () => Promise<Outcome>,
    expect: Expect,
    failures: string[],
  ): Promise<Outcome> {
    tried.set(category, (tried.get(category) ?? 0) + 1);
    openMs = expect === "clean" || expect === grpc.status.OK ? undefined : ANSWER_WAIT_MS;
    const outcome = await run();
    const code = grpc.status[outcome.code] ?? String(outcome.code);
    codes.set(code, (codes.get(code) ?? 0) + 1);
    const wanted = expect === "clean" ? undefined : expect;
    if (UNCLEAN.has(outcome.code) || (wanted !== undefined && outcome.code !== wanted)) {
      failures.push(
        `${category} / ${name}: got ${code} (${outcome.details}), expected ${wanted === undefined ? "a clean status" : grpc.status[wanted]}`,
      );
    } else if (/[\r\n]/.test(outcome.details) || /\n\s+at /.test(outcome.details)) {
      failures.push(`${category} / ${name}: message is not one line: ${outcome.details}`);
    }
    const pong = await daemon.client.daemon.ping({}, { deadline: Date.now() + 10_000 });
    assert.equal(pong.pid, daemon.pid, `after ${category} / ${name}`);
    return outcome;
  }

  /** One request body sent to `method`, whatever its kind. */
  function send(method: DescMethod, body: Buffer): Promise<Outcome> {
    const path = methodPath(method);
    switch (method.methodKind) {
      case "unary":
        return rawUnary(channel, path, body);
      case "server_streaming":
        return rawServerStream(channel, path, body, openMs);
      default:
        return rawBidi(channel, path, [body], openMs);
    }
  }

  it("undecodable bytes on every method of every service: INVALID_ARGUMENT", async () => {
    const failures: string[] = [];
    for (const method of ALL_METHODS) {
      for (const [name, bytes] of GARBAGE) {
        assert.throws(
          () => fromBinary(method.input, bytes),
          `${name} must not decode as ${method.input.typeName}`,
        );
        await attempt(
          "undecodable bytes",
          `${method.parent.name}.${method.name}: ${name}`,
          () => send(method, bytes),
          grpc.status.INVALID_ARGUMENT,
          failures,
        );
      }
    }
    // In the middle of a live terminal attachment, after a valid start.
    const start = encode(AttachTerminalRequestSchema, {
      message: { case: "start", value: { sessionId: bash.id, size: { cols: 80, rows: 24 } } },
    });
    for (const [name, bytes] of GARBAGE) {
      await attempt(
        "undecodable bytes",
        `AttachTerminal after start: ${name}`,
        () =>
          rawBidi(
            channel,
            methodPath(SessionService.method.attachTerminal),
            [start, bytes],
            openMs,
          ),
        grpc.status.INVALID_ARGUMENT,
        failures,
      );
    }
    assert.deepEqual(failures, []);
  });

  it("valid bytes of the wrong message: a clean status, nothing acts on the running session", async () => {
    const failures: string[] = [];
    const foreign: ReadonlyArray<[string, Buffer]> = [
      ["TerminalSize", encode(TerminalSizeSchema, { cols: 80, rows: 24 })],
      [
        "PingResponse",
        encode(PingResponseSchema, { version: "9.9.9", pid: 4242, sessionCount: 7 }),
      ],
      [
        "Session",
        encode(SessionSchema, {
          id: "0f0f0f0f-0000-4000-8000-000000000000",
          name: "zz-nobody",
          workingDir: "/nonexistent",
          command: ["/nonexistent/program"],
          state: SessionState.RUNNING,
          pid: 1,
          cols: 65535,
        }),
      ],
      ["LogEntry", encode(LogEntrySchema, { seq: 5n, data: "hello" })],
    ];
    // Shutdown and PruneSessions are left out: an empty or compatible message IS a valid
    // ShutdownRequest, and a LogEntry's bytes read as a PruneSessionsRequest with older_than
    // 0s (protobuf cannot tell message types apart); the undecodable cases above cover them.
    const acting = [ShutdownRequestSchema, PruneSessionsRequestSchema] as DescMessage[];
    for (const method of ALL_METHODS.filter((m) => !acting.includes(m.input))) {
      for (const [name, bytes] of foreign) {
        await attempt(
          "wrong message type",
          `${method.parent.name}.${method.name} <- ${name}`,
          () => send(method, bytes),
          "clean",
          failures,
        );
      }
    }
    assert.deepEqual(failures, []);
  });

  it("unknown methods and services: UNIMPLEMENTED", async () => {
    const failures: string[] = [];
    const empty = Buffer.alloc(0);
    const paths = [
      "/claude_sessions.v1.SessionService/NoSuchMethod",
      "/claude_sessions.v1.SessionService/startSession",
      "/claude_sessions.v1.SessionService/",
      "/claude_sessions.v1.NoSuchService/Ping",
      "/claude_sessions.v2.DaemonService/Ping",
      "/claude_sessions.v1.DaemonService/Ping/extra",
      "/claude_sessions.v1.DaemonService",
      "/",
      `/${"x".repeat(4000)}/Y`,
      "/grpc.health.v1.Health/Nope",
    ];
    for (const path of paths) {
      await attempt(
        "unknown method",
        `unary ${path.slice(0, 60)}`,
        () => rawUnary(channel, path, empty),
        grpc.status.UNIMPLEMENTED,
        failures,
      );
      await attempt(
        "unknown method",
        `server stream ${path.slice(0, 60)}`,
        () => rawServerStream(channel, path, empty, openMs),
        grpc.status.UNIMPLEMENTED,
        failures,
      );
      await attempt(
        "unknown method",
        `bidi ${path.slice(0, 60)}`,
        () => rawBidi(channel, path, [empty], openMs),
        grpc.status.UNIMPLEMENTED,
        failures,
      );
    }
    assert.deepEqual(failures, []);
  });

  it("messages over the 4 MiB limit: RESOURCE_EXHAUSTED, and none of it reaches the session", async () => {
    const failures: string[] = [];
    const huge = Buffer.alloc(16 * 1024 * 1024, "Z");
    await attempt(
      "oversized message",
      "SendInput of 16 MiB",
      () =>
        rawUnary(
          channel,
          methodPath(SessionService.method.sendInput),
          encode(SendInputRequestSchema, {
            sessionId: bash.id,
            input: { case: "data", value: huge },
          }),
        ),
      grpc.status.RESOURCE_EXHAUSTED,
      failures,
    );
    await attempt(
      "oversized message",
      "StartSession with a 16 MiB environment value",
      () =>
        rawUnary(
          channel,
          methodPath(SessionService.method.startSession),
          encode(StartSessionRequestSchema, {
            workingDir: work.path,
            command: ["true"],
            env: { BIG: huge.toString("latin1") },
          }),
        ),
      grpc.status.RESOURCE_EXHAUSTED,
      failures,
    );
    const start = encode(AttachTerminalRequestSchema, {
      message: { case: "start", value: { sessionId: bash.id, size: { cols: 80, rows: 24 } } },
    });
    await attempt(
      "oversized message",
      "AttachTerminal input of 5 MiB",
      () =>
        rawBidi(
          channel,
          methodPath(SessionService.method.attachTerminal),
          [
            start,
            encode(AttachTerminalRequestSchema, {
              message: { case: "input", value: huge.subarray(0, 5 * 1024 * 1024) },
            }),
          ],
          openMs,
        ),
      grpc.status.RESOURCE_EXHAUSTED,
      failures,
    );
    assert.deepEqual(failures, []);
  });

  it("invalid UTF-8 and NUL in every string field that names something: INVALID_ARGUMENT", async () => {
    const failures: string[] = [];
    const s = SessionService.method;
    /** A request builder per field: given a placeholder string, the request carrying it. */
    const fields: ReadonlyArray<[string, DescMethod, (text: string) => Buffer]> = [
      [
        "StartSession.working_dir",
        s.startSession,
        (text) =>
          encode(StartSessionRequestSchema, { workingDir: `/tmp/${text}`, command: ["true"], env }),
      ],
      [
        "StartSession.name",
        s.startSession,
        (text) =>
          encode(StartSessionRequestSchema, {
            workingDir: work.path,
            command: ["true"],
            env,
            name: text,
          }),
      ],
      [
        "StartSession.command[0]",
        s.startSession,
        (text) =>
          encode(StartSessionRequestSchema, { workingDir: work.path, command: [`tr${text}`], env }),
      ],
      [
        "StartSession.command[1]",
        s.startSession,
        (text) =>
          encode(StartSessionRequestSchema, {
            workingDir: work.path,
            command: ["echo", text],
            env,
          }),
      ],
      [
        "StartSession.env key",
        s.startSession,
        (text) =>
          encode(StartSessionRequestSchema, {
            workingDir: work.path,
            command: ["true"],
            env: { ...env, [`K${text}`]: "v" },
          }),
      ],
      [
        "StartSession.env value",
        s.startSession,
        (text) =>
          encode(StartSessionRequestSchema, {
            workingDir: work.path,
            command: ["true"],
            env: { ...env, K: text },
          }),
      ],
      [
        "ResumeSession.env key",
        s.resumeSession,
        (text) =>
          encode(ResumeSessionRequestSchema, { sessionId: finished, env: { [`K${text}`]: "v" } }),
      ],
      [
        "ResumeSession.env value",
        s.resumeSession,
        (text) => encode(ResumeSessionRequestSchema, { sessionId: finished, env: { K: text } }),
      ],
      [
        "GetSession.session_id",
        s.getSession,
        (text) => encode(GetSessionRequestSchema, { sessionId: `${bash.id.slice(0, 8)}${text}` }),
      ],
      [
        "StopSession.session_id",
        s.stopSession,
        (text) => encode(StopSessionRequestSchema, { sessionId: `${bash.id.slice(0, 8)}${text}` }),
      ],
      [
        "RemoveSession.session_id",
        s.removeSession,
        (text) =>
          encode(RemoveSessionRequestSchema, { sessionId: `${bash.id.slice(0, 8)}${text}` }),
      ],
      [
        "ResumeSession.session_id",
        s.resumeSession,
        (text) =>
          encode(ResumeSessionRequestSchema, { sessionId: `${bash.id.slice(0, 8)}${text}` }),
      ],
      [
        "SendInput.session_id",
        s.sendInput,
        (text) =>
          encode(SendInputRequestSchema, {
            sessionId: `${bash.id.slice(0, 8)}${text}`,
            input: { case: "text", value: "x" },
          }),
      ],
      [
        "ResizeSession.session_id",
        s.resizeSession,
        (text) =>
          encode(ResizeSessionRequestSchema, {
            sessionId: `${bash.id.slice(0, 8)}${text}`,
            cols: 81,
            rows: 25,
          }),
      ],
      [
        "CaptureScreen.session_id",
        s.captureScreen,
        (text) =>
          encode(CaptureScreenRequestSchema, { sessionId: `${bash.id.slice(0, 8)}${text}` }),
      ],
      [
        "AttachSession.session_id",
        s.attachSession,
        (text) =>
          encode(AttachSessionRequestSchema, {
            sessionId: `${bash.id.slice(0, 8)}${text}`,
            follow: true,
          }),
      ],
      [
        "AttachTerminal start.session_id",
        s.attachTerminal,
        (text) =>
          encode(AttachTerminalRequestSchema, {
            message: {
              case: "start",
              value: { sessionId: `${bash.id.slice(0, 8)}${text}`, size: { cols: 80, rows: 24 } },
            },
          }),
      ],
    ];
    for (const [field, method, build] of fields) {
      for (const [name, bad] of BAD_UTF8) {
        const placeholder = "\u007f".repeat(bad.length);
        await attempt(
          "invalid UTF-8",
          `${field}: ${name}`,
          () => send(method, spliceBytes(build(placeholder), placeholder, bad)),
          grpc.status.INVALID_ARGUMENT,
          failures,
        );
      }
      for (const [name, text] of [
        ["NUL", "a\0b"],
        ["NUL alone", "\0"],
      ] as const) {
        await attempt(
          "NUL",
          `${field}: ${name}`,
          () => send(method, build(text)),
          grpc.status.INVALID_ARGUMENT,
          failures,
        );
      }
    }
    // An id query with a terminal escape sequence can name no session: refused, not echoed.
    const escaped = await attempt(
      "NUL",
      "GetSession.session_id: escape sequence",
      () =>
        send(
          s.getSession,
          encode(GetSessionRequestSchema, { sessionId: "abcd\u001b]0;owned\u0007" }),
        ),
      grpc.status.INVALID_ARGUMENT,
      failures,
    );
    assert.ok(
      !escaped.details.includes("\u001b"),
      `the message echoes the escape: ${JSON.stringify(escaped.details)}`,
    );
    assert.deepEqual(failures, []);
  });

  it("absurd terminal sizes on start, resize and attach: INVALID_ARGUMENT, the session keeps its size", async () => {
    const failures: string[] = [];
    const s = SessionService.method;
    const sizes: ReadonlyArray<[number, number]> = [
      [0, 24],
      [80, 0],
      [0, 0],
      [65535, 24],
      [80, 65535],
      [65535, 65535],
      [4294967295, 4294967295],
    ];
    for (const [cols, rows] of sizes) {
      const label = `${cols}x${rows}`;
      await attempt(
        "absurd size",
        `StartSession ${label}`,
        () =>
          send(
            s.startSession,
            encode(StartSessionRequestSchema, {
              workingDir: work.path,
              command: ["true"],
              env,
              cols,
              rows,
            }),
          ),
        grpc.status.INVALID_ARGUMENT,
        failures,
      );
      await attempt(
        "absurd size",
        `ResizeSession ${label}`,
        () =>
          send(
            s.resizeSession,
            encode(ResizeSessionRequestSchema, { sessionId: bash.id, cols, rows }),
          ),
        grpc.status.INVALID_ARGUMENT,
        failures,
      );
      await attempt(
        "absurd size",
        `AttachTerminal start ${label}`,
        () =>
          send(
            s.attachTerminal,
            encode(AttachTerminalRequestSchema, {
              message: { case: "start", value: { sessionId: bash.id, size: { cols, rows } } },
            }),
          ),
        grpc.status.INVALID_ARGUMENT,
        failures,
      );
      await attempt(
        "absurd size",
        `AttachTerminal resize ${label}`,
        () =>
          rawBidi(
            channel,
            methodPath(s.attachTerminal),
            [
              encode(AttachTerminalRequestSchema, {
                message: {
                  case: "start",
                  value: { sessionId: bash.id, size: { cols: 80, rows: 24 } },
                },
              }),
              encode(AttachTerminalRequestSchema, {
                message: { case: "resize", value: { cols, rows } },
              }),
            ],
            openMs,
          ),
        grpc.status.INVALID_ARGUMENT,
        failures,
      );
    }
    // Out of order: input before start, start twice.
    await attempt(
      "absurd size",
      "AttachTerminal input before start",
      () =>
        send(
          s.attachTerminal,
          encode(AttachTerminalRequestSchema, {
            message: { case: "input", value: Buffer.from("x") },
          }),
        ),
      grpc.status.INVALID_ARGUMENT,
      failures,
    );
    const start = encode(AttachTerminalRequestSchema, {
      message: { case: "start", value: { sessionId: bash.id, size: { cols: 80, rows: 24 } } },
    });
    await attempt(
      "absurd size",
      "AttachTerminal start twice",
      () => rawBidi(channel, methodPath(s.attachTerminal), [start, start], openMs),
      grpc.status.INVALID_ARGUMENT,
      failures,
    );
    assert.deepEqual(failures, []);
    const { session } = await daemon.client.sessions.getSession({ sessionId: bash.id });
    assert.deepEqual([session?.cols, session?.rows], [80, 24], "the running session kept its size");
  });

  it("absurd numbers in times, positions and durations: a clean status, the running session untouched", async () => {
    const failures: string[] = [];
    const s = SessionService.method;
    const attach = (init: MessageInitShape<typeof AttachSessionRequestSchema>) =>
      send(s.attachSession, encode(AttachSessionRequestSchema, init));
    const huge = 2n ** 62n;
    const cases: ReadonlyArray<[string, () => Promise<Outcome>, Expect]> = [
      [
        "AttachSession since 2^62 s",
        () => attach({ sessionId: bash.id, start: { case: "since", value: { seconds: huge } } }),
        grpc.status.INVALID_ARGUMENT,
      ],
      [
        "AttachSession since -2^62 s",
        () => attach({ sessionId: bash.id, start: { case: "since", value: { seconds: -huge } } }),
        grpc.status.INVALID_ARGUMENT,
      ],
      [
        "AttachSession since with nanos -1",
        () =>
          attach({
            sessionId: bash.id,
            start: { case: "since", value: { seconds: 1n, nanos: -1 } },
          }),
        "clean",
      ],
      [
        "AttachSession from_seq 2^64-1",
        () => attach({ sessionId: bash.id, start: { case: "fromSeq", value: 2n ** 64n - 1n } }),
        grpc.status.OK,
      ],
      [
        "AttachSession tail 2^64-1",
        () => attach({ sessionId: bash.id, start: { case: "tail", value: 2n ** 64n - 1n } }),
        grpc.status.OK,
      ],
      [
        "StopSession grace -1 s",
        () =>
          send(
            s.stopSession,
            encode(StopSessionRequestSchema, { sessionId: bash.id, gracePeriod: { seconds: -1n } }),
          ),
        grpc.status.INVALID_ARGUMENT,
      ],
      [
        "StopSession grace 2^62 s",
        () =>
          send(
            s.stopSession,
            encode(StopSessionRequestSchema, {
              sessionId: bash.id,
              gracePeriod: { seconds: huge },
            }),
          ),
        grpc.status.INVALID_ARGUMENT,
      ],
      [
        "StopSession grace -1 ns",
        () =>
          send(
            s.stopSession,
            encode(StopSessionRequestSchema, {
              sessionId: bash.id,
              gracePeriod: { nanos: -1_000_000 },
            }),
          ),
        grpc.status.INVALID_ARGUMENT,
      ],
      [
        "Shutdown grace -1 s",
        () =>
          send(
            DaemonService.method.shutdown,
            encode(ShutdownRequestSchema, { gracePeriod: { seconds: -1n } }),
          ),
        grpc.status.INVALID_ARGUMENT,
      ],
      [
        "Shutdown grace 2^62 s",
        () =>
          send(
            DaemonService.method.shutdown,
            encode(ShutdownRequestSchema, { gracePeriod: { seconds: huge } }),
          ),
        grpc.status.INVALID_ARGUMENT,
      ],
      [
        "ListSessions state 99",
        () =>
          send(
            s.listSessions,
            Buffer.from([0x0a, 0x01, 99]), // states: [99], packed
          ),
        grpc.status.INVALID_ARGUMENT,
      ],
    ];
    for (const [name, run, expect] of cases)
      await attempt("absurd number", name, run, expect, failures);
    assert.deepEqual(failures, []);
  });

  it("10,000 environment variables and 10,000 arguments work; an argument over the kernel's limit is INVALID_ARGUMENT", async () => {
    const failures: string[] = [];
    const { sessions } = daemon.client;
    const manyEnv: Record<string, string> = { ...env };
    for (let i = 0; i < 10_000; i++) manyEnv[`HOSTILE_${i}`] = `value-${i}`;
    const made: string[] = [];
    /** Starts a session, keeping its id for clean-up; the call's outcome either way. */
    const start = (request: Parameters<typeof sessions.startSession>[0]) =>
      sessions.startSession(request).then(
        ({ session }) => {
          if (session) made.push(session.id);
          return { code: grpc.status.OK, details: "", responses: 1 };
        },
        (error: grpc.ServiceError) => ({ code: error.code, details: error.details, responses: 0 }),
      );
    const outcome = await attempt(
      "huge request",
      "StartSession with 10,000 environment variables",
      () =>
        start({
          workingDir: work.path,
          command: ["bash", "-c", 'echo "count=$(env | grep -c ^HOSTILE_) last=$HOSTILE_9999"'],
          env: manyEnv,
        }),
      grpc.status.OK,
      failures,
    );
    if (outcome.code === grpc.status.OK) {
      const id = made[0] as string;
      const ended = await waitFor("the 10,000-variable session to finish", async () => {
        const { session } = await sessions.getSession({ sessionId: id });
        return session?.state === SessionState.EXITED ? session : undefined;
      });
      assert.equal(ended.exitCode, 0);
      assert.match(outputText(readLog(ended.logPath).records), /count=10000 last=value-9999/);
    }
    const manyArgs = Array.from({ length: 10_000 }, (_, i) => `arg${i}`);
    const args = await attempt(
      "huge request",
      "StartSession with 10,000 arguments",
      () =>
        start({
          workingDir: work.path,
          command: ["bash", "-c", 'echo "argc=$#"', "bash", ...manyArgs],
          env,
        }),
      grpc.status.OK,
      failures,
    );
    if (args.code === grpc.status.OK) {
      const id = made.at(-1) as string;
      const ended = await waitFor("the 10,000-argument session to finish", async () => {
        const { session } = await sessions.getSession({ sessionId: id });
        return session?.state === SessionState.EXITED ? session : undefined;
      });
      assert.match(outputText(readLog(ended.logPath).records), /argc=10000/);
    }
    // Linux refuses a single argument over 128 KiB (MAX_ARG_STRLEN) at exec: so does the daemon.
    await attempt(
      "huge request",
      "StartSession with a 1 MiB argument",
      () => start({ workingDir: work.path, command: ["echo", "A".repeat(1024 * 1024)], env }),
      grpc.status.INVALID_ARGUMENT,
      failures,
    );
    for (const id of made) {
      await sessions.stopSession({ sessionId: id, gracePeriod: { seconds: 1n } });
      await sessions.removeSession({ sessionId: id, deleteLog: true });
    }
    assert.deepEqual(failures, []);
  });

  it("afterwards: the bash session is undisturbed, no session or fd is left over", async () => {
    const { sessions } = daemon.client;
    await sessions.sendInput({
      sessionId: bash.id,
      input: { case: "text", value: "echo alive-$((6*7))\r" },
    });
    await waitFor("bash to still answer", () =>
      outputText(readLog(bash.logPath).records).includes("alive-42"),
    );
    const { session } = await sessions.getSession({ sessionId: bash.id });
    assert.equal(session?.state, SessionState.RUNNING);
    assert.equal(session?.pid, bash.pid, "the same bash process");
    assert.equal(session?.logError, "");
    const { records, torn } = readLog(bash.logPath);
    assert.equal(torn, undefined);
    assertContiguous(records);
    assert.doesNotMatch(outputText(records), /ZZZZ/, "no byte of the oversized input reached bash");
    assert.doesNotMatch(
      records
        .filter((record) => record.kind === "event")
        .map((record) => record.data)
        .join("\n"),
      /resized/,
      "no bad size reached bash",
    );
    await waitFor("the follower to catch up", () => follower.seqs.at(-1) === records.at(-1)?.seq);
    assert.deepEqual(
      follower.seqs,
      records.map((record) => record.seq),
      "the follower attached from the start got every entry, once",
    );
    const left = (await sessions.listSessions({})).sessions;
    assert.equal(
      left.length,
      sessionsBefore,
      `no request left a session behind: ${left
        .filter((session) => session.id !== bash.id && session.id !== finished)
        .map(
          (session) =>
            `${session.command.join(" ").slice(0, 80)} (${SessionState[session.state]}: ${session.failureReason})`,
        )
        .join("; ")}`,
    );
    await waitFor(
      "the daemon's fds to return to their count before",
      () => openFds(daemon.pid) <= fdsBefore,
      5000,
    ).catch(() =>
      assert.fail(
        `${openFds(daemon.pid)} fds, ${fdsBefore} before: ${fdTargets(daemon.pid).join(", ")}`,
      ),
    );
    assert.doesNotMatch(daemon.output(), /uncaught exception|unhandled rejection/, daemon.output());

    const total = [...tried.values()].reduce((sum, count) => sum + count, 0);
    console.log(
      `hostile input: ${total} cases (${[...tried].map(([category, count]) => `${category} ${count}`).join(", ")}); statuses: ${[...codes].map(([code, count]) => `${code} ${count}`).join(", ")}`,
    );
    assert.ok(total > 300, `${total} cases`);
  });
});
