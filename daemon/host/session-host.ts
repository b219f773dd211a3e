/**
 * A session host: the process that holds one session's program, so that the program outlives
 * any daemon. It owns the pseudo-terminal (node-pty) and the program's process group, writes the
 * session's log (output made while no daemon runs is logged all the same, with contiguous seqs),
 * stops the program when asked, reaps it, and records how it ended in `run/<id>.exit` before it
 * ends itself. It serves one private socket to one daemon at a time: the newest daemon that
 * presents the home's key (the instance lock makes it the only one).
 *
 * What the daemon is sent: raw output as it is read (for the screen and attached terminals),
 * each log record as it is sealed (for followers), how far the file is written, how much input
 * the terminal took, and the exit. A daemon that reads too slowly holds the program back: past
 * {@link HIGH_WATER_BYTES} unsent, the terminal is not read until the daemon catches up. With no
 * daemon connected, nothing is held back.
 */
import { timingSafeEqual } from "node:crypto";
import { chmodSync, lstatSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { setPriority } from "node:os";
import { signalName } from "../common/signal-name.js";
import { formatSize } from "../common/sizes.js";
import { VERSION } from "../common/version.js";
import type { LogRecord } from "../log/log-record.js";
import { SessionLog } from "../log/session-log.js";
import { PtyProcess } from "../terminal/pty-process.js";
import { ActivityTracker } from "./activity-tracker.js";
import { writeExitRecord } from "./exit-record.js";
import {
  completeUtf8Length,
  type DaemonMessage,
  decodeDaemonMessage,
  type ExitStatus,
  encodeHostMessage,
  FrameReader,
  type Hello,
  HOST_PROTOCOL_VERSION,
  type HostMessage,
  type HostSpawn,
  LimitAction,
  MIN_HOST_PROTOCOL_VERSION,
  StopReason,
  type Usage,
} from "./host-wire.js";
import { TreeSampler } from "./resource-usage.js";

/** Unsent bytes to a daemon past which the terminal is not read. */
const HIGH_WATER_BYTES = 4 * 1024 * 1024;
/** How long a connection may take to say Hello. */
const HELLO_TIMEOUT_MS = 5000;
/** How long a connected daemon gets to Release an exit before the host ends anyway. */
const RELEASE_TIMEOUT_MS = 10_000;
/**
 * How long a host whose program ended before any daemon connected waits for the daemon that
 * started it (it connects once the host has answered it; the program may have exited first).
 */
const FIRST_DAEMON_WAIT_MS = 10_000;
/** The host keeps only this much of the log in memory beyond what is not yet written. */
const HOST_RING_BYTES = 256 * 1024;
/** The grace a host gives its program when it is told to end (SIGTERM to the host). */
const HOST_SIGNAL_GRACE_MS = 5000;
/** How often, at most, the daemon hears how far the log file is written. */
const WRITTEN_REPORT_MS = 50;
/** Input taken without waiting is reported to the daemon once this much has gone by. */
const INPUT_REPORT_BYTES = 64 * 1024;
/** Between the two resizes of a redraw: each SIGWINCH must be seen on its own. */
const REDRAW_STEP_MS = 60;
/** How often the program's process tree is measured (and its memory limit checked). */
const USAGE_SAMPLE_MS = 1000;
/** The grace a program past its memory limit gets between SIGTERM and SIGKILL. */
const LIMIT_GRACE_MS = 3000;

export class SessionHost {
  private readonly log: SessionLog;
  private pty: PtyProcess | undefined;
  /** The incomplete UTF-8 sequence the last read ended with, if any. */
  private heldBytes: Buffer | undefined;
  private server: Server | undefined;
  private daemon: Socket | undefined;
  private cols: number;
  private rows: number;
  private startedAt = "";
  private inputReceived = 0;
  private takenSent = 0;
  private exit: ExitStatus | undefined;
  private stopReason: StopReason = StopReason.none;
  private stopEvent: string | undefined;
  /** Set when the memory limit ended the program: its event, and whether to resume it. */
  private limitEvent = "";
  private limitRestart = false;
  private sampler: TreeSampler | undefined;
  private usageTimer: NodeJS.Timeout | undefined;
  /** The last sample was past the memory limit: a warning is given once per crossing. */
  private pastLimit = false;
  private killAt = Number.POSITIVE_INFINITY;
  private killTimer: NodeJS.Timeout | undefined;
  private readingPaused = false;
  private ended = false;
  /** A daemon has been welcomed since the host started. */
  private greeted = false;
  private socketInode = -1;
  private corked = false;
  private writtenToReport = 0;
  private writtenTimer: NodeJS.Timeout | undefined;
  private activity: ActivityTracker | undefined;
  /** The protocol version spoken with the connected daemon. */
  private protocol = 0;

  constructor(private readonly spawn: HostSpawn) {
    this.cols = spawn.cols;
    this.rows = spawn.rows;
    this.log = new SessionLog(spawn.logPath, spawn.lastSeq, {
      ringBudget: HOST_RING_BYTES,
      // An output record's text is that of the Output sent before it: only its length is sent.
      onSealed: (record, aligned) =>
        this.send({
          kind: "record",
          record:
            record.kind === "output"
              ? { ...record, data: "", chars: record.data.length, aligned }
              : { ...record, chars: 0, aligned },
        }),
      onWritten: (seq) => this.written(seq),
      onError: (message) => this.send({ kind: "logProblem", error: message ?? "" }),
      onLoss: (bytes, description) => this.send({ kind: "logLoss", bytes, description }),
      maxBytes: spawn.maxLogBytes,
      onDropped: (firstKeptSeq) => {
        if (this.protocol >= 3) this.send({ kind: "logDropped", firstKeptSeq });
      },
    });
  }

  /**
   * Opens the log, binds the socket and starts the program; returns its pid. Throws, having
   * undone what it did, if any of them fails.
   */
  async start(): Promise<number> {
    const { spawn } = this;
    this.log.openForAppend();
    try {
      if (spawn.nice !== 0) setNiceness(spawn.nice);
      this.server = await listen(spawn.socketPath, (socket) => this.accept(socket));
      this.socketInode = lstatSync(spawn.socketPath).ino;
      const pty = PtyProcess.spawn({
        file: spawn.file,
        args: spawn.args,
        cwd: spawn.workingDir,
        env: spawn.env,
        cols: spawn.cols,
        rows: spawn.rows,
        sessionId: spawn.sessionId,
        onInputTaken: () => this.sendTaken(true),
      });
      this.pty = pty;
      this.startedAt = new Date().toISOString();
      this.activity = new ActivityTracker({
        pid: pty.pid,
        command: [spawn.file, ...spawn.args],
        hooksDir: spawn.hooksDir,
        claudeStatusDir: spawn.claudeStatusDir,
        onChange: (activity) => {
          if (this.protocol >= 2) this.send({ kind: "activity", activity });
        },
      });
      this.activity.start();
      this.sampler = new TreeSampler(pty.pid);
      this.usageTimer = setInterval(() => this.sampleUsage(), USAGE_SAMPLE_MS);
      this.usageTimer.unref();
      this.log.appendEvent(`${spawn.startEvent} (pid ${pty.pid}, ${spawn.cols}x${spawn.rows})`);
      pty.onData((data) => this.output(data));
      pty.onExit(({ exitCode, signal }) => void this.exited(exitCode, signal));
      return pty.pid;
    } catch (error) {
      // The daemon logs the failure: the log is as the daemon left it.
      this.activity?.stop();
      clearInterval(this.usageTimer);
      this.server?.close();
      rmSync(spawn.socketPath, { force: true });
      await this.log.close();
      throw error;
    }
  }

  /** Ends the program as a daemon shutting down its sessions would (SIGTERM to the host). */
  terminate(signal: NodeJS.Signals): void {
    this.stop(
      HOST_SIGNAL_GRACE_MS,
      StopReason.shutdown,
      `interrupted: its session host got ${signal}`,
    );
  }

  /**
   * A read of the terminal: to the daemon, then into the log, so that the records it fills
   * follow it (a record sealed by a timer, between two reads, is then aligned). An incomplete
   * UTF-8 sequence at its end waits for the next read: each Output decodes alike on its own.
   */
  private output(read: Buffer): void {
    let data = read;
    if (this.heldBytes !== undefined) {
      data = Buffer.concat([this.heldBytes, read]);
      this.heldBytes = undefined;
    }
    const whole = completeUtf8Length(data);
    if (whole < data.length) {
      this.heldBytes = Buffer.from(data.subarray(whole));
      data = data.subarray(0, whole);
    }
    this.emit(data);
  }

  private emit(data: Buffer): void {
    if (data.length === 0) return;
    this.activity?.output();
    const logged = this.log.takesOutput;
    this.send(logged ? { kind: "output", data } : { kind: "output", data, unlogged: true });
    this.log.appendOutput(data.toString("utf8"));
  }

  private send(message: HostMessage): void {
    const daemon = this.daemon;
    if (daemon === undefined || daemon.destroyed) return;
    // What one turn of the event loop sends (a flood's reads come several to a turn) goes out in
    // one write, at the end of the turn.
    if (!this.corked) {
      this.corked = true;
      daemon.cork();
      setImmediate(() => {
        this.corked = false;
        daemon.uncork();
      });
    }
    daemon.write(encodeHostMessage(message));
    if (!this.readingPaused && daemon.writableLength > HIGH_WATER_BYTES) {
      this.readingPaused = true;
      this.pty?.pause();
    }
  }

  private resumeReading(): void {
    if (!this.readingPaused) return;
    this.readingPaused = false;
    this.pty?.resume();
  }

  /**
   * Tells the daemon how much input the terminal has taken: at once when input had to wait for
   * room (the daemon may be holding a sender back), else once {@link INPUT_REPORT_BYTES} have
   * gone by, so that a keystroke costs no message of its own. The daemon's count of what waits
   * is thus high by less than that, which its 1 MiB bound allows for.
   */
  private sendTaken(waited: boolean): void {
    const pty = this.pty;
    if (pty === undefined) return;
    const taken = this.inputReceived - pty.pendingInput;
    if (taken === this.takenSent) return;
    if (!waited && pty.pendingInput === 0 && taken - this.takenSent < INPUT_REPORT_BYTES) return;
    this.takenSent = taken;
    this.send({ kind: "inputTaken", total: taken });
  }

  /**
   * Tells the daemon how far the file is written, at most every {@link WRITTEN_REPORT_MS}: it
   * only needs it to let go of records in its ring, and each message wakes it.
   */
  private written(seq: number): void {
    this.writtenToReport = seq;
    if (this.writtenTimer !== undefined) return;
    this.writtenTimer = setTimeout(() => {
      this.writtenTimer = undefined;
      this.send({ kind: "written", seq: this.writtenToReport });
    }, WRITTEN_REPORT_MS);
    this.writtenTimer.unref();
  }

  /** A connection to the socket: it must say Hello with the home's key in time. */
  private accept(socket: Socket): void {
    const frames = new FrameReader();
    let greeted = false;
    const timer = setTimeout(() => socket.destroy(), HELLO_TIMEOUT_MS);
    socket.on("error", () => undefined);
    socket.on("data", (chunk: Buffer) => {
      let messages: DaemonMessage[];
      try {
        messages = frames.push(chunk).map((frame) => decodeDaemonMessage(frame));
      } catch {
        socket.destroy();
        return;
      }
      for (const message of messages) {
        if (socket.destroyed) return;
        if (!greeted) {
          clearTimeout(timer);
          if (message.kind !== "hello" || !this.welcome(socket, message.hello)) {
            socket.destroy();
            return;
          }
          greeted = true;
          continue;
        }
        if (socket === this.daemon) this.handle(message);
      }
    });
    socket.on("close", () => {
      clearTimeout(timer);
      if (socket !== this.daemon) return;
      this.daemon = undefined;
      this.protocol = 0;
      this.resumeReading();
      // Its program has ended and no one is left to release it: the exit record says it all.
      if (this.exit !== undefined) this.end();
    });
    socket.on("drain", () => {
      if (socket === this.daemon) this.resumeReading();
    });
  }

  /** Checks a Hello; takes the connection as the daemon's, or refuses it and says why. */
  private welcome(socket: Socket, hello: Hello): boolean {
    const refuse = (reason: string) => {
      socket.end(encodeHostMessage({ kind: "refused", reason }));
      return false;
    };
    const key = Buffer.from(hello.key);
    if (key.length !== this.spawn.key.length || !timingSafeEqual(key, this.spawn.key))
      return refuse("the key is not this home's: only the daemon of this home drives this host");
    // The highest version both speak.
    const protocol = Math.min(HOST_PROTOCOL_VERSION, hello.protocolVersion);
    if (protocol < hello.minProtocolVersion || protocol < MIN_HOST_PROTOCOL_VERSION) {
      return refuse(
        `this host speaks protocol ${MIN_HOST_PROTOCOL_VERSION}-${HOST_PROTOCOL_VERSION} (claude-sessions ${VERSION}); the daemon speaks ${hello.minProtocolVersion}-${hello.protocolVersion} (claude-sessions ${hello.daemonVersion})`,
      );
    }
    // Everything read so far goes into records (sent to the daemon before this one, if any), so
    // that the new daemon rebuilds the screen from them and the output sent from now on
    // continues it exactly.
    this.log.sealOpen();
    // The newest daemon wins: an older connection is a daemon that is gone or going.
    this.daemon?.destroy();
    this.daemon = socket;
    this.protocol = protocol;
    this.greeted = true;
    this.resumeReading();
    const pty = this.pty;
    // The new daemon counts from what the terminal has taken so far.
    this.takenSent = this.inputReceived - (pty?.pendingInput ?? 0);
    socket.write(
      encodeHostMessage({
        kind: "welcome",
        welcome: {
          protocolVersion: protocol,
          hostVersion: VERSION,
          hostPid: process.pid,
          pid: pty?.pid ?? 0,
          cols: this.cols,
          rows: this.rows,
          lastSeq: this.log.lastSeq,
          writtenSeq: this.log.writtenUpTo,
          exit: this.exit,
          inputTaken: this.takenSent,
          startedAt: this.startedAt,
          activity: protocol >= 2 ? this.activity?.report : undefined,
          firstKeptSeq: this.log.firstKeptSeq,
        },
      }),
    );
    // The records the file does not hold yet: the daemon reads the rest from the file.
    let seq = this.log.writtenUpTo + 1;
    for (;;) {
      const records = this.log.fromRing(seq, 1 << 20) ?? [];
      if (records.length === 0) break;
      for (const record of records)
        socket.write(
          encodeHostMessage({ kind: "record", record: { ...record, aligned: true, chars: 0 } }),
        );
      seq = (records[records.length - 1] as LogRecord).seq + 1;
    }
    return true;
  }

  private handle(message: DaemonMessage): void {
    switch (message.kind) {
      case "input":
        if (this.exit !== undefined || this.pty === undefined) return;
        this.inputReceived += message.data.length;
        this.activity?.input();
        this.pty.write(Buffer.from(message.data));
        this.sendTaken(false);
        return;
      case "resize":
        this.resize(message.cols, message.rows);
        return;
      case "stop":
        this.stop(message.graceMs, message.reason);
        return;
      case "redraw":
        this.redraw();
        return;
      case "release":
        if (this.exit !== undefined) this.end();
        return;
      case "hello":
        // Only the first message of a connection.
        return;
    }
  }

  /**
   * Measures the program's process tree, tells the daemon, and acts on the memory limit: past
   * it, the event goes into the log and to the daemon (once per crossing), and unless the
   * action is to warn, the program is stopped (to be started again, for restart). This runs
   * with no daemon connected too: the host enforces the limit on its own.
   */
  private sampleUsage(): void {
    const sampler = this.sampler;
    if (sampler === undefined || this.exit !== undefined) return;
    const usage = sampler.sample();
    if (this.protocol >= 3) this.send({ kind: "usage", usage });
    const { maxMemoryBytes, onLimit } = this.spawn;
    if (maxMemoryBytes === 0) return;
    const past = usage.memoryBytes > maxMemoryBytes;
    const crossed = past && !this.pastLimit;
    this.pastLimit = past;
    if (!crossed || this.stopReason !== StopReason.none) return;
    const event = limitEvent(usage, maxMemoryBytes, onLimit);
    this.log.appendEvent(event);
    if (this.protocol >= 3) this.send({ kind: "limit", event, action: onLimit });
    if (onLimit !== LimitAction.stop && onLimit !== LimitAction.restart) return;
    this.limitEvent = event;
    this.limitRestart = onLimit === LimitAction.restart;
    this.stop(LIMIT_GRACE_MS, StopReason.limit);
  }

  private resize(cols: number, rows: number): void {
    if (this.exit !== undefined || cols < 1 || rows < 1) return;
    if (cols === this.cols && rows === this.rows) return;
    this.cols = cols;
    this.rows = rows;
    this.pty?.resize(cols, rows);
    this.log.appendEvent(`resized to ${cols}x${rows}`);
  }

  private redraw(): void {
    const pty = this.pty;
    if (pty === undefined || this.exit !== undefined || this.rows < 2) return;
    pty.resize(this.cols, this.rows - 1);
    setTimeout(() => {
      if (this.exit === undefined) pty.resize(this.cols, this.rows);
    }, REDRAW_STEP_MS);
  }

  /**
   * Hangs up the terminal and sends SIGTERM to the session's processes, then SIGKILL after
   * `graceMs` (at once if 0). A stop under way is only ever made shorter.
   */
  private stop(graceMs: number, reason: StopReason, event?: string): void {
    const pty = this.pty;
    if (pty === undefined || this.exit !== undefined) return;
    if (this.stopReason === StopReason.none) {
      this.stopReason = reason;
      this.stopEvent = event;
    }
    // Asked to stop while its memory limit stops it: it stays stopped.
    if (reason === StopReason.request) this.limitRestart = false;
    const killAt = Date.now() + graceMs;
    if (killAt >= this.killAt) return;
    const first = this.killAt === Number.POSITIVE_INFINITY;
    this.killAt = killAt;
    clearTimeout(this.killTimer);
    if (graceMs <= 0) {
      pty.signal("SIGKILL");
      return;
    }
    if (first) {
      pty.hangUp();
      pty.signal("SIGTERM");
    }
    // Looked up again when it fires: a process may have forked, or escaped, during the grace.
    this.killTimer = setTimeout(() => pty.signal("SIGKILL"), graceMs);
  }

  private async exited(exitCode: number, signalNumber: number): Promise<void> {
    clearTimeout(this.killTimer);
    clearInterval(this.usageTimer);
    this.activity?.stop();
    // An incomplete sequence the program ended on: U+FFFD, on both sides.
    const held = this.heldBytes;
    this.heldBytes = undefined;
    if (held !== undefined) this.emit(held);
    this.pty?.killLeftovers();
    const signal = Math.max(0, signalNumber);
    const how = signal > 0 ? `killed by ${signalName(signal)}` : `exit code ${exitCode}`;
    const what =
      this.stopReason === StopReason.request
        ? "stopped by request"
        : this.stopReason === StopReason.shutdown
          ? (this.stopEvent ?? "interrupted by daemon shutdown")
          : this.stopReason === StopReason.limit
            ? `stopped past its memory limit${this.limitRestart ? ", to be started again" : ""}`
            : "exited";
    const event = `${what} (${how})`;
    this.log.appendEvent(event);
    await this.log.close();
    const exit: ExitStatus = {
      exitCode: signal > 0 ? 0 : exitCode,
      signal,
      reason: this.stopReason,
      endedAt: new Date().toISOString(),
      lastSeq: this.log.lastSeq,
      event: this.stopEvent ?? event,
      limitEvent: this.limitEvent,
      restart: this.limitRestart,
    };
    try {
      writeExitRecord(this.spawn.exitPath, exit, this.daemon === undefined);
    } catch (error) {
      process.stderr.write(`cannot record the exit: ${(error as Error).message}\n`);
    }
    this.exit = exit;
    if (this.daemon === undefined) {
      // No daemon to tell: the exit record says it all, once the daemon that started the host
      // has had its chance to hear it first hand.
      if (this.greeted) this.end();
      else setTimeout(() => this.end(), FIRST_DAEMON_WAIT_MS).unref();
      return;
    }
    this.send({ kind: "exited", exit });
    setTimeout(() => this.end(), RELEASE_TIMEOUT_MS).unref();
  }

  /**
   * Removes the socket file if it is still this host's: once the daemon has the exit, the
   * session's next run may have bound a socket of its own at the same path.
   */
  private removeSocket(): void {
    try {
      if (lstatSync(this.spawn.socketPath).ino === this.socketInode)
        rmSync(this.spawn.socketPath, { force: true });
    } catch {
      // Gone already.
    }
  }

  /** Closes the socket and lets the process end. */
  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.server?.close();
    this.removeSocket();
    const daemon = this.daemon;
    this.daemon = undefined;
    daemon?.end();
    // Nothing else keeps the process: node-pty's handles went with the program.
    setTimeout(() => process.exit(0), 1000).unref();
  }
}

/** What the log and the daemon are told when the tree passes its memory limit. */
function limitEvent(usage: Usage, maxMemoryBytes: number, action: LimitAction): string {
  const what =
    action === LimitAction.stop
      ? "stopping it"
      : action === LimitAction.restart
        ? "restarting it"
        : "warning only";
  return `memory limit reached: ${formatSize(usage.memoryBytes)} resident in ${usage.processes} process(es), past --max-memory ${formatSize(maxMemoryBytes)}; ${what}`;
}

/**
 * Gives this host, and so the program it forks, niceness `nice` (as renice sets it). Lowering
 * it below the host's own needs privileges: the error says so in one line.
 */
function setNiceness(nice: number): void {
  try {
    setPriority(nice);
  } catch (error) {
    // A SystemError: the errno's name is in its info.
    const { info } = error as { info?: { code?: string } };
    if (info?.code === "EACCES" || info?.code === "EPERM")
      throw new Error(
        `cannot set nice ${nice}: permission denied (a niceness below the daemon's own needs root or CAP_SYS_NICE)`,
      );
    throw new Error(`cannot set nice ${nice}: ${(error as Error).message}`);
  }
}

/** Listens on a unix socket; resolves once it is bound. */
function listen(path: string, onConnection: (socket: Socket) => void): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer(onConnection);
    server.once("error", reject);
    server.listen(path, () => {
      server.off("error", reject);
      // The directory is private already; the socket is made so too.
      chmodSync(path, 0o600);
      resolve(server);
    });
  });
}
