/**
 * A session's life on fakes of its pty, log and screen (no process, no PTY): its states, a stop
 * with its grace, an exit, the attach policy, and which changes are persisted and which only
 * told.
 */
import assert from "node:assert/strict";
import { constants } from "node:os";
import { describe, it } from "node:test";
import { setImmediate as nextTurn } from "node:timers/promises";
import type { LogRecord } from "../../daemon/log/log-record.js";
import type { SessionLogOptions } from "../../daemon/log/session-log.js";
import { Session, type SessionChange } from "../../daemon/session/session.js";
import type {
  SessionLogReader,
  SessionOutputLog,
  SessionParts,
  SessionPty,
  SessionScreen,
} from "../../daemon/session/session-parts.js";
import type { SessionRecord } from "../../daemon/session/session-record.js";
import type { PtyExit, PtySpawnOptions } from "../../daemon/terminal/pty-process.js";
import type { AttachmentSink } from "../../daemon/terminal/terminal-attachment.js";

const ID = "0d6f1a52-3c1e-4b8e-9a57-2f4c8e1b7a90";

/** A program that exits when sent one of `diesOn`, killed by it; a hang-up is its SIGHUP. */
class FakePty implements SessionPty {
  static nextPid = 1000;
  readonly pid = FakePty.nextPid++;
  readonly written: string[] = [];
  readonly resized: Array<[number, number]> = [];
  readonly signals: NodeJS.Signals[] = [];
  leftoversKilled = 0;
  private exited = false;
  pendingInput = 0;
  takesInput = true;
  private readonly dataListeners: Array<(data: Buffer) => void> = [];
  private readonly exitListeners: Array<(exit: PtyExit) => void> = [];

  constructor(
    readonly options: PtySpawnOptions,
    private readonly diesOn: ReadonlySet<NodeJS.Signals>,
  ) {}

  onData(listener: (data: Buffer) => void): void {
    this.dataListeners.push(listener);
  }
  onExit(listener: (exit: PtyExit) => void): void {
    this.exitListeners.push(listener);
  }
  write(data: string | Buffer): void {
    this.written.push(data.toString());
  }
  resize(cols: number, rows: number): void {
    this.resized.push([cols, rows]);
  }
  waitForInputRoom(): Promise<void> {
    return Promise.resolve();
  }
  hangUp(): void {
    this.signal("SIGHUP");
  }
  signal(signal: NodeJS.Signals): void {
    this.signals.push(signal);
    if (this.diesOn.has(signal)) this.exit({ exitCode: 0, signal: constants.signals[signal] });
  }
  killLeftovers(): void {
    this.leftoversKilled += 1;
  }

  /** The program writes `text` to its terminal. */
  print(text: string): void {
    for (const listener of this.dataListeners) listener(Buffer.from(text));
  }
  /** The program exits (once: a signal to a program that has exited does nothing). */
  exit(exit: PtyExit): void {
    if (this.exited) return;
    this.exited = true;
    for (const listener of this.exitListeners) listener(exit);
  }
}

class FakeLog implements SessionOutputLog {
  readonly records: LogRecord[] = [];
  isOpen = false;
  closes = 0;

  constructor(
    readonly path: string,
    readonly options: SessionLogOptions,
  ) {}

  get lastSeq(): number {
    return this.records.length;
  }
  get events(): string[] {
    return this.records.filter((record) => record.kind === "event").map((record) => record.data);
  }
  get output(): string {
    return this.records
      .filter((record) => record.kind === "output")
      .map((record) => record.data)
      .join("");
  }
  openForAppend(): void {
    this.isOpen = true;
  }
  appendOutput(data: string): void {
    this.append("output", data);
  }
  appendEvent(data: string): void {
    this.append("event", data);
  }
  private append(kind: LogRecord["kind"], data: string): void {
    this.records.push({ seq: this.lastSeq + 1, time: new Date().toISOString(), kind, data });
  }
  async close(): Promise<void> {
    this.closes += 1;
    this.isOpen = false;
  }
  cursor(from: number): SessionLogReader {
    const records = this.records;
    let seq = from;
    return {
      get seq() {
        return seq;
      },
      async next() {
        const out = records.filter((record) => record.seq >= seq);
        seq = records.length + 1;
        return out;
      },
      async close() {},
    };
  }
  async seqAtTime(): Promise<number> {
    return 1;
  }
  async waitForNewerThan(): Promise<void> {}
}

/** A screen that is the text written to it. */
class FakeScreen implements SessionScreen {
  text = "";
  disposed = false;
  constructor(
    public cols: number,
    public rows: number,
  ) {}
  write(data: Uint8Array): void {
    this.text += Buffer.from(data).toString();
  }
  resize(cols: number, rows: number): void {
    this.cols = cols;
    this.rows = rows;
  }
  snapshot(deliver: (frame: string) => void): void {
    deliver(this.text);
  }
  async capture() {
    return { text: this.text, cols: this.cols, rows: this.rows, cursorX: 0, cursorY: 0 };
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

/** A session on fakes, with what it told its owner. */
function fakeSession(options: { diesOn?: NodeJS.Signals[] } = {}) {
  const ptys: FakePty[] = [];
  const screens: FakeScreen[] = [];
  let log: FakeLog | undefined;
  const parts: SessionParts = {
    spawn: (spawn) => {
      const pty = new FakePty(spawn, new Set(options.diesOn ?? ["SIGTERM", "SIGKILL"]));
      ptys.push(pty);
      return pty;
    },
    log: (path, _lastSeq, logOptions) => {
      log = new FakeLog(path, logOptions);
      return log;
    },
    screen: (cols, rows) => {
      const screen = new FakeScreen(cols, rows);
      screens.push(screen);
      return screen;
    },
  };
  const told = {
    persisted: 0,
    notified: [] as SessionChange[],
    /** What the log held open or closed when each change was told. */
    logOpenWhenTold: [] as boolean[],
    warnings: [] as string[],
  };
  const record: SessionRecord = {
    id: ID,
    name: "",
    workingDir: "/",
    command: ["cat"],
    state: "starting",
    pid: 0,
    createdAt: new Date().toISOString(),
    cols: 80,
    rows: 24,
    claudeCode: false,
  };
  const session = new Session(
    record,
    `/logs/${ID}.jsonl`,
    0,
    {
      persist: () => {
        told.persisted += 1;
      },
      notify: (_session, change) => {
        told.notified.push(change);
        told.logOpenWhenTold.push(log?.isOpen ?? false);
      },
      warn: (message) => told.warnings.push(message),
    },
    parts,
  );
  const launch = (event = "started"): FakePty => {
    session.launch("/bin/cat", ["cat"], { TERM: "xterm-256color" }, event);
    return ptys.at(-1) as FakePty;
  };
  return { session, told, ptys, screens, launch, log: () => log as FakeLog };
}

const SIGKILL = constants.signals.SIGKILL;

describe("Session", () => {
  it("starts running: the record has its pid, the launch is persisted, then told as started", () => {
    const { session, told, launch, log } = fakeSession();
    const pty = launch();
    assert.equal(session.state, "running");
    assert.equal(session.record.pid, pty.pid);
    assert.deepEqual([pty.options.file, pty.options.cols, pty.options.rows], ["/bin/cat", 80, 24]);
    assert.equal(pty.options.sessionId, ID);
    assert.deepEqual(told.notified, ["started"]);
    assert.equal(told.persisted, 1);
    assert.equal(log().isOpen, true);
    assert.match(log().events[0] ?? "", /^started: cat \(pid \d+, 80x24\)$/);
  });

  it("sends the program's output to the log, the screen and every attached terminal", async () => {
    const { session, launch, log, screens } = fakeSession();
    const pty = launch();
    const sink = recordingSink();
    session.attach(sink, true);
    pty.print("hello ");
    pty.print("world");
    await nextTurn();
    assert.equal(log().output, "hello world");
    assert.equal(screens[0]?.text, "hello world");
    assert.equal(sink.output, "hello world");
    assert.deepEqual(sink.screens, [""], "the screen first, then live output");
  });

  it("on its program's exit: leftovers killed, the log closed, then EXITED persisted and told", async () => {
    const { session, told, launch, log } = fakeSession();
    const pty = launch();
    let exited = false;
    const waiting = session.exited().then(() => {
      exited = true;
    });
    pty.exit({ exitCode: 3, signal: 0 });
    await waiting;
    assert.ok(exited);
    assert.equal(pty.leftoversKilled, 1);
    assert.equal(session.state, "exited");
    assert.equal(session.record.exitCode, 3);
    assert.equal(session.record.exitSignal, undefined);
    assert.equal(session.record.pid, 0);
    assert.ok(session.record.endedAt);
    assert.equal(session.isRunning, false);
    assert.equal(log().closes, 1);
    assert.equal(log().events.at(-1), "exited (exit code 3)");
    assert.deepEqual(told.notified, ["started", "exited"]);
    assert.equal(told.persisted, 2);
    assert.equal(told.logOpenWhenTold.at(-1), false, "the log is closed before anyone is told");
    await session.exited();
  });

  it("a program killed by a signal has that signal and no exit code", async () => {
    const { session, launch, log } = fakeSession();
    launch().exit({ exitCode: 0, signal: SIGKILL });
    await session.exited();
    assert.equal(session.record.exitSignal, "SIGKILL");
    assert.equal(session.record.exitCode, undefined);
    assert.equal(log().events.at(-1), "exited (killed by SIGKILL)");
  });

  it("stop hangs up the terminal first: a shell that ends on it is STOPPED by SIGHUP, no SIGKILL", async () => {
    const { session, launch, log } = fakeSession({ diesOn: ["SIGHUP", "SIGKILL"] });
    const pty = launch();
    await session.stop(60_000);
    assert.equal(pty.signals[0], "SIGHUP", "the hang-up before any other signal");
    assert.ok(!pty.signals.includes("SIGKILL"), pty.signals.join());
    assert.equal(session.state, "stopped");
    assert.equal(session.record.exitSignal, "SIGHUP");
    assert.equal(log().events.at(-1), "stopped by request (killed by SIGHUP)");
  });

  it("stop sends SIGTERM after the hang-up and no SIGKILL to a program that ends on it: STOPPED", async () => {
    const { session, launch, log } = fakeSession({ diesOn: ["SIGTERM", "SIGKILL"] });
    const pty = launch();
    await session.stop(60_000);
    assert.deepEqual(pty.signals, ["SIGHUP", "SIGTERM"]);
    assert.equal(session.state, "stopped");
    assert.equal(session.record.exitSignal, "SIGTERM");
    assert.equal(log().events.at(-1), "stopped by request (killed by SIGTERM)");
  });

  it("stop sends SIGKILL once the grace is over to a program that ignores SIGHUP and SIGTERM", async () => {
    const { session, launch } = fakeSession({ diesOn: ["SIGKILL"] });
    const pty = launch();
    await session.stop(1);
    assert.deepEqual(pty.signals, ["SIGHUP", "SIGTERM", "SIGKILL"]);
    assert.equal(session.state, "stopped");
    assert.equal(session.record.exitSignal, "SIGKILL");
  });

  it("stop with no grace sends SIGKILL alone", async () => {
    const { session, launch } = fakeSession();
    const pty = launch();
    await session.stop(0);
    assert.deepEqual(pty.signals, ["SIGKILL"]);
    assert.equal(session.state, "stopped");
  });

  it("a stop for the daemon's shutdown leaves the session INTERRUPTED, saying why", async () => {
    const { session, launch, log } = fakeSession();
    launch();
    await session.stop(60_000, "shutdown");
    assert.equal(session.state, "interrupted");
    assert.equal(
      session.record.failureReason,
      "the daemon shut down while the session was running",
    );
    assert.match(log().events.at(-1) ?? "", /^interrupted by daemon shutdown/);
  });

  it("the first reason to stop is the one recorded", async () => {
    const { session, launch } = fakeSession({ diesOn: ["SIGKILL"] });
    launch();
    const first = session.stop(1, "request");
    await session.stop(1, "shutdown");
    await first;
    assert.equal(session.state, "stopped");
  });

  it("an ended session is not signalled, takes no input and resizes no terminal", async () => {
    const { session, launch } = fakeSession();
    const pty = launch();
    session.write("before");
    pty.exit({ exitCode: 0, signal: 0 });
    await session.exited();
    await session.stop(0);
    session.write("after");
    session.resize(100, 40);
    assert.deepEqual(pty.signals, []);
    assert.deepEqual(pty.written, ["before"]);
    assert.deepEqual(pty.resized, []);
    assert.equal(session.takesInput, true);
    assert.equal(session.pendingInput, 0);
  });

  it("attaching and detaching are told, never persisted", () => {
    const { session, told, launch } = fakeSession();
    launch();
    const persisted = told.persisted;
    const attachments = [
      session.attach(recordingSink(), false),
      session.attach(recordingSink(), true),
    ];
    assert.equal(session.attachedClients, 2);
    for (const attachment of attachments)
      session.detach(attachment as NonNullable<typeof attachment>);
    assert.equal(session.attachedClients, 0);
    assert.deepEqual(told.notified, ["started", "state", "state", "state", "state"]);
    assert.equal(told.persisted, persisted);
  });

  it("refuses to attach a terminal to a session that is not running", async () => {
    const { session, launch } = fakeSession();
    assert.equal(session.attach(recordingSink(), false), undefined, "never started");
    launch().exit({ exitCode: 0, signal: 0 });
    await session.exited();
    assert.equal(session.attach(recordingSink(), false), undefined, "ended");
  });

  it("the latest interactive client's size wins; a read-only client's never applies", () => {
    const { session, told, launch, screens } = fakeSession();
    const pty = launch();
    const persisted = told.persisted;
    session.attach(recordingSink(), false, { cols: 100, rows: 30 });
    session.attach(recordingSink(), true, { cols: 50, rows: 10 });
    session.attach(recordingSink(), false, { cols: 120, rows: 40 });
    assert.deepEqual(pty.resized, [
      [100, 30],
      [120, 40],
    ]);
    session.resize(90, 25);
    session.resize(90, 25);
    assert.deepEqual(pty.resized.at(-1), [90, 25]);
    assert.equal(pty.resized.length, 3, "the same size again changes nothing");
    assert.deepEqual([screens[0]?.cols, screens[0]?.rows], [90, 25]);
    assert.deepEqual([session.record.cols, session.record.rows], [90, 25]);
    assert.equal(told.persisted, persisted, "a size is written with the next change that is");
  });

  it("at the end of a run lets go of its terminals: none counts, and none gets the next run's output", async () => {
    const { session, launch } = fakeSession();
    const pty = launch();
    const sink = recordingSink();
    session.attach(sink, false);
    pty.print("first run");
    pty.exit({ exitCode: 0, signal: 0 });
    await session.exited();
    assert.equal(session.attachedClients, 0);
    const next = launch("resumed");
    next.print("second run");
    await nextTurn();
    assert.equal(sink.output, "first run");
  });

  it("a session that could not start is FAILED, persisted, with its log closed", () => {
    const { session, told, log } = fakeSession();
    log().openForAppend();
    session.fail("no such file");
    assert.equal(session.state, "failed");
    assert.equal(session.record.failureReason, "no such file");
    assert.deepEqual(told.notified, ["state"]);
    assert.equal(told.persisted, 1);
    assert.equal(log().events.at(-1), "failed to start: no such file");
    assert.equal(log().closes, 1);
  });

  it("a log that cannot be written is warned about, persisted and told", () => {
    const { session, told, log } = fakeSession();
    log().options.onError?.("cannot write: ENOSPC");
    assert.equal(session.logError, "cannot write: ENOSPC");
    assert.deepEqual(told.warnings, [`session ${ID}: cannot write: ENOSPC`]);
    assert.deepEqual(told.notified, ["state"]);
    assert.equal(told.persisted, 1);
  });

  it("a session the daemon died under is marked INTERRUPTED and its log says why", async () => {
    const { session, told, log } = fakeSession();
    await session.markInterrupted("the daemon died");
    assert.equal(session.state, "interrupted");
    assert.equal(session.record.failureReason, "the daemon died");
    assert.deepEqual(log().events, ["interrupted: the daemon died"]);
    assert.equal(told.persisted, 1);
  });

  it("captures a screen rebuilt from its log when it has none in memory", async () => {
    const { session, log } = fakeSession();
    log().appendOutput("from the log");
    const screen = await session.capture({ escapes: false, scrollback: false });
    assert.equal(screen.text, "from the log");
  });
});
