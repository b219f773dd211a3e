/**
 * The daemon-host protocol on the wire (proto/claude_sessions/host/v1/host.proto): its messages as
 * plain objects, their protobuf encoding, and the length-prefixed frames they travel in.
 *
 * Hand-written rather than generated because the host must stay small: loading protobuf-es's
 * runtime costs a process about 5 MB of private memory, its wire module alone 1.6 MB, and a host
 * has 10 MB in all. `test/unit/host-wire.test.ts` checks every message against the generated
 * schema in `gen/claude_sessions/host/v1/host_pb.ts`, both ways, so the .proto stays the contract.
 */

/** The protocol version this build speaks, and the oldest one it still drives. */
export const HOST_PROTOCOL_VERSION = 3;
export const MIN_HOST_PROTOCOL_VERSION = 1;
/** The largest frame either side accepts. */
export const MAX_FRAME_BYTES = 8 * 1024 * 1024;

/** Why a program was ended ({@link ExitStatus.reason}, {@link Stop}). */
export const StopReason = { none: 0, request: 1, shutdown: 2, limit: 3 } as const;
export type StopReason = (typeof StopReason)[keyof typeof StopReason];

export const RecordKind = { output: 1, event: 2 } as const;

/** What the host does when the process tree is over its memory limit; 0 means warn. */
export const LimitAction = { unspecified: 0, warn: 1, stop: 2, restart: 3 } as const;
export type LimitAction = (typeof LimitAction)[keyof typeof LimitAction];

/** What a program is doing ({@link ActivityReport.state}); 0 until something is known. */
export const ActivityState = { unknown: 0, working: 1, waiting: 2, idle: 3 } as const;
export type ActivityState = (typeof ActivityState)[keyof typeof ActivityState];

/** Which fact an activity comes from ({@link ActivityReport.source}). */
export const ActivitySource = { process: 0, hook: 1, statusFile: 2 } as const;
export type ActivitySource = (typeof ActivitySource)[keyof typeof ActivitySource];

/** One Claude Code conversation a run was in, and how it began ("startup", "clear", ...). */
export interface Conversation {
  id: string;
  source: string;
}

export interface ActivityReport {
  state: ActivityState;
  detail: string;
  /** RFC 3339 with milliseconds. */
  since: string;
  foregroundCommand: string;
  source: ActivitySource;
  conversations: Conversation[];
}

export interface ExitStatus {
  exitCode: number;
  signal: number;
  reason: StopReason;
  endedAt: string;
  lastSeq: number;
  event: string;
  /** Ended by the memory limit (protocol 3): the limit's event, and whether to resume. */
  limitEvent: string;
  restart: boolean;
}

export interface HostSpawn {
  protocolVersion: number;
  daemonVersion: string;
  sessionId: string;
  socketPath: string;
  logPath: string;
  lastSeq: number;
  exitPath: string;
  key: Uint8Array;
  file: string;
  args: string[];
  workingDir: string;
  env: Record<string, string>;
  cols: number;
  rows: number;
  startEvent: string;
  /** Claude Code only: where its hooks drop their events, and its status files' directory. */
  hooksDir: string;
  claudeStatusDir: string;
  /** The process tree's memory limit in bytes (0 none), and what to do past it. */
  maxMemoryBytes: number;
  onLimit: LimitAction;
  /** The program's niceness; 0 leaves it. */
  nice: number;
  /** The most bytes the log keeps on disk (0 no limit). */
  maxLogBytes: number;
}

export type HostStarted = { pid: number; error?: undefined } | { pid?: undefined; error: string };

export interface Hello {
  protocolVersion: number;
  minProtocolVersion: number;
  daemonVersion: string;
  key: Uint8Array;
}

export interface Welcome {
  protocolVersion: number;
  hostVersion: string;
  hostPid: number;
  pid: number;
  cols: number;
  rows: number;
  lastSeq: number;
  writtenSeq: number;
  exit: ExitStatus | undefined;
  inputTaken: number;
  startedAt: string;
  /** Protocol 2; undefined from an older host. */
  activity: ActivityReport | undefined;
  /** Protocol 3: the oldest seq the log's files hold, 0 when nothing was dropped. */
  firstKeptSeq: number;
}

/** What the program's process tree uses. */
export interface Usage {
  memoryBytes: number;
  /** CPU time since the sample before, in thousandths of one core. */
  cpuPermille: number;
  processes: number;
}

export interface WireRecord {
  seq: number;
  time: string;
  kind: "output" | "event";
  data: string;
  aligned: boolean;
  /** Set instead of `data`: the record is the next `chars` units of the Output sent's text. */
  chars: number;
}

export type DaemonMessage =
  | { kind: "hello"; hello: Hello }
  | { kind: "input"; data: Uint8Array }
  | { kind: "resize"; cols: number; rows: number }
  | { kind: "stop"; graceMs: number; reason: StopReason }
  | { kind: "release" }
  | { kind: "redraw" };

export type HostMessage =
  | { kind: "welcome"; welcome: Welcome }
  | { kind: "output"; data: Uint8Array; unlogged?: boolean }
  | { kind: "record"; record: WireRecord }
  | { kind: "written"; seq: number }
  | { kind: "inputTaken"; total: number }
  | { kind: "logProblem"; error: string }
  | { kind: "logLoss"; bytes: number; description: string }
  | { kind: "exited"; exit: ExitStatus }
  | { kind: "refused"; reason: string }
  | { kind: "activity"; activity: ActivityReport }
  | { kind: "usage"; usage: Usage }
  | { kind: "limit"; event: string; action: LimitAction }
  | { kind: "logDropped"; firstKeptSeq: number };

/** A frame that cannot be decoded: the connection is not speaking this protocol. */
export class WireError extends Error {
  override readonly name = "WireError";
}

// --- Encoding --------------------------------------------------------------------------------

const VARINT = 0;
const LENGTH = 2;

/** Builds one message: fields in order, nested messages as writers of their own. */
class Writer {
  private readonly parts: Uint8Array[] = [];
  private size = 0;

  get length(): number {
    return this.size;
  }

  private push(part: Uint8Array): void {
    this.parts.push(part);
    this.size += part.length;
  }

  private varint(value: number): void {
    this.push(Uint8Array.from(varintBytes(value)));
  }

  private tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  /** A varint field; zero (the default) is not written, as proto3 does. */
  uint(field: number, value: number): this {
    if (value !== 0) {
      this.tag(field, VARINT);
      this.varint(value);
    }
    return this;
  }

  /** A varint field written even when zero: a oneof member. */
  uintAlways(field: number, value: number): this {
    this.tag(field, VARINT);
    this.varint(value);
    return this;
  }

  /** An int32 field: a negative value is sign-extended to ten bytes, as protobuf does. */
  int32(field: number, value: number): this {
    if (value >= 0) return this.uint(field, value);
    this.tag(field, VARINT);
    const bytes: number[] = [];
    let rest = BigInt.asUintN(64, BigInt(value));
    while (rest >= 0x80n) {
      bytes.push(Number(rest & 0x7fn) | 0x80);
      rest >>= 7n;
    }
    bytes.push(Number(rest));
    this.push(Uint8Array.from(bytes));
    return this;
  }

  bool(field: number, value: boolean): this {
    return this.uint(field, value ? 1 : 0);
  }

  bytes(field: number, value: Uint8Array, always = false): this {
    if (value.length === 0 && !always) return this;
    this.tag(field, LENGTH);
    this.varint(value.length);
    this.push(value);
    return this;
  }

  string(field: number, value: string): this {
    return value === "" ? this : this.bytes(field, Buffer.from(value, "utf8"));
  }

  /** A nested message, written even when empty (a oneof member, a set message field). */
  message(field: number, value: Writer): this {
    this.tag(field, LENGTH);
    this.varint(value.length);
    for (const part of value.parts) this.push(part);
    return this;
  }

  /** The message in a frame: its length, big-endian, then the message. */
  frame(): Buffer {
    const out = Buffer.allocUnsafe(4 + this.size);
    out.writeUInt32BE(this.size, 0);
    let offset = 4;
    for (const part of this.parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }
}

function exitWriter(exit: ExitStatus): Writer {
  return new Writer()
    .int32(1, exit.exitCode)
    .uint(2, exit.signal)
    .uint(3, exit.reason)
    .string(4, exit.endedAt)
    .uint(5, exit.lastSeq)
    .string(6, exit.event)
    .string(7, exit.limitEvent)
    .bool(8, exit.restart);
}

function activityWriter(activity: ActivityReport): Writer {
  const out = new Writer()
    .uint(1, activity.state)
    .string(2, activity.detail)
    .string(3, activity.since)
    .string(4, activity.foregroundCommand)
    .uint(5, activity.source);
  for (const conversation of activity.conversations)
    out.message(6, new Writer().string(1, conversation.id).string(2, conversation.source));
  return out;
}

export function encodeSpawn(spawn: HostSpawn): Buffer {
  const out = new Writer()
    .uint(1, spawn.protocolVersion)
    .string(2, spawn.daemonVersion)
    .string(3, spawn.sessionId)
    .string(4, spawn.socketPath)
    .string(5, spawn.logPath)
    .uint(6, spawn.lastSeq)
    .string(7, spawn.exitPath)
    .bytes(8, spawn.key)
    .string(9, spawn.file);
  for (const arg of spawn.args) out.bytes(10, Buffer.from(arg, "utf8"), true);
  out.string(11, spawn.workingDir);
  for (const [key, value] of Object.entries(spawn.env))
    out.message(12, new Writer().string(1, key).string(2, value));
  return out
    .uint(13, spawn.cols)
    .uint(14, spawn.rows)
    .string(15, spawn.startEvent)
    .string(16, spawn.hooksDir)
    .string(17, spawn.claudeStatusDir)
    .uint(18, spawn.maxMemoryBytes)
    .uint(19, spawn.onLimit)
    .int32(20, spawn.nice)
    .uint(21, spawn.maxLogBytes)
    .frame();
}

export function encodeStarted(started: HostStarted): Buffer {
  const out = new Writer();
  if (started.error !== undefined) out.bytes(2, Buffer.from(started.error, "utf8"), true);
  else out.uintAlways(1, started.pid);
  return out.frame();
}

export function encodeDaemonMessage(message: DaemonMessage): Buffer {
  const out = new Writer();
  switch (message.kind) {
    case "hello": {
      const { hello } = message;
      out.message(
        1,
        new Writer()
          .uint(1, hello.protocolVersion)
          .uint(2, hello.minProtocolVersion)
          .string(3, hello.daemonVersion)
          .bytes(4, hello.key),
      );
      break;
    }
    case "input":
      out.message(2, new Writer().bytes(1, message.data));
      break;
    case "resize":
      out.message(3, new Writer().uint(1, message.cols).uint(2, message.rows));
      break;
    case "stop":
      out.message(4, new Writer().uint(1, message.graceMs).uint(2, message.reason));
      break;
    case "release":
      out.message(5, new Writer());
      break;
    case "redraw":
      out.message(6, new Writer());
      break;
  }
  return out.frame();
}

/** The bytes of a varint. */
function varintBytes(value: number): number[] {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return bytes;
}

/**
 * An Output message in its frame, built with one allocation and one copy: the host sends one
 * for every read of the terminal, the hottest path of the protocol.
 */
function encodeOutput(data: Uint8Array, unlogged = false): Buffer {
  const inner = data.length === 0 ? [] : [0x0a, ...varintBytes(data.length)];
  const tail = unlogged ? [0x10, 0x01] : [];
  const innerLength = inner.length + data.length + tail.length;
  const outer = [0x12, ...varintBytes(innerLength)];
  const frame = Buffer.allocUnsafe(4 + outer.length + innerLength);
  frame.writeUInt32BE(outer.length + innerLength, 0);
  frame.set(outer, 4);
  frame.set(inner, 4 + outer.length);
  frame.set(data, 4 + outer.length + inner.length);
  frame.set(tail, 4 + outer.length + inner.length + data.length);
  return frame;
}

export function encodeHostMessage(message: HostMessage): Buffer {
  if (message.kind === "output") return encodeOutput(message.data, message.unlogged === true);
  const out = new Writer();
  switch (message.kind) {
    case "welcome": {
      const { welcome } = message;
      const body = new Writer()
        .uint(1, welcome.protocolVersion)
        .string(2, welcome.hostVersion)
        .uint(3, welcome.hostPid)
        .uint(4, welcome.pid)
        .uint(5, welcome.cols)
        .uint(6, welcome.rows)
        .uint(7, welcome.lastSeq)
        .uint(8, welcome.writtenSeq);
      if (welcome.exit !== undefined) body.message(9, exitWriter(welcome.exit));
      body.uint(10, welcome.inputTaken).string(11, welcome.startedAt);
      if (welcome.activity !== undefined) body.message(12, activityWriter(welcome.activity));
      body.uint(13, welcome.firstKeptSeq);
      out.message(1, body);
      break;
    }
    case "record": {
      const { record } = message;
      out.message(
        3,
        new Writer()
          .uint(1, record.seq)
          .string(2, record.time)
          .uint(3, RecordKind[record.kind])
          .string(4, record.data)
          .bool(5, record.aligned)
          .uint(6, record.chars),
      );
      break;
    }
    case "written":
      out.message(4, new Writer().uint(1, message.seq));
      break;
    case "inputTaken":
      out.message(5, new Writer().uint(1, message.total));
      break;
    case "logProblem":
      out.message(6, new Writer().string(1, message.error));
      break;
    case "logLoss":
      out.message(7, new Writer().uint(1, message.bytes).string(2, message.description));
      break;
    case "exited":
      out.message(8, exitWriter(message.exit));
      break;
    case "refused":
      out.message(9, new Writer().string(1, message.reason));
      break;
    case "activity":
      out.message(10, activityWriter(message.activity));
      break;
    case "usage": {
      const { usage } = message;
      out.message(
        11,
        new Writer().uint(1, usage.memoryBytes).uint(2, usage.cpuPermille).uint(3, usage.processes),
      );
      break;
    }
    case "limit":
      out.message(12, new Writer().string(1, message.event).uint(2, message.action));
      break;
    case "logDropped":
      out.message(13, new Writer().uint(1, message.firstKeptSeq));
      break;
  }
  return out.frame();
}

// --- Decoding --------------------------------------------------------------------------------

/** Reads the fields of one message; unknown fields are skipped, as protobuf does. */
class Reader {
  private offset = 0;

  constructor(private readonly buffer: Uint8Array) {}

  /** Calls `field` for each field, with its number and a reader of its value. */
  each(field: (number: number, value: FieldValue) => void): void {
    while (this.offset < this.buffer.length) {
      const tag = this.varint();
      const number = Math.floor(tag / 8);
      const wire = tag % 8;
      if (wire === VARINT) {
        const start = this.offset;
        const value = this.varint();
        field(number, new FieldValue(value, this.buffer.subarray(start, this.offset)));
      } else if (wire === LENGTH) {
        const length = this.varint();
        const end = this.offset + length;
        if (end > this.buffer.length) throw new WireError("a field runs past its message");
        field(number, new FieldValue(0, this.buffer.subarray(this.offset, end)));
        this.offset = end;
      } else if (wire === 1) {
        this.skip(8);
      } else if (wire === 5) {
        this.skip(4);
      } else {
        throw new WireError(`wire type ${wire} is not used by this protocol`);
      }
    }
  }

  private skip(bytes: number): void {
    if (this.offset + bytes > this.buffer.length) throw new WireError("a field runs past its end");
    this.offset += bytes;
  }

  private varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const byte = this.buffer[this.offset++];
      if (byte === undefined) throw new WireError("a varint runs past its message");
      // Beyond 2^53 precision is lost; no field of this protocol gets there.
      value += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) return value;
      scale *= 0x80;
    }
    throw new WireError("a varint is longer than ten bytes");
  }
}

/** One field's value: a varint, or the bytes of a length-delimited field. */
class FieldValue {
  constructor(
    readonly number: number,
    readonly bytes: Uint8Array,
  ) {}

  get string(): string {
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.bytes.length).toString(
      "utf8",
    );
  }

  /** An int32: its low 32 bits, signed (a negative one was sign-extended to 64). */
  get int32(): number {
    let low = 0;
    for (let i = 0; i < 5 && i < this.bytes.length; i++) {
      low |= ((this.bytes[i] as number) & 0x7f) << (7 * i);
    }
    return low | 0;
  }

  get bool(): boolean {
    return this.number !== 0;
  }

  each(field: (number: number, value: FieldValue) => void): void {
    new Reader(this.bytes).each(field);
  }
}

function stopReason(value: number): StopReason {
  return value === 1 || value === 2 || value === 3 ? value : 0;
}

function limitAction(value: number): LimitAction {
  return value === 1 || value === 2 || value === 3 ? value : 0;
}

function decodeExit(value: FieldValue): ExitStatus {
  const exit: ExitStatus = {
    exitCode: 0,
    signal: 0,
    reason: 0,
    endedAt: "",
    lastSeq: 0,
    event: "",
    limitEvent: "",
    restart: false,
  };
  value.each((number, field) => {
    if (number === 1) exit.exitCode = field.int32;
    else if (number === 2) exit.signal = field.number;
    else if (number === 3) exit.reason = stopReason(field.number);
    else if (number === 4) exit.endedAt = field.string;
    else if (number === 5) exit.lastSeq = field.number;
    else if (number === 6) exit.event = field.string;
    else if (number === 7) exit.limitEvent = field.string;
    else if (number === 8) exit.restart = field.bool;
  });
  return exit;
}

function decodeActivity(value: FieldValue): ActivityReport {
  const activity: ActivityReport = {
    state: ActivityState.unknown,
    detail: "",
    since: "",
    foregroundCommand: "",
    source: ActivitySource.process,
    conversations: [],
  };
  value.each((number, field) => {
    if (number === 1)
      activity.state = field.number <= 3 ? (field.number as ActivityState) : ActivityState.unknown;
    else if (number === 2) activity.detail = field.string;
    else if (number === 3) activity.since = field.string;
    else if (number === 4) activity.foregroundCommand = field.string;
    else if (number === 5)
      activity.source = field.number <= 2 ? (field.number as ActivitySource) : 0;
    else if (number === 6) {
      const conversation: Conversation = { id: "", source: "" };
      field.each((part, text) => {
        if (part === 1) conversation.id = text.string;
        else if (part === 2) conversation.source = text.string;
      });
      activity.conversations.push(conversation);
    }
  });
  return activity;
}

export function decodeSpawn(frame: Uint8Array): HostSpawn {
  const spawn: HostSpawn = {
    protocolVersion: 0,
    daemonVersion: "",
    sessionId: "",
    socketPath: "",
    logPath: "",
    lastSeq: 0,
    exitPath: "",
    key: new Uint8Array(),
    file: "",
    args: [],
    workingDir: "",
    env: {},
    cols: 0,
    rows: 0,
    startEvent: "",
    hooksDir: "",
    claudeStatusDir: "",
    maxMemoryBytes: 0,
    onLimit: 0,
    nice: 0,
    maxLogBytes: 0,
  };
  new Reader(frame).each((number, field) => {
    switch (number) {
      case 1:
        spawn.protocolVersion = field.number;
        break;
      case 2:
        spawn.daemonVersion = field.string;
        break;
      case 3:
        spawn.sessionId = field.string;
        break;
      case 4:
        spawn.socketPath = field.string;
        break;
      case 5:
        spawn.logPath = field.string;
        break;
      case 6:
        spawn.lastSeq = field.number;
        break;
      case 7:
        spawn.exitPath = field.string;
        break;
      case 8:
        spawn.key = Uint8Array.from(field.bytes);
        break;
      case 9:
        spawn.file = field.string;
        break;
      case 10:
        spawn.args.push(field.string);
        break;
      case 11:
        spawn.workingDir = field.string;
        break;
      case 12: {
        let key = "";
        let value = "";
        field.each((entry, part) => {
          if (entry === 1) key = part.string;
          else if (entry === 2) value = part.string;
        });
        spawn.env[key] = value;
        break;
      }
      case 13:
        spawn.cols = field.number;
        break;
      case 14:
        spawn.rows = field.number;
        break;
      case 15:
        spawn.startEvent = field.string;
        break;
      case 16:
        spawn.hooksDir = field.string;
        break;
      case 17:
        spawn.claudeStatusDir = field.string;
        break;
      case 18:
        spawn.maxMemoryBytes = field.number;
        break;
      case 19:
        spawn.onLimit = limitAction(field.number);
        break;
      case 20:
        spawn.nice = field.int32;
        break;
      case 21:
        spawn.maxLogBytes = field.number;
        break;
    }
  });
  return spawn;
}

export function decodeStarted(frame: Uint8Array): HostStarted {
  let started: HostStarted | undefined;
  new Reader(frame).each((number, field) => {
    if (number === 1) started = { pid: field.number };
    else if (number === 2) started = { error: field.string };
  });
  if (started === undefined) throw new WireError("the host's answer names no pid and no error");
  return started;
}

export function decodeDaemonMessage(frame: Uint8Array): DaemonMessage {
  let message: DaemonMessage | undefined;
  new Reader(frame).each((number, field) => {
    switch (number) {
      case 1: {
        const hello: Hello = {
          protocolVersion: 0,
          minProtocolVersion: 0,
          daemonVersion: "",
          key: new Uint8Array(),
        };
        field.each((part, value) => {
          if (part === 1) hello.protocolVersion = value.number;
          else if (part === 2) hello.minProtocolVersion = value.number;
          else if (part === 3) hello.daemonVersion = value.string;
          else if (part === 4) hello.key = value.bytes;
        });
        message = { kind: "hello", hello };
        break;
      }
      case 2: {
        let data: Uint8Array = new Uint8Array();
        field.each((part, value) => {
          if (part === 1) data = value.bytes;
        });
        message = { kind: "input", data };
        break;
      }
      case 3: {
        const resize = { kind: "resize" as const, cols: 0, rows: 0 };
        field.each((part, value) => {
          if (part === 1) resize.cols = value.number;
          else if (part === 2) resize.rows = value.number;
        });
        message = resize;
        break;
      }
      case 4: {
        const stop = { kind: "stop" as const, graceMs: 0, reason: 0 as StopReason };
        field.each((part, value) => {
          if (part === 1) stop.graceMs = value.number;
          else if (part === 2) stop.reason = stopReason(value.number);
        });
        message = stop;
        break;
      }
      case 5:
        message = { kind: "release" };
        break;
      case 6:
        message = { kind: "redraw" };
        break;
    }
  });
  if (message === undefined) throw new WireError("a daemon message of no known kind");
  return message;
}

export function decodeHostMessage(frame: Uint8Array): HostMessage {
  let message: HostMessage | undefined;
  new Reader(frame).each((number, field) => {
    switch (number) {
      case 1: {
        const welcome: Welcome = {
          protocolVersion: 0,
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
        };
        field.each((part, value) => {
          if (part === 1) welcome.protocolVersion = value.number;
          else if (part === 2) welcome.hostVersion = value.string;
          else if (part === 3) welcome.hostPid = value.number;
          else if (part === 4) welcome.pid = value.number;
          else if (part === 5) welcome.cols = value.number;
          else if (part === 6) welcome.rows = value.number;
          else if (part === 7) welcome.lastSeq = value.number;
          else if (part === 8) welcome.writtenSeq = value.number;
          else if (part === 9) welcome.exit = decodeExit(value);
          else if (part === 10) welcome.inputTaken = value.number;
          else if (part === 11) welcome.startedAt = value.string;
          else if (part === 12) welcome.activity = decodeActivity(value);
          else if (part === 13) welcome.firstKeptSeq = value.number;
        });
        message = { kind: "welcome", welcome };
        break;
      }
      case 2: {
        let data: Uint8Array = new Uint8Array();
        let unlogged = false;
        field.each((part, value) => {
          if (part === 1) data = value.bytes;
          else if (part === 2) unlogged = value.bool;
        });
        message = unlogged ? { kind: "output", data, unlogged } : { kind: "output", data };
        break;
      }
      case 3: {
        const record: WireRecord = {
          seq: 0,
          time: "",
          kind: "output",
          data: "",
          aligned: false,
          chars: 0,
        };
        field.each((part, value) => {
          if (part === 1) record.seq = value.number;
          else if (part === 2) record.time = value.string;
          else if (part === 3) record.kind = value.number === RecordKind.event ? "event" : "output";
          else if (part === 4) record.data = value.string;
          else if (part === 5) record.aligned = value.bool;
          else if (part === 6) record.chars = value.number;
        });
        message = { kind: "record", record };
        break;
      }
      case 4:
      case 5: {
        let value_ = 0;
        field.each((part, value) => {
          if (part === 1) value_ = value.number;
        });
        message =
          number === 4 ? { kind: "written", seq: value_ } : { kind: "inputTaken", total: value_ };
        break;
      }
      case 6: {
        let error = "";
        field.each((part, value) => {
          if (part === 1) error = value.string;
        });
        message = { kind: "logProblem", error };
        break;
      }
      case 7: {
        const loss = { kind: "logLoss" as const, bytes: 0, description: "" };
        field.each((part, value) => {
          if (part === 1) loss.bytes = value.number;
          else if (part === 2) loss.description = value.string;
        });
        message = loss;
        break;
      }
      case 8:
        message = { kind: "exited", exit: decodeExit(field) };
        break;
      case 9: {
        let reason = "";
        field.each((part, value) => {
          if (part === 1) reason = value.string;
        });
        message = { kind: "refused", reason };
        break;
      }
      case 10:
        message = { kind: "activity", activity: decodeActivity(field) };
        break;
      case 11: {
        const usage: Usage = { memoryBytes: 0, cpuPermille: 0, processes: 0 };
        field.each((part, value) => {
          if (part === 1) usage.memoryBytes = value.number;
          else if (part === 2) usage.cpuPermille = value.number;
          else if (part === 3) usage.processes = value.number;
        });
        message = { kind: "usage", usage };
        break;
      }
      case 12: {
        const limit = { kind: "limit" as const, event: "", action: 0 as LimitAction };
        field.each((part, value) => {
          if (part === 1) limit.event = value.string;
          else if (part === 2) limit.action = limitAction(value.number);
        });
        message = limit;
        break;
      }
      case 13: {
        let firstKeptSeq = 0;
        field.each((part, value) => {
          if (part === 1) firstKeptSeq = value.number;
        });
        message = { kind: "logDropped", firstKeptSeq };
        break;
      }
    }
  });
  if (message === undefined) throw new WireError("a host message of no known kind");
  return message;
}

/**
 * Cuts a byte stream into frames. A frame larger than {@link MAX_FRAME_BYTES} is an error: the
 * other side is not speaking this protocol.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  /** Adds bytes read; returns the whole frames they complete, in order. */
  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Buffer[] = [];
    while (this.buffered >= 4) {
      let head = this.chunks[0] as Buffer;
      if (head.length < 4) {
        head = Buffer.concat(this.chunks);
        this.chunks = [head];
      }
      const length = head.readUInt32BE(0);
      if (length > MAX_FRAME_BYTES)
        throw new WireError(`a frame of ${length} bytes is larger than ${MAX_FRAME_BYTES}`);
      if (this.buffered < 4 + length) break;
      if (head.length < 4 + length) {
        head = Buffer.concat(this.chunks);
        this.chunks = [head];
      }
      frames.push(head.subarray(4, 4 + length));
      const rest = head.subarray(4 + length);
      this.buffered -= 4 + length;
      if (rest.length > 0) this.chunks[0] = rest;
      else this.chunks.shift();
    }
    return frames;
  }
}

/**
 * How much of `data` is whole UTF-8 sequences: all of it, or up to an incomplete sequence at its
 * end (at most 3 bytes), which the next read completes. Bytes that cannot start or continue a
 * sequence count as whole: they decode to U+FFFD wherever they are cut.
 */
export function completeUtf8Length(data: Uint8Array): number {
  const length = data.length;
  for (let back = 1; back <= 4 && back <= length; back++) {
    const byte = data[length - back] as number;
    if ((byte & 0xc0) === 0x80) continue;
    const needed = byte >= 0xf0 && byte <= 0xf4 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc2 ? 2 : 1;
    return byte >= 0xf5 || needed <= back ? length : length - back;
  }
  return length;
}
