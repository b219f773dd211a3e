/**
 * The host protocol's hand-written codec (daemon/host/host-wire.ts) against the schema generated
 * from proto/claude_sessions/host/v1/host.proto: every message encoded by one is decoded by the
 * other to the same values, so the .proto stays the contract a host in another language can
 * implement.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  type ActivityReport,
  ActivitySource,
  ActivityState,
  completeUtf8Length,
  type DaemonMessage,
  decodeDaemonMessage,
  decodeHostMessage,
  decodeSpawn,
  decodeStarted,
  type ExitStatus,
  encodeDaemonMessage,
  encodeHostMessage,
  encodeSpawn,
  encodeStarted,
  FrameReader,
  type HostMessage,
  type HostSpawn,
  MAX_FRAME_BYTES,
  WireError,
} from "../../daemon/host/host-wire.js";
import {
  DaemonMessageSchema,
  HostMessageSchema,
  HostSpawnSchema,
  HostStartedSchema,
} from "../../gen/claude_sessions/host/v1/host_pb.js";

/** The message inside a frame, checking the frame's length prefix. */
function body(frame: Buffer): Uint8Array {
  assert.equal(frame.readUInt32BE(0), frame.length - 4);
  return frame.subarray(4);
}

function framed(bytes: Uint8Array): Buffer {
  const out = Buffer.alloc(4 + bytes.length);
  out.writeUInt32BE(bytes.length, 0);
  out.set(bytes, 4);
  return out;
}

const spawn: HostSpawn = {
  protocolVersion: 1,
  daemonVersion: "0.1.0",
  sessionId: "0d6f1a52-3c1e-4b8e-9a57-2f4c8e1b7a90",
  socketPath: "/tmp/h/run/x.sock",
  logPath: "/tmp/h/logs/x.jsonl",
  lastSeq: 2 ** 40 + 3,
  exitPath: "/tmp/h/run/x.exit",
  key: Uint8Array.from([0, 1, 2, 255]),
  file: "/bin/bash",
  args: ["-c", "", "écho ✓"],
  workingDir: "/work",
  env: { PATH: "/usr/bin", EMPTY: "", "KEY=ODD": "v" },
  cols: 120,
  rows: 40,
  startEvent: "started: bash -c",
  hooksDir: "/tmp/h/run/x.hooks",
  claudeStatusDir: "/home/u/.claude/sessions",
  maxMemoryBytes: 100 * 1024 * 1024,
  onLimit: 3,
  nice: -5,
  maxLogBytes: 5 * 1024 * 1024,
};

const activity: ActivityReport = {
  state: ActivityState.waiting,
  detail: "permission: Edit src/app.ts",
  since: "2026-12-02T10:00:00.123Z",
  foregroundCommand: "claude",
  source: ActivitySource.hook,
  conversations: [
    { id: "0d6f1a52-3c1e-4b8e-9a57-2f4c8e1b7a90", source: "startup" },
    { id: "9d66c045-820d-4e16-b1e2-f2696f191c90", source: "clear" },
  ],
};

const exit: ExitStatus = {
  exitCode: -1,
  signal: 15,
  reason: 2,
  endedAt: "2026-12-02T10:00:00.000Z",
  lastSeq: 77,
  event: "stopped by request (killed by SIGTERM)",
  limitEvent: "",
  restart: false,
};

describe("host protocol codec", () => {
  it("HostSpawn: ours decodes to the schema's values, and back", () => {
    const theirs = fromBinary(HostSpawnSchema, body(encodeSpawn(spawn)));
    assert.equal(theirs.sessionId, spawn.sessionId);
    assert.equal(theirs.lastSeq, BigInt(spawn.lastSeq));
    assert.deepEqual([...theirs.key], [...spawn.key]);
    assert.deepEqual(theirs.args, spawn.args);
    assert.deepEqual(theirs.env, spawn.env);
    assert.equal(theirs.cols, 120);
    assert.equal(theirs.startEvent, spawn.startEvent);
    const back = decodeSpawn(toBinary(HostSpawnSchema, theirs));
    assert.deepEqual({ ...back, key: [...back.key] }, { ...spawn, key: [...spawn.key] });
  });

  it("HostStarted: a pid or an error", () => {
    const pid = fromBinary(HostStartedSchema, body(encodeStarted({ pid: 4242 })));
    assert.deepEqual(pid.result, { case: "pid", value: 4242 });
    const error = fromBinary(HostStartedSchema, body(encodeStarted({ error: "no such file" })));
    assert.deepEqual(error.result, { case: "error", value: "no such file" });
    assert.deepEqual(
      decodeStarted(
        toBinary(
          HostStartedSchema,
          create(HostStartedSchema, { result: { case: "pid", value: 7 } }),
        ),
      ),
      { pid: 7 },
    );
    assert.throws(() => decodeStarted(new Uint8Array()), WireError);
  });

  const daemonMessages: DaemonMessage[] = [
    {
      kind: "hello",
      hello: {
        protocolVersion: 3,
        minProtocolVersion: 1,
        daemonVersion: "9.9.9",
        key: Uint8Array.from([9, 8]),
      },
    },
    { kind: "input", data: Buffer.from("ls -l\r") },
    { kind: "resize", cols: 80, rows: 24 },
    { kind: "stop", graceMs: 5000, reason: 1 },
    { kind: "release" },
    { kind: "redraw" },
  ];
  for (const message of daemonMessages) {
    it(`DaemonMessage ${message.kind}: both ways`, () => {
      const theirs = fromBinary(DaemonMessageSchema, body(encodeDaemonMessage(message)));
      assert.equal(theirs.message.case, message.kind);
      const back = decodeDaemonMessage(toBinary(DaemonMessageSchema, theirs));
      assert.deepEqual(normalize(back), normalize(message));
    });
  }

  const hostMessages: HostMessage[] = [
    {
      kind: "welcome",
      welcome: {
        protocolVersion: 1,
        hostVersion: "0.1.0",
        hostPid: 100,
        pid: 101,
        cols: 80,
        rows: 24,
        lastSeq: 10,
        writtenSeq: 8,
        exit,
        inputTaken: 12,
        startedAt: "2026-12-02T09:00:00.000Z",
        activity,
        firstKeptSeq: 4,
      },
    },
    {
      kind: "welcome",
      welcome: {
        protocolVersion: 1,
        hostVersion: "",
        hostPid: 0,
        pid: 0,
        cols: 0,
        rows: 0,
        lastSeq: 0,
        writtenSeq: 0,
        exit: undefined,
        inputTaken: 0,
        startedAt: "",
        activity: undefined,
        firstKeptSeq: 0,
      },
    },
    { kind: "output", data: Buffer.from("\x1b[1mhello\x1b[0m \xff", "latin1") },
    { kind: "output", data: new Uint8Array() },
    { kind: "output", data: Buffer.alloc(70_000, 0x7a) },
    {
      kind: "record",
      record: {
        seq: 11,
        time: "2026-12-02T09:00:01.000Z",
        kind: "event",
        data: "resized to 80x24",
        aligned: true,
        chars: 0,
      },
    },
    {
      kind: "record",
      record: { seq: 12, time: "t", kind: "output", data: "😀 x", aligned: false, chars: 0 },
    },
    {
      kind: "record",
      record: { seq: 13, time: "t", kind: "output", data: "", aligned: true, chars: 4 },
    },
    { kind: "output", data: Buffer.from("x"), unlogged: true },
    { kind: "written", seq: 12 },
    { kind: "usage", usage: { memoryBytes: 3 * 2 ** 30, cpuPermille: 1500, processes: 7 } },
    { kind: "usage", usage: { memoryBytes: 0, cpuPermille: 0, processes: 0 } },
    { kind: "limit", event: "memory limit: 312 MiB over 100 MiB; stopping", action: 2 },
    { kind: "logDropped", firstKeptSeq: 2 ** 35 },
    { kind: "exited", exit: { ...exit, reason: 3, limitEvent: "memory limit", restart: true } },
    { kind: "inputTaken", total: 2 ** 33 },
    { kind: "logProblem", error: "ENOSPC" },
    { kind: "logProblem", error: "" },
    { kind: "logLoss", bytes: 4096, description: "4096 bytes were not logged" },
    { kind: "exited", exit },
    { kind: "exited", exit: { ...exit, exitCode: 3, signal: 0, reason: 0 } },
    { kind: "refused", reason: "the key is not this home's" },
    { kind: "activity", activity },
    {
      kind: "activity",
      activity: {
        state: ActivityState.unknown,
        detail: "",
        since: "",
        foregroundCommand: "",
        source: ActivitySource.process,
        conversations: [],
      },
    },
  ];
  for (const message of hostMessages) {
    it(`HostMessage ${message.kind}: both ways`, () => {
      const theirs = fromBinary(HostMessageSchema, body(encodeHostMessage(message)));
      assert.equal(theirs.message.case, message.kind);
      const back = decodeHostMessage(toBinary(HostMessageSchema, theirs));
      assert.deepEqual(normalize(back), normalize(message));
    });
  }

  it("skips fields it does not know, as a newer peer may send them", () => {
    const theirs = create(DaemonMessageSchema, {
      message: { case: "resize", value: { cols: 10, rows: 5 } },
    });
    const bytes = toBinary(DaemonMessageSchema, theirs);
    // A field 15 (varint) and a field 16 (bytes) appended to the message.
    const extended = Buffer.concat([
      bytes,
      Buffer.from([0x78, 0x01, 0x82, 0x01, 0x02, 0x61, 0x62]),
    ]);
    assert.deepEqual(decodeDaemonMessage(extended), { kind: "resize", cols: 10, rows: 5 });
  });

  it("refuses what is not this protocol", () => {
    assert.throws(() => decodeHostMessage(Buffer.from([0x0a, 0x10, 0x01])), WireError);
    assert.throws(() => decodeDaemonMessage(new Uint8Array()), WireError);
    assert.throws(() => decodeHostMessage(Buffer.from([0x0b])), WireError);
  });
});

describe("frames", () => {
  it("cuts a stream into frames wherever it is split", () => {
    const frames = [
      encodeHostMessage({ kind: "written", seq: 1 }),
      encodeHostMessage({ kind: "output", data: Buffer.alloc(100_000, 0x61) }),
      encodeHostMessage({ kind: "written", seq: 2 }),
    ];
    const stream = Buffer.concat(frames);
    for (const step of [1, 3, 7, 4096, stream.length]) {
      const reader = new FrameReader();
      const got: Buffer[] = [];
      for (let offset = 0; offset < stream.length; offset += step)
        got.push(...reader.push(stream.subarray(offset, offset + step)));
      assert.deepEqual(
        got.map((frame) => decodeHostMessage(frame).kind),
        ["written", "output", "written"],
        `split every ${step} bytes`,
      );
      assert.deepEqual(decodeHostMessage(got[2] as Buffer), { kind: "written", seq: 2 });
    }
  });

  it("refuses a frame larger than the limit before reading it", () => {
    const head = Buffer.alloc(4);
    head.writeUInt32BE(MAX_FRAME_BYTES + 1, 0);
    assert.throws(() => new FrameReader().push(head), WireError);
  });

  it("a frame of the generated encoding reads as ours", () => {
    const theirs = create(HostMessageSchema, { message: { case: "written", value: { seq: 5n } } });
    const [frame] = new FrameReader().push(framed(toBinary(HostMessageSchema, theirs)));
    assert.deepEqual(decodeHostMessage(frame as Buffer), { kind: "written", seq: 5 });
  });
});

/** Byte fields as arrays, so that Buffers and Uint8Arrays compare equal. */
function normalize(value: unknown): unknown {
  if (value instanceof Uint8Array) return [...value];
  if (Array.isArray(value)) return value.map(normalize);
  if (value !== null && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, normalize(inner)]));
  return value;
}

describe("whole UTF-8 sequences", () => {
  const cases: Array<[string, number[], number]> = [
    ["ASCII", [0x61, 0x62], 2],
    ["a whole 3-byte sequence", [0x61, 0xe2, 0x82, 0xac], 4],
    ["a 3-byte sequence missing its last byte", [0x61, 0xe2, 0x82], 1],
    ["a 4-byte sequence's lead alone", [0x61, 0xf0], 1],
    ["a 4-byte sequence missing one", [0xf0, 0x9f, 0x98], 0],
    ["a whole 4-byte sequence", [0xf0, 0x9f, 0x98, 0x80], 4],
    ["stray continuation bytes", [0x80, 0x80, 0x80, 0x80, 0x80], 5],
    ["a byte that starts nothing", [0x61, 0xff], 2],
    ["C0, never a lead", [0x61, 0xc0], 2],
    ["empty", [], 0],
  ];
  for (const [what, bytes, whole] of cases) {
    it(`${what}: ${whole} of ${bytes.length}`, () => {
      assert.equal(completeUtf8Length(Uint8Array.from(bytes)), whole);
    });
  }

  it("a text cut anywhere decodes, part by part, to the same text as whole", () => {
    const text = Buffer.from("a€😀é\x1b[1mb\u{10FFFF}z", "utf8");
    for (let cut = 0; cut <= text.length; cut++) {
      const first = text.subarray(0, cut);
      const whole = completeUtf8Length(first);
      const parts = [
        first.subarray(0, whole),
        Buffer.concat([first.subarray(whole), text.subarray(cut)]),
      ];
      assert.equal(
        parts.map((part) => part.toString("utf8")).join(""),
        text.toString("utf8"),
        `cut at ${cut}`,
      );
    }
  });
});
