/**
 * A session's life on fakes of its host, log and screen (no process, no PTY, no socket): what a
 * launch asks of its host, output to the screen and the attached terminals, the screen rebuilt
 * on a reconnect, checkpoints, an exit or a lost host as the record tells it, a stop, the attach
 * policy, and which changes are persisted and which only told. The signals a stop sends are the
 * host's, and are tested with real programs in the integration tests.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { constants } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setImmediate as nextTurn } from "node:timers/promises";
import { Deferred, Notifier } from "../../daemon/common/async.js";
import type { HostListener } from "../../daemon/host/host-client.js";
import { type ExitStatus, StopReason, type Welcome } from "../../daemon/host/host-wire.js";
import { encodeRecord, type LogKind, type LogRecord } from "../../daemon/log/log-record.js";
import type { SessionLogOptions } from "../../daemon/log/session-log.js";
import type { ScreenCheckpoint } from "../../daemon/session/screen-checkpoint.js";
import { Session } from "../../daemon/session/session.js";
import type {
  SessionLogReader,
  SessionOutputLog,
  SessionParts,
  SessionPty,
  SessionScreen,
} from "../../daemon/session/session-parts.js";
import type { SessionRecord } from "../../daemon/session/session-record.js";
import type { AttachmentSink } from "../../daemon/terminal/terminal-attachment.js";

const ID = "0d6f1a52-3c1e-4b8e-9a57-2f4c8e1b7a90";
const HOST_PID = 4242;
const TIME = "2026-01-01T00:00:00.000Z";
const MiB = 1024 * 1024;
/** How many records rebuild a screen whose replay is over its budget (session.ts). */
const REBUILD_RECORDS = 64;
/** What clears a terminal's screen. */
const CLEAR = "\x1b[2J";

function logRecord(seq: number, kind: LogKind, data: string): LogRecord {
  return { seq, time: TIME, kind, data };
}

/** Output records `first`..`last`, each holding `data(seq)`. */
function outputs(first: number, last: number, data: (seq: number) => string = String): LogRecord[] {
  return Array.from({ length: last - first + 1 }, (_, i) =>
    logRecord(first + i, "output", data(first + i)),
  );
}

/** A welcome as a host gives it; by default from a host whose log has no record yet. */
function welcomeOf(fields: Partial<Welcome>): Welcome {
  return {
    protocolVersion: 1,
    hostVersion: "test",
    hostPid: HOST_PID,
    pid: 1000,
    cols: 80,
    rows: 24,
    lastSeq: 0,
    writtenSeq: 0,
    exit: undefined,
    inputTaken: 0,
    startedAt: TIME,
    activity: undefined,
    firstKeptSeq: 0,
    ...fields,
  };
}

/**
 * A session's host as the daemon's connection to it shows it: what it said in its welcome, what
 * it is sent, and what it tells (output, records, the exit, or that it is gone).
 */
class FakeHost implements SessionPty {
  readonly inputs: string[] = [];
  readonly resizes: Array<[number, number]> = [];
  readonly stops: Array<[number, StopReason]> = [];
  redraws = 0;
  released = false;
  closed = false;
  /** What a release waits for: the host process ending. */
  ended: Promise<void> = Promise.resolve();
  pendingInput = 0;
  takesInput = true;
  private listener: HostListener | undefined;
  /** The newest record's seq it has sealed. */
  private seq: number;

  constructor(
    readonly welcome: Welcome,
    /** The records it sends right after its welcome: those its log file does not hold yet. */
    private readonly withWelcome: readonly LogRecord[] = [],
  ) {
    this.seq = welcome.lastSeq;
  }

  get pid(): number {
    return this.welcome.pid;
  }

  listen(listener: HostListener): void {
    this.listener = listener;
    for (const record of this.withWelcome) listener.record(record, true);
    if (this.welcome.exit !== undefined) listener.exited(this.welcome.exit);
  }
  write(data: string | Buffer): void {
    this.inputs.push(data.toString());
  }
  resize(cols: number, rows: number): void {
    this.resizes.push([cols, rows]);
  }
  waitForInputRoom(): Promise<void> {
    return Promise.resolve();
  }
  stop(graceMs: number, reason: StopReason): void {
    this.stops.push([graceMs, reason]);
  }
  redraw(): void {
    this.redraws += 1;
  }
  release(): Promise<void> {
    this.released = true;
    this.closed = true;
    return this.ended;
  }
  close(): void {
    this.closed = true;
  }

  private get session(): HostListener {
    if (this.listener === undefined) throw new Error("the session does not listen to its host");
    return this.listener;
  }

  /** Output as the host reads it from the terminal. */
  output(text: string): void {
    this.session.output(Buffer.from(text));
  }
  /** The next record, as the host seals it. */
  record(kind: LogKind, data: string, aligned = true): LogRecord {
    this.seq += 1;
    const record = logRecord(this.seq, kind, data);
    this.session.record(record, aligned);
    return record;
  }
  /** A record of those before its welcome that comes after the first ones (seq <= lastSeq). */
  late(record: LogRecord): void {
    this.session.record(record, true);
  }
  /** The program prints `text`: the output, then the record the host seals it in. */
  print(text: string, aligned = true): LogRecord {
    this.output(text);
    return this.record("output", text, aligned);
  }
  written(seq: number): void {
    this.session.written(seq);
  }
  logProblem(error: string | undefined): void {
    this.session.logProblem(error);
  }
  logLoss(bytes: number, description: string): void {
    this.session.logLoss(bytes, description);
  }
  /** The program has ended: the host logs how, closes the log and says so. */
  exit(fields: Partial<ExitStatus> = {}): ExitStatus {
    const event = fields.event ?? "exited (exit code 0)";
    this.record("event", event);
    const exit: ExitStatus = {
      exitCode: 0,
      signal: 0,
      reason: StopReason.none,
      endedAt: TIME,
      lastSeq: this.seq,
      event,
      limitEvent: "",
      restart: false,
      ...fields,
    };
    this.session.exited(exit);
    return exit;
  }
  /** The connection ended with no exit. */
  lose(reason = "its session host ended unexpectedly"): void {
    this.session.lost(reason);
  }
}

/**
 * A log that mirrors its host in memory: the records its file held when the session was made,
 * then those received from the host and those the daemon appends.
 */
class FakeLog implements SessionOutputLog {
  readonly records: LogRecord[];
  /** The seqs the host said are in the file. */
  readonly confirmed: number[] = [];
  /** The file's last seq each stopMirroring was given. */
  readonly mirrorStops: number[] = [];
  /** The written seq the last startMirroring was given. */
  mirroredFrom: number | undefined;
  appending = false;
  mirroring = false;
  closes = 0;
  /** Set to make openForAppend throw it. */
  openError: Error | undefined;
  private readonly newer = new Notifier();

  constructor(
    readonly path: string,
    private readonly firstLastSeq: number,
    readonly options: SessionLogOptions,
    records: readonly LogRecord[],
  ) {
    this.records = [...records];
  }

  get lastSeq(): number {
    return this.records.at(-1)?.seq ?? this.firstLastSeq;
  }
  get isOpen(): boolean {
    return this.appending || this.mirroring;
  }
  get events(): string[] {
    return this.records.filter((record) => record.kind === "event").map((record) => record.data);
  }
  openForAppend(): void {
    if (this.openError !== undefined) throw this.openError;
    this.appending = true;
  }
  appendEvent(data: string): LogRecord {
    const record = logRecord(this.lastSeq + 1, "event", data);
    this.records.push(record);
    this.newer.notify();
    return record;
  }
  async close(): Promise<void> {
    this.closes += 1;
    this.appending = false;
    this.newer.notify();
  }
  startMirroring(writtenSeq: number): void {
    this.mirroring = true;
    this.mirroredFrom = writtenSeq;
  }
  receive(record: LogRecord): void {
    if (record.seq !== this.lastSeq + 1)
      throw new Error(`the host sent record ${record.seq} after ${this.lastSeq}`);
    this.records.push(record);
    this.newer.notify();
  }
  confirmWritten(seq: number): void {
    this.confirmed.push(seq);
  }
  stopMirroring(fileLastSeq: number): void {
    this.mirrorStops.push(fileLastSeq);
    this.mirroring = false;
    this.newer.notify();
  }
  cursor(from: number): SessionLogReader {
    const records = this.records;
    let seq = Math.max(1, from);
    return {
      get seq() {
        return seq;
      },
      dropped: 0,
      async next(maxBytes: number) {
        const out: LogRecord[] = [];
        let bytes = 0;
        for (const record of records) {
          if (record.seq < seq) continue;
          if (out.length > 0 && bytes >= maxBytes) break;
          out.push(record);
          bytes += record.data.length;
        }
        const last = out.at(-1);
        if (last !== undefined) seq = last.seq + 1;
        return out;
      },
      async close() {},
    };
  }
  firstKeptSeq = 1;
  dropBefore(seq: number): void {
    this.firstKeptSeq = Math.max(this.firstKeptSeq, seq);
  }
  async seqAtTime(): Promise<number> {
    return 1;
  }
  waitForNewerThan(seq: number): Promise<void> {
    if (this.lastSeq > seq || !this.isOpen) return Promise.resolve();
    return this.newer.wait();
  }
}

/** A screen that is the text written to it since it was last cleared. */
class FakeScreen implements SessionScreen {
  text = "";
  /** Its size when made, then after each resize. */
  readonly sizes: Array<[number, number]>;
  disposed = false;

  constructor(
    public cols: number,
    public rows: number,
  ) {
    this.sizes = [[cols, rows]];
  }

  write(data: Uint8Array): void {
    const text = this.text + Buffer.from(data).toString();
    const cleared = text.lastIndexOf(CLEAR);
    this.text = cleared >= 0 ? text.slice(cleared + CLEAR.length) : text;
  }
  resize(cols: number, rows: number): void {
    this.cols = cols;
    this.rows = rows;
    this.sizes.push([cols, rows]);
  }
  async capture() {
    return { text: this.text, cols: this.cols, rows: this.rows, cursorX: 0, cursorY: 0 };
  }
  snapshot(deliver: (frame: string) => void): void {
    deliver(this.text);
  }
  settled(): Promise<void> {
    return Promise.resolve();
  }
  dispose(): void {
    this.disposed = true;
  }
}

/** A client stream that always has room and records what it is sent. */
function recordingSink(): AttachmentSink & { output: string; screens: string[] } {
  const sink = {
    output: "",
    screens: [] as string[],
    sendOutput(data: Uint8Array) {
      sink.output += Buffer.from(data).toString();
      return true;
    },
    sendScreen(frame: string) {
      sink.screens.push(frame);
      return true;
    },
    onDrain() {},
  };
  return sink;
}

interface FakeSessionOptions {
  /** What the record says before the session is made (by default a new session's). */
  record?: Partial<SessionRecord>;
  /** The records its log file holds. */
  records?: LogRecord[];
  /** The log's last seq, when it holds none of its records in memory. */
  lastSeq?: number;
  logPath?: string;
  /** What a host that is gone recorded of its exit. */
  recordedExit?: ExitStatus;
  /** The last checkpoint of the run, as the run directory holds it. */
  checkpoint?: ScreenCheckpoint;
  /** How many of its processes endProcesses finds and ends. */
  leftovers?: number;
  /** What hooks.saved waits for (by default nothing). */
  saved?: Promise<void>;
}

/** A session on fakes, with its parts and what it told its owner. */
function fakeSession(options: FakeSessionOptions = {}) {
  const hosts: FakeHost[] = [];
  const screens: FakeScreen[] = [];
  const spawned: Array<Parameters<SessionParts["spawn"]>[0]> = [];
  /** Whether the session's log was open when each host was started. */
  const logOpenAtSpawn: boolean[] = [];
  const checkpoints: ScreenCheckpoint[] = options.checkpoint ? [options.checkpoint] : [];
  const forgotten: string[] = [];
  let left: FakeHost | undefined;
  let nextPid = 1000;
  let log: FakeLog | undefined;
  const parts: SessionParts = {
    spawn: async (request) => {
      spawned.push(request);
      logOpenAtSpawn.push(log?.isOpen ?? false);
      const pid = nextPid++;
      // The host writes the start event first, and welcomes us with it still unwritten.
      const host = new FakeHost(
        welcomeOf({
          pid,
          cols: request.cols,
          rows: request.rows,
          lastSeq: request.lastSeq + 1,
          writtenSeq: request.lastSeq,
        }),
        [
          logRecord(
            request.lastSeq + 1,
            "event",
            `${request.startEvent} (pid ${pid}, ${request.cols}x${request.rows})`,
          ),
        ],
      );
      hosts.push(host);
      return host;
    },
    reconnect: async (sessionId) => {
      if (left === undefined) throw new Error(`session ${sessionId} has no host`);
      hosts.push(left);
      return left;
    },
    recordedExit: () => options.recordedExit,
    checkpoint: () => checkpoints.at(-1),
    saveCheckpoint: (_sessionId, checkpoint) => {
      checkpoints.push(checkpoint);
    },
    forget: (sessionId) => {
      forgotten.push(sessionId);
    },
    log: (path, lastSeq, logOptions) => {
      log = new FakeLog(path, lastSeq, logOptions, options.records ?? []);
      return log;
    },
    screen: (cols, rows) => {
      const screen = new FakeScreen(cols, rows);
      screens.push(screen);
      return screen;
    },
  };
  const told = {
    /** "persist:<state>" and "notify:<change>", in order. */
    events: [] as string[],
    /** How many terminals were attached when each change was told. */
    attached: [] as number[],
    warnings: [] as string[],
    /** The sessions endProcesses was asked to end the processes of. */
    ended: [] as string[],
  };
  const record: SessionRecord = {
    id: ID,
    name: "",
    workingDir: "/work/project",
    command: ["cat", "-u"],
    state: "starting",
    pid: 0,
    createdAt: TIME,
    cols: 80,
    rows: 24,
    claudeCode: false,
    ...options.record,
  };
  const session = new Session(
    record,
    options.logPath ?? `/nonexistent/logs/${ID}.jsonl`,
    options.records?.at(-1)?.seq ?? options.lastSeq ?? 0,
    {
      persist: (changed) => told.events.push(`persist:${changed.state}`),
      notify: (changed, change) => {
        told.events.push(`notify:${change}`);
        told.attached.push(changed.attachedClients);
      },
      warn: (message) => told.warnings.push(message),
      saved: () => options.saved ?? Promise.resolve(),
      endProcesses: (sessionId) => {
        told.ended.push(sessionId);
        return options.leftovers ?? 0;
      },
      restart: (restarted) => told.events.push(`restart:${restarted.id}`),
    },
    parts,
  );
  /** Starts the session's program; resolves with its host once the session drives it. */
  const launch = async (event = "started"): Promise<FakeHost> => {
    await session.launch("/bin/cat", ["cat", "-u"], { TERM: "xterm-256color" }, event);
    return hosts.at(-1) as FakeHost;
  };
  /** A host an earlier daemon started, for parts.reconnect to connect to. */
  const leave = (welcome: Partial<Welcome>, withWelcome: LogRecord[] = []): FakeHost => {
    left = new FakeHost(welcomeOf(welcome), withWelcome);
    return left;
  };
  return {
    session,
    parts,
    told,
    screens,
    spawned,
    logOpenAtSpawn,
    checkpoints,
    forgotten,
    launch,
    leave,
    log: () => log as FakeLog,
    screen: () => screens.at(-1) as FakeScreen,
  };
}

/** The session that an earlier daemon ran, as its record and the state file say. */
const RUNNING: Partial<SessionRecord> = { state: "running", pid: 1999, startedAt: TIME };

/** The numbers that start each record of a replay (see {@link numbered}). */
function labels(text: string): number[] {
  return [...text.matchAll(/#(\d+)#/g)].map((match) => Number(match[1]));
}

/** A 32 KiB record's data, numbered. */
function numbered(seq: number): string {
  const label = `#${seq}#`;
  return label + ".".repeat(32 * 1024 - label.length);
}

/** A promise, with whether it has resolved yet. */
function watched(promise: Promise<unknown>): { done: boolean; promise: Promise<void> } {
  const watch = {
    done: false,
    promise: promise.then(() => {
      watch.done = true;
    }),
  };
  return watch;
}

const range = (first: number, last: number) =>
  Array.from({ length: last - first + 1 }, (_, i) => first + i);

describe("Session", () => {
  describe("launch", () => {
    it("is RUNNING with the pid the host started, persisted, then told as started", async () => {
      const { session, told, launch } = fakeSession();
      const host = await launch();
      assert.equal(session.state, "running");
      assert.equal(session.isRunning, true);
      assert.equal(session.record.pid, host.pid);
      assert.equal(session.hostPid, HOST_PID);
      assert.equal(session.record.startedAt, TIME);
      assert.deepEqual(told.events, ["persist:running", "notify:started"]);
    });

    it("asks the host for the program as given, after the log's last seq, with its start event", async () => {
      const { spawned, logOpenAtSpawn, log, launch } = fakeSession({ lastSeq: 5 });
      log().openForAppend();
      await launch("resumed");
      assert.deepEqual(spawned, [
        {
          sessionId: ID,
          logPath: `/nonexistent/logs/${ID}.jsonl`,
          lastSeq: 5,
          file: "/bin/cat",
          args: ["-u"],
          workingDir: "/work/project",
          env: { TERM: "xterm-256color" },
          cols: 80,
          rows: 24,
          startEvent: "resumed: cat -u",
          claudeCode: false,
          maxMemoryBytes: 0,
          onLimit: 1,
          nice: 0,
          maxLogBytes: 0,
        },
      ]);
      assert.deepEqual(logOpenAtSpawn, [false], "the daemon's own writes are in the file first");
    });

    it("saves a blank checkpoint at the log's last seq: a next daemon replays this run whole", async () => {
      const { checkpoints, log, launch } = fakeSession({ lastSeq: 5 });
      await launch();
      assert.deepEqual(checkpoints, [{ seq: 5, cols: 80, rows: 24, frame: "" }]);
      assert.equal(log().mirroredFrom, 5, "the host's start event is its own");
      assert.equal(log().lastSeq, 6);
    });
  });

  it("sends the host's output to the screen and every attached terminal, its records to the log", async () => {
    const { session, log, screen, launch } = fakeSession();
    const host = await launch();
    const interactive = recordingSink();
    const readOnly = recordingSink();
    session.attach(interactive, false);
    session.attach(readOnly, true);
    host.print("hello ");
    host.print("world");
    host.written(3);
    await nextTurn();
    assert.equal(screen().text, "hello world");
    for (const sink of [interactive, readOnly]) {
      assert.deepEqual(sink.screens, [""], "the screen first, then live output");
      assert.equal(sink.output, "hello world");
    }
    assert.deepEqual(
      log().records.map((record) => [record.seq, record.kind, record.data]),
      [
        [1, "event", "started: cat -u (pid 1000, 80x24)"],
        [2, "output", "hello "],
        [3, "output", "world"],
      ],
    );
    assert.deepEqual(log().confirmed, [3]);
  });

  describe("reconnect", () => {
    it("draws the records sent with the welcome, waits for those still coming, then the live output", async () => {
      const { session, parts, screen, leave } = fakeSession({
        record: RUNNING,
        records: outputs(1, 2, (seq) => "ab"[seq - 1] ?? ""),
      });
      const host = leave({ lastSeq: 4, writtenSeq: 2 }, [logRecord(3, "output", "c")]);
      const reconnected = watched(session.reconnect(await parts.reconnect(ID)));
      await nextTurn();
      assert.equal(reconnected.done, false, "record 4 is still on its way");
      assert.equal(screen().text, "abc");
      host.late(logRecord(4, "output", "d"));
      host.output("live");
      await reconnected.promise;
      assert.equal(screen().text, "abcdlive", "live output after the screen it continues");
    });

    it("draws the checkpoint's frame, then the records after it; pid and size from the welcome", async () => {
      const { session, parts, told, screens, leave } = fakeSession({
        record: RUNNING,
        records: outputs(1, 4),
        checkpoint: { seq: 2, cols: 100, rows: 30, frame: "[1 and 2]" },
      });
      const host = leave({ pid: 2001, cols: 120, rows: 40, lastSeq: 4, writtenSeq: 4 });
      await session.reconnect(await parts.reconnect(ID));
      assert.equal(screens.length, 1);
      assert.equal(screens[0]?.text, "[1 and 2]34");
      assert.deepEqual(screens[0]?.sizes, [
        [100, 30],
        [120, 40],
      ]);
      assert.equal(session.state, "running");
      assert.deepEqual(
        [session.record.pid, session.record.cols, session.record.rows],
        [2001, 120, 40],
      );
      assert.equal(session.hostPid, HOST_PID);
      assert.deepEqual(told.events, ["persist:running", "notify:state"]);
      assert.equal(host.redraws, 0);
    });

    it("with no checkpoint, replays the run from its first record", async () => {
      const { session, parts, screen, leave } = fakeSession({
        record: RUNNING,
        records: [...outputs(1, 2), logRecord(3, "event", "resized to 90x30"), ...outputs(4, 4)],
      });
      leave({ cols: 90, rows: 30, lastSeq: 4, writtenSeq: 4 });
      await session.reconnect(await parts.reconnect(ID));
      assert.equal(screen().text, "124");
      assert.deepEqual(screen().sizes, [[90, 30]]);
    });

    it("past 2 MiB of records draws only the last ones, on a cleared screen, and asks for a redraw", async () => {
      const { session, parts, screen, leave } = fakeSession({
        record: RUNNING,
        records: outputs(1, 100, numbered),
      });
      const host = leave({ lastSeq: 100, writtenSeq: 100 });
      await session.reconnect(await parts.reconnect(ID));
      assert.deepEqual(labels(screen().text), range(100 - REBUILD_RECORDS + 1, 100));
      assert.equal(host.redraws, 1);
    });

    it("draws 2 MiB of records whole, with no redraw", async () => {
      const { session, parts, screen, leave } = fakeSession({
        record: RUNNING,
        records: outputs(1, 64, numbered),
      });
      const host = leave({ lastSeq: 64, writtenSeq: 64 });
      await session.reconnect(await parts.reconnect(ID));
      assert.deepEqual(labels(screen().text), range(1, 64));
      assert.equal(host.redraws, 0);
    });

    it("to a host whose program ended while no daemon listened, records that exit", async () => {
      const { session, parts, log, forgotten, leave } = fakeSession({
        record: RUNNING,
        records: [...outputs(1, 2), logRecord(3, "event", "exited (exit code 3)")],
      });
      const exit = {
        exitCode: 3,
        signal: 0,
        reason: StopReason.none,
        endedAt: TIME,
        lastSeq: 3,
        event: "exited (exit code 3)",
        limitEvent: "",
        restart: false,
      };
      const host = leave({ pid: 2001, lastSeq: 3, writtenSeq: 3, exit });
      await session.reconnect(await parts.reconnect(ID));
      await session.exited();
      assert.equal(session.state, "exited");
      assert.equal(session.record.exitCode, 3);
      assert.equal(session.record.pid, 0);
      await nextTurn();
      assert.deepEqual(log().mirrorStops, [3]);
      assert.equal(host.released, true);
      assert.deepEqual(forgotten, [ID]);
    });
  });

  describe("exit", () => {
    it("is EXITED with its code and end time; exited() resolves", async () => {
      const { session, launch } = fakeSession();
      const host = await launch();
      const exited = watched(session.exited());
      await nextTurn();
      assert.equal(exited.done, false);
      host.exit({
        exitCode: 3,
        event: "exited (exit code 3)",
        endedAt: "2026-01-01T00:01:00.000Z",
      });
      await exited.promise;
      assert.equal(session.state, "exited");
      assert.equal(session.isRunning, false);
      assert.equal(session.record.exitCode, 3);
      assert.equal(session.record.exitSignal, undefined);
      assert.equal(session.record.pid, 0);
      assert.equal(session.record.endedAt, "2026-01-01T00:01:00.000Z");
      assert.equal(session.record.failureReason, undefined);
    });

    it("by a signal has the signal's name and no exit code", async () => {
      const { session, launch } = fakeSession();
      const host = await launch();
      host.exit({ signal: constants.signals.SIGKILL, event: "exited (killed by SIGKILL)" });
      await session.exited();
      assert.equal(session.state, "exited");
      assert.equal(session.record.exitSignal, "SIGKILL");
      assert.equal(session.record.exitCode, undefined);
    });

    it("after a stop by request is STOPPED", async () => {
      const { session, launch } = fakeSession();
      const host = await launch();
      host.exit({ reason: StopReason.request, event: "stopped by request (exit code 0)" });
      await session.exited();
      assert.equal(session.state, "stopped");
      assert.equal(session.record.exitCode, 0);
      assert.equal(session.record.failureReason, undefined);
    });

    it("after a stop for a shutdown is INTERRUPTED, saying why", async () => {
      const byHost = fakeSession();
      (await byHost.launch()).exit({
        reason: StopReason.shutdown,
        signal: constants.signals.SIGTERM,
        event: "interrupted: its session host got SIGTERM",
      });
      await byHost.session.exited();
      assert.equal(byHost.session.state, "interrupted");
      assert.equal(byHost.session.record.failureReason, "its session host got SIGTERM");
      assert.equal(byHost.session.record.exitSignal, "SIGTERM");

      const byDaemon = fakeSession();
      (await byDaemon.launch()).exit({
        reason: StopReason.shutdown,
        event: "interrupted by daemon shutdown (exit code 0)",
      });
      await byDaemon.session.exited();
      assert.equal(byDaemon.session.state, "interrupted");
      assert.equal(
        byDaemon.session.record.failureReason,
        "the daemon was stopped with its sessions",
      );
    });

    it("is persisted, then told, once the run's terminals are let go of", async () => {
      const { session, told, launch } = fakeSession();
      const host = await launch();
      const sink = recordingSink();
      session.attach(sink, false);
      host.print("bye");
      await nextTurn();
      assert.equal(session.attachedClients, 1);
      host.exit();
      await session.exited();
      assert.deepEqual(told.events.slice(-2), ["persist:exited", "notify:exited"]);
      assert.equal(told.attached.at(-1), 0, "no terminal attached when the exit is told");
      assert.equal(sink.output, "bye");
    });

    it("releases the host and forgets its files only once the state file holds the exit; the run ends then", async () => {
      const saved = new Deferred<void>();
      const { session, log, forgotten, launch } = fakeSession({ saved: saved.promise });
      const host = await launch();
      const exit = host.exit();
      const ended = watched(session.exited());
      await nextTurn();
      await nextTurn();
      assert.deepEqual(log().mirrorStops, [exit.lastSeq]);
      assert.equal(session.state, "exited");
      assert.equal(host.released, false, "a next daemon would need the host's exit record");
      assert.deepEqual(forgotten, []);
      assert.equal(ended.done, false, "a resume must not find this run's host or files");
      saved.resolve();
      await session.exited();
      assert.equal(host.released, true);
      assert.deepEqual(forgotten, [ID]);
    });

    it("ends the run only once the released host has ended, so a stop leaves nothing behind", async () => {
      const { session, launch } = fakeSession();
      const host = await launch();
      const hostEnded = new Deferred<void>();
      host.ended = hostEnded.promise;
      host.exit();
      const ended = watched(session.exited());
      await nextTurn();
      await nextTurn();
      assert.equal(host.released, true);
      assert.equal(ended.done, false, "the host process still runs");
      hostEnded.resolve();
      await session.exited();
    });

    it("keeps the exit record when the state file cannot be written, and still lets the host go", async () => {
      const failed = Promise.reject(new Error("ENOSPC"));
      // Handled where the session awaits it; this only keeps Node from reporting it first.
      failed.catch(() => undefined);
      const { session, forgotten, launch } = fakeSession({ saved: failed });
      const host = await launch();
      host.exit();
      await session.exited();
      assert.equal(host.released, true);
      assert.deepEqual(forgotten, [], "a next daemon reads the exit from the record");
    });
  });

  describe("stop", () => {
    it("sends the host a Stop with the grace, and resolves only once the host reports the exit", async () => {
      const { session, launch } = fakeSession();
      const host = await launch();
      const stopping = watched(session.stop(1500));
      await nextTurn();
      assert.deepEqual(host.stops, [[1500, StopReason.request]]);
      assert.equal(stopping.done, false);
      assert.equal(session.state, "running");
      host.exit({ reason: StopReason.request, event: "stopped by request (killed by SIGHUP)" });
      await stopping.promise;
      assert.equal(session.state, "stopped");
    });

    it("for a shutdown says so to the host", async () => {
      const { session, launch } = fakeSession();
      const host = await launch();
      const stopping = session.stop(0, "shutdown");
      assert.deepEqual(host.stops, [[0, StopReason.shutdown]]);
      host.exit({ reason: StopReason.shutdown, signal: constants.signals.SIGKILL });
      await stopping;
      assert.equal(session.state, "interrupted");
    });

    it("of a session that is not running sends nothing", async () => {
      const { session, launch } = fakeSession();
      await session.stop(0);
      const host = await launch();
      host.exit();
      await session.exited();
      await session.stop(0);
      assert.deepEqual(host.stops, []);
      assert.equal(session.state, "exited");
    });
  });

  it("writes input to the host while it runs; an ended session takes none and resizes nothing", async () => {
    const { session, launch } = fakeSession();
    const host = await launch();
    session.write("before");
    host.pendingInput = 6;
    host.takesInput = false;
    assert.equal(session.pendingInput, 6);
    assert.equal(session.takesInput, false);
    host.exit();
    await session.exited();
    session.write("after");
    session.resize(100, 40);
    assert.deepEqual(host.inputs, ["before"]);
    assert.deepEqual(host.resizes, []);
    assert.equal(session.pendingInput, 0);
    assert.equal(session.takesInput, true);
  });

  describe("a lost host", () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync("/tmp/cs-session-");
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it("that recorded the exit: the run ended as recorded", async () => {
      const recordedExit = {
        exitCode: 0,
        signal: 0,
        reason: StopReason.request,
        endedAt: TIME,
        lastSeq: 3,
        event: "stopped by request (exit code 0)",
        limitEvent: "",
        restart: false,
      };
      const { session, told, log, forgotten, launch } = fakeSession({ recordedExit });
      const host = await launch();
      host.lose();
      await session.exited();
      await nextTurn();
      assert.equal(session.state, "stopped");
      assert.equal(session.record.pid, 0);
      assert.deepEqual(log().mirrorStops, [3]);
      assert.deepEqual(forgotten, [ID]);
      assert.deepEqual(told.ended, [], "its processes ended with it");
      assert.deepEqual(told.events.slice(-2), ["persist:stopped", "notify:exited"]);
    });

    it("with no exit recorded: INTERRUPTED, naming the host and the leftovers ended, and the log says so", async () => {
      const path = join(dir, `${ID}.jsonl`);
      const inFile = outputs(1, 2);
      writeFileSync(path, inFile.map(encodeRecord).join(""));
      const { session, told, log, forgotten, parts, leave } = fakeSession({
        record: RUNNING,
        records: inFile,
        logPath: path,
        leftovers: 2,
      });
      const host = leave({ lastSeq: 3, writtenSeq: 2 }, [logRecord(3, "output", "3")]);
      await session.reconnect(await parts.reconnect(ID));
      const sink = recordingSink();
      session.attach(sink, false);
      host.lose("its session host ended unexpectedly");
      await session.exited();
      const reason = `its session host ended unexpectedly (host pid ${HOST_PID}); 2 leftover process(es) ended`;
      assert.equal(session.state, "interrupted");
      assert.equal(session.record.failureReason, reason);
      assert.equal(session.record.pid, 0);
      assert.deepEqual(told.ended, [ID]);
      assert.deepEqual(log().mirrorStops, [2], "where the file ends, not the mirror");
      assert.equal(log().events.at(-1), `interrupted: ${reason}`);
      assert.equal(log().isOpen, false);
      assert.deepEqual(forgotten, [ID]);
      assert.equal(session.attachedClients, 0);
      assert.deepEqual(told.events.slice(-4), [
        "persist:interrupted",
        "notify:state",
        "persist:interrupted",
        "notify:exited",
      ]);
    });

    it("is running until its end is recorded: a stop meanwhile waits for it", async () => {
      const { session, launch } = fakeSession();
      const host = await launch();
      host.lose();
      await session.stop(0);
      assert.equal(session.state, "interrupted");
    });

    it("lets go of a terminal that attaches while the run's end is being recorded", async () => {
      const { session, launch } = fakeSession();
      const host = await launch();
      host.lose();
      session.attach(recordingSink(), false);
      await session.exited();
      assert.equal(session.state, "interrupted");
      assert.equal(session.attachedClients, 0);
    });

    it("whose log file cannot be read: the mirror ends where the log does", async () => {
      const { session, log, parts, leave } = fakeSession({
        record: RUNNING,
        records: outputs(1, 2),
        // A directory: lastSeqOf cannot read it.
        logPath: dir,
      });
      const host = leave({ lastSeq: 3, writtenSeq: 2 }, [logRecord(3, "output", "3")]);
      await session.reconnect(await parts.reconnect(ID));
      host.lose("its session host ended unexpectedly");
      await session.exited();
      assert.deepEqual(log().mirrorStops, [3]);
      assert.equal(
        session.record.failureReason,
        `its session host ended unexpectedly (host pid ${HOST_PID})`,
      );
    });
  });

  describe("checkpoint", () => {
    it("is saved at an aligned record after 1 MiB of output: its seq and the screen's frame", async () => {
      const { checkpoints, screen, launch } = fakeSession();
      const host = await launch();
      const sealed = host.print(`${"x".repeat(MiB - 3)}end`);
      await nextTurn();
      assert.equal(checkpoints.length, 2);
      const saved = checkpoints.at(-1) as ScreenCheckpoint;
      assert.deepEqual([saved.seq, saved.cols, saved.rows], [sealed.seq, 80, 24]);
      assert.ok(saved.frame === screen().text, "the frame is the screen as it is");
      assert.equal(saved.frame.length, MiB);
    });

    it("is not saved at an unaligned record: the next aligned one saves it", async () => {
      const { checkpoints, launch } = fakeSession();
      const host = await launch();
      host.print("x".repeat(MiB), false);
      await nextTurn();
      assert.equal(checkpoints.length, 1, "only the blank one of the launch");
      const sealed = host.record("event", "resized to 100x30");
      await nextTurn();
      assert.equal(checkpoints.length, 2);
      assert.equal(checkpoints.at(-1)?.seq, sealed.seq);
    });

    it("is not saved before 1 MiB of output", async () => {
      const { checkpoints, launch } = fakeSession();
      const host = await launch();
      host.print("x".repeat(MiB - 1));
      await nextTurn();
      assert.equal(checkpoints.length, 1);
      const sealed = host.print("y");
      await nextTurn();
      assert.equal(checkpoints.length, 2);
      assert.equal(checkpoints.at(-1)?.seq, sealed.seq);
    });

    it("letGo saves the screen output changed, lets go of the host and its terminals, and leaves it RUNNING", async () => {
      const { session, told, checkpoints, launch } = fakeSession();
      const host = await launch();
      session.attach(recordingSink(), false);
      const sealed = host.print("hello");
      await nextTurn();
      assert.equal(checkpoints.length, 1);
      const events = told.events.length;
      await session.letGo();
      assert.deepEqual(checkpoints.at(-1), { seq: sealed.seq, cols: 80, rows: 24, frame: "hello" });
      assert.equal(host.closed, true);
      assert.equal(host.released, false, "its program runs on");
      assert.equal(session.state, "running");
      assert.equal(session.record.pid, host.pid);
      assert.equal(session.attachedClients, 0);
      assert.equal(told.events.length, events, "nothing to persist: the next daemon takes it over");
    });

    it("letGo saves none when no output came since the last one", async () => {
      const { session, checkpoints, launch } = fakeSession();
      const host = await launch();
      host.print("x".repeat(MiB));
      await nextTurn();
      host.record("event", "resized to 100x30");
      assert.equal(checkpoints.length, 2);
      await session.letGo();
      assert.equal(checkpoints.length, 2);
      assert.equal(host.closed, true);
    });

    it("letGo saves none while the screen shows output that no aligned record ends", async () => {
      const { session, checkpoints, launch } = fakeSession();
      const host = await launch();
      host.print("hello");
      host.output(" wor");
      await session.letGo();
      assert.deepEqual(checkpoints, [{ seq: 0, cols: 80, rows: 24, frame: "" }]);
      assert.equal(host.closed, true);
    });
  });

  describe("attach", () => {
    it("attaching and detaching are told, never persisted", async () => {
      const { session, told, launch } = fakeSession();
      await launch();
      const events = told.events.length;
      const attachments = [
        session.attach(recordingSink(), false),
        session.attach(recordingSink(), true),
      ];
      assert.equal(session.attachedClients, 2);
      for (const attachment of attachments) {
        assert.ok(attachment);
        session.detach(attachment);
      }
      assert.equal(session.attachedClients, 0);
      assert.deepEqual(told.events.slice(events), [
        "notify:state",
        "notify:state",
        "notify:state",
        "notify:state",
      ]);
    });

    it("the latest interactive client's size wins; a read-only client's never applies", async () => {
      const { session, told, screen, launch } = fakeSession();
      const host = await launch();
      session.attach(recordingSink(), false, { cols: 100, rows: 30 });
      session.attach(recordingSink(), true, { cols: 50, rows: 10 });
      session.attach(recordingSink(), false, { cols: 120, rows: 40 });
      assert.deepEqual(host.resizes, [
        [100, 30],
        [120, 40],
      ]);
      session.resize(90, 25);
      session.resize(90, 25);
      assert.deepEqual(host.resizes.at(-1), [90, 25]);
      assert.equal(host.resizes.length, 3, "the same size again changes nothing");
      assert.deepEqual([screen().cols, screen().rows], [90, 25]);
      assert.deepEqual([session.record.cols, session.record.rows], [90, 25]);
      assert.ok(
        !told.events.slice(2).some((event) => event.startsWith("persist")),
        "a size is written with the next change that is",
      );
    });

    it("is refused to a session that is not running", async () => {
      const { session, launch } = fakeSession();
      assert.equal(session.attach(recordingSink(), false), undefined, "never started");
      (await launch()).exit();
      await session.exited();
      assert.equal(session.attach(recordingSink(), false), undefined, "ended");
    });

    it("ends with the run: no terminal counts, and none gets the next run's output", async () => {
      const { session, launch } = fakeSession();
      const host = await launch();
      const sink = recordingSink();
      session.attach(sink, false);
      host.print("first run");
      await nextTurn();
      host.exit();
      await session.exited();
      assert.equal(session.attachedClients, 0);
      const next = await launch("resumed");
      next.print("second run");
      await nextTurn();
      assert.equal(sink.output, "first run");
    });
  });

  it("a session that could not start is FAILED, persisted, with its log saying why and closed", () => {
    const { session, told, log } = fakeSession();
    log().openForAppend();
    session.fail("no such file");
    assert.equal(session.state, "failed");
    assert.equal(session.record.failureReason, "no such file");
    assert.equal(session.record.pid, 0);
    assert.ok(session.record.endedAt);
    assert.deepEqual(told.events, ["persist:failed", "notify:state"]);
    assert.deepEqual(log().events, ["failed to start: no such file"]);
    assert.equal(log().closes, 1);
    assert.equal(log().isOpen, false);
  });

  it("a log that cannot be written is warned about, persisted and told, and so is its recovery", async () => {
    const { session, told, log, launch } = fakeSession();
    const host = await launch();
    host.logProblem("cannot write the log: ENOSPC");
    assert.equal(session.logError, "cannot write the log: ENOSPC");
    assert.deepEqual(told.warnings, [`session ${ID}: cannot write the log: ENOSPC`]);
    assert.deepEqual(told.events.slice(2), ["persist:running", "notify:state"]);
    host.logProblem(undefined);
    assert.equal(session.logError, undefined);
    assert.equal(told.warnings.length, 1);
    assert.deepEqual(told.events.slice(4), ["persist:running", "notify:state"]);
    // The daemon's own writes (an event it appends) are heard of the same way.
    log().options.onError?.("cannot write the daemon's event: EIO");
    assert.equal(session.logError, "cannot write the daemon's event: EIO");
    assert.equal(told.warnings.at(-1), `session ${ID}: cannot write the daemon's event: EIO`);
  });

  it("output the log lost is counted in the record, persisted and warned about", async () => {
    const { session, told, log, launch } = fakeSession();
    const host = await launch();
    host.logLoss(100, "100 bytes of output were not logged after seq 1: ENOSPC");
    log().options.onLoss?.(
      20,
      "1 record(s) of the previous run (20 bytes, seqs 2-2) were not logged",
    );
    assert.equal(session.record.logBytesLost, 120);
    assert.equal(
      session.record.logLoss,
      "1 record(s) of the previous run (20 bytes, seqs 2-2) were not logged",
    );
    assert.equal(told.warnings.length, 2);
    assert.deepEqual(told.events.slice(2), [
      "persist:running",
      "notify:state",
      "persist:running",
      "notify:state",
    ]);
  });

  it("a session the daemon died under is marked INTERRUPTED and its log says why", async () => {
    const { session, told, log } = fakeSession({ record: RUNNING, records: outputs(1, 2) });
    await session.markInterrupted("the daemon died", 2);
    assert.equal(session.state, "interrupted");
    assert.equal(session.record.failureReason, "the daemon died");
    assert.equal(session.record.pid, 0);
    assert.deepEqual(log().mirrorStops, [2]);
    assert.deepEqual(log().events, ["interrupted: the daemon died"]);
    assert.equal(log().isOpen, false);
    assert.deepEqual(told.events, ["persist:interrupted", "notify:state"]);
  });

  it("a log that cannot be opened does not keep the interruption from being recorded", async () => {
    const { session, told, log } = fakeSession({ record: RUNNING });
    log().openError = new Error("refusing to open the log: it is a symbolic link");
    await session.markInterrupted("the daemon died");
    assert.equal(session.state, "interrupted");
    assert.equal(session.logError, "refusing to open the log: it is a symbolic link");
    assert.deepEqual(told.warnings, [
      `session ${ID}: refusing to open the log: it is a symbolic link`,
    ]);
    assert.deepEqual(told.events, ["persist:interrupted", "notify:state"]);
  });

  it("captures a screen rebuilt from the end of its log when it has none in memory", async () => {
    const records = outputs(1, 70, (seq) => `[${seq}]`);
    records[68] = logRecord(69, "event", "resized to 100x30");
    const { session, screens } = fakeSession({
      record: { state: "exited", cols: 100, rows: 30 },
      records,
    });
    const screen = await session.capture({ escapes: false, scrollback: false });
    const shown = range(70 - REBUILD_RECORDS + 1, 70).filter((seq) => seq !== 69);
    assert.equal(screen.text, shown.map((seq) => `[${seq}]`).join(""));
    assert.deepEqual([screen.cols, screen.rows], [100, 30]);
    await session.capture({ escapes: false, scrollback: false });
    assert.equal(screens.length, 1, "rebuilt once");
  });
});
