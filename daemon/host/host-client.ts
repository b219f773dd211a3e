/**
 * The daemon's side of a session host: starting one ({@link spawnHost}), connecting to one,
 * new or left by an earlier daemon ({@link connectHost}), and the connection itself
 * ({@link HostConnection}), which the session drives as its program's terminal.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, constants, mkdirSync, rmSync, writeSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { Limiter, Notifier, withTimeout } from "../common/async.js";
import { checkPrivateDirectory } from "../common/home-guard.js";
import type { HomePaths } from "../common/paths.js";
import { openRegularFile, readRegularFile } from "../common/regular-file.js";
import { VERSION } from "../common/version.js";
import type { LogRecord } from "../log/log-record.js";
import { MAX_PENDING_INPUT_BYTES } from "../terminal/pty-writer.js";
import {
  type ActivityReport,
  type DaemonMessage,
  decodeHostMessage,
  decodeStarted,
  type ExitStatus,
  encodeDaemonMessage,
  encodeSpawn,
  FrameReader,
  HOST_PROTOCOL_VERSION,
  type HostMessage,
  type HostSpawn,
  type LimitAction,
  MIN_HOST_PROTOCOL_VERSION,
  type StopReason,
  type Usage,
  type Welcome,
} from "./host-wire.js";

/** The host's script: bundled beside the daemon's folder. */
const HOST_SCRIPT = fileURLToPath(new URL("../../session-host.cjs", import.meta.url));
/**
 * Options for the host's node: a heap limit far above what a host holds (its ring is 256 KiB
 * past what is unwritten), so that a leak would show as a crash of one host, not a swapped
 * machine. The young generation keeps its default: capped at 1 MiB, a flood's garbage cost the
 * host a fifth of its time in scavenges, and an idle host's heap is the same either way.
 */
const HOST_NODE_ARGS = ["--max-old-space-size=64"];
/** How long a host may take to start its program and answer. */
const SPAWN_TIMEOUT_MS = 15_000;
/** How long a host may take to answer a Hello. */
const CONNECT_TIMEOUT_MS = 5000;
/** How long a release waits for the host to end (it ends itself within a second). */
const HOST_END_WAIT_MS = 3000;
const KEY_BYTES = 32;
/**
 * Hosts starting at once, at most: each is a Node start-up (about 50 ms of CPU), and 200 at
 * once on two cores would each take seconds. The others wait their turn, which the spawn
 * timeout does not count.
 */
const starting = new Limiter(Math.max(4, 2 * availableParallelism()));

/** A host could not be reached, or would not serve this daemon: the message says why. */
export class HostUnavailableError extends Error {
  override readonly name = "HostUnavailableError";
  constructor(
    message: string,
    /** No host listens there (the socket is gone or refuses): the host has ended. */
    readonly gone: boolean,
  ) {
    super(message);
  }
}

/**
 * The home's host key, made on first use: a host serves only a daemon that presents it, so no
 * other program of the user's drives a session by accident. The run directory is made private.
 */
export function hostKey(paths: HomePaths): Buffer {
  mkdirSync(paths.run, { recursive: true, mode: 0o700 });
  checkPrivateDirectory(paths.run);
  try {
    const key = readRegularFile(paths.hostKey, { label: "host key " });
    if (key.length === KEY_BYTES) return key;
    rmSync(paths.hostKey, { force: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const key = randomBytes(KEY_BYTES);
  const fd = openRegularFile(
    paths.hostKey,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL,
    {
      mode: 0o600,
      label: "host key ",
    },
  );
  try {
    writeSync(fd, key);
  } finally {
    closeSync(fd);
  }
  return key;
}

export type SpawnRequest = Omit<HostSpawn, "protocolVersion" | "daemonVersion">;

/** A host this daemon started. */
export interface StartedHost {
  /** The program's pid. */
  pid: number;
  /** Resolves once the host process has ended and been reaped. */
  ended: Promise<void>;
}

/**
 * Starts a host, detached (its own session and process group, no terminal), and waits until its
 * program runs. Rejects with the reason the host gives (the program cannot be started, the log
 * cannot be opened) or, if it dies first, with what it wrote to its error file.
 */
export function spawnHost(request: SpawnRequest, errorsPath: string): Promise<StartedHost> {
  return starting.run(() => startHost(request, errorsPath));
}

function startHost(request: SpawnRequest, errorsPath: string): Promise<StartedHost> {
  const errors = openRegularFile(
    errorsPath,
    constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND,
    { mode: 0o600, label: "host error file " },
  );
  let child: ChildProcess;
  try {
    // The socket path names the session and the home in `ps`; the host reads nothing from it.
    child = spawn(process.execPath, [...HOST_NODE_ARGS, HOST_SCRIPT, request.socketPath], {
      detached: true,
      stdio: ["ignore", "ignore", errors, "pipe"],
      cwd: "/",
    });
  } finally {
    closeSync(errors);
  }
  const pipe = child.stdio[3] as Socket;
  // Node reaps the child when it ends ("exit" comes after the wait), unref'd or not.
  const ended = new Promise<void>((resolve) => {
    child.once("exit", () => resolve());
    child.once("error", () => resolve());
  });
  return new Promise<StartedHost>((resolve, reject) => {
    const frames = new FrameReader();
    let settled = false;
    const settle = (error: Error | undefined, pid?: number) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      pipe.destroy();
      child.unref();
      if (error !== undefined) reject(error);
      else resolve({ pid: pid as number, ended });
    };
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      settle(new Error(`its session host did not start within ${SPAWN_TIMEOUT_MS / 1000}s`));
    }, SPAWN_TIMEOUT_MS);
    pipe.on("error", () => undefined);
    pipe.on("data", (chunk: Buffer) => {
      try {
        const frame = frames.push(chunk)[0];
        if (frame === undefined) return;
        const started = decodeStarted(frame);
        if (started.error !== undefined) settle(new Error(started.error));
        else settle(undefined, started.pid);
      } catch (error) {
        child.kill("SIGKILL");
        settle(error as Error);
      }
    });
    child.once("error", (error) =>
      settle(new Error(`cannot start its session host: ${error.message}`)),
    );
    child.once("exit", (code, signal) => {
      let detail = "";
      try {
        detail = readRegularFile(errorsPath).toString("utf8").trim().split("\n").at(-1) ?? "";
      } catch {
        // No error file: nothing more to say.
      }
      settle(
        new Error(
          `its session host ended before starting it (${signal ?? `exit code ${code}`})${detail ? `: ${detail}` : ""}`,
        ),
      );
    });
    pipe.write(
      encodeSpawn({ ...request, protocolVersion: HOST_PROTOCOL_VERSION, daemonVersion: VERSION }),
    );
  });
}

/** What a host connection tells its session. */
export interface HostListener {
  /** Terminal output, as read. */
  output(data: Buffer): void;
  /** A log record, as sealed (see {@link WireRecord.aligned}). */
  record(record: LogRecord, aligned: boolean): void;
  written(seq: number): void;
  logProblem(error: string | undefined): void;
  logLoss(bytes: number, description: string): void;
  /** The program has ended and its log is closed; answer with {@link HostConnection.release}. */
  exited(exit: ExitStatus): void;
  /** The connection ended with no exit: the host died, was killed, or will not serve us. */
  lost(reason: string): void;
  /** What the program does changed (protocol 2; the Welcome holds the first report). */
  activity(report: ActivityReport): void;
  /** What the process tree uses, about every second (protocol 3). */
  usage(usage: Usage): void;
  /** The tree went over its memory limit; `event` is in the log (protocol 3). */
  limit(event: string, action: LimitAction): void;
  /** Log retention dropped the oldest segments: the log now starts at `firstKeptSeq`. */
  logDropped(firstKeptSeq: number): void;
}

/**
 * Connects to the host at `socketPath` and says Hello; resolves once it is welcomed. Give
 * `processEnded` ({@link StartedHost.ended}) for a host this daemon started, so that its release
 * waits until it is reaped.
 */
export function connectHost(
  socketPath: string,
  key: Buffer,
  processEnded?: Promise<void>,
): Promise<HostConnection> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    const frames = new FrameReader();
    const fail = (error: HostUnavailableError) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    const timer = setTimeout(
      () =>
        fail(
          new HostUnavailableError(
            `its session host did not answer within ${CONNECT_TIMEOUT_MS / 1000}s`,
            false,
          ),
        ),
      CONNECT_TIMEOUT_MS,
    );
    socket.once("error", (error: NodeJS.ErrnoException) => {
      const gone = error.code === "ENOENT" || error.code === "ECONNREFUSED";
      fail(
        new HostUnavailableError(
          gone ? "its session host is gone" : `cannot reach its session host: ${error.message}`,
          gone,
        ),
      );
    });
    socket.once("close", () =>
      fail(new HostUnavailableError("its session host closed the connection", true)),
    );
    const onData = (chunk: Buffer) => {
      let messages: HostMessage[];
      try {
        messages = frames.push(chunk).map((frame) => decodeHostMessage(frame));
      } catch (error) {
        fail(
          new HostUnavailableError(
            `its session host does not speak this protocol: ${(error as Error).message}`,
            false,
          ),
        );
        return;
      }
      const first = messages[0];
      if (first === undefined) return;
      if (first.kind === "refused") {
        fail(
          new HostUnavailableError(`its session host refused this daemon: ${first.reason}`, false),
        );
        return;
      }
      if (first.kind !== "welcome") {
        fail(new HostUnavailableError("its session host did not answer Hello", false));
        return;
      }
      const { welcome } = first;
      const version = welcome.protocolVersion;
      if (version < MIN_HOST_PROTOCOL_VERSION || version > HOST_PROTOCOL_VERSION) {
        fail(
          new HostUnavailableError(
            `its session host is from claude-sessions ${welcome.hostVersion || "(unknown)"} and speaks protocol ${version}; this daemon (claude-sessions ${VERSION}) speaks ${MIN_HOST_PROTOCOL_VERSION}-${HOST_PROTOCOL_VERSION}: stop the session with that version (its host is pid ${welcome.hostPid}), or end the host`,
            false,
          ),
        );
        return;
      }
      clearTimeout(timer);
      socket.off("data", onData);
      socket.removeAllListeners("close");
      socket.removeAllListeners("error");
      resolve(new HostConnection(socket, welcome, frames, messages.slice(1), processEnded));
    };
    socket.on("data", onData);
    socket.write(
      encodeDaemonMessage({
        kind: "hello",
        hello: {
          protocolVersion: HOST_PROTOCOL_VERSION,
          minProtocolVersion: MIN_HOST_PROTOCOL_VERSION,
          daemonVersion: VERSION,
          key,
        },
      }),
    );
  });
}

/** A daemon's connection to one session host: the program's terminal, as the session sees it. */
export class HostConnection {
  private listener: HostListener | undefined;
  private queued: HostMessage[];
  private inputSent: number;
  private inputTaken: number;
  private readonly room = new Notifier();
  private exit: ExitStatus | undefined;
  private closed = false;
  /** The text of the Output received that no record has taken yet. */
  private text = "";
  /** Resolves once the host is gone: its end of the connection closed, its process reaped. */
  private readonly gone: Promise<void>;

  constructor(
    private readonly socket: Socket,
    readonly welcome: Welcome,
    private readonly frames: FrameReader,
    queued: HostMessage[],
    processEnded?: Promise<void>,
  ) {
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    this.gone = Promise.all([closed, processEnded]).then(() => undefined);
    this.queued = queued;
    this.inputSent = welcome.inputTaken;
    this.inputTaken = welcome.inputTaken;
    this.exit = welcome.exit;
    socket.setNoDelay?.(true);
  }

  get pid(): number {
    return this.welcome.pid;
  }

  /** Starts delivering what the host sends: first what came with its Welcome. */
  listen(listener: HostListener): void {
    this.listener = listener;
    const queued = this.queued;
    this.queued = [];
    for (const message of queued) this.deliver(message);
    if (this.welcome.exit !== undefined) listener.exited(this.welcome.exit);
    this.socket.on("data", (chunk: Buffer) => {
      let messages: HostMessage[];
      try {
        messages = this.frames.push(chunk).map((frame) => decodeHostMessage(frame));
      } catch (error) {
        this.lose(
          `its session host sent what this daemon cannot read: ${(error as Error).message}`,
        );
        return;
      }
      for (const message of messages) this.deliver(message);
    });
    this.socket.on("error", () => undefined);
    this.socket.on("close", () => this.lose("its session host ended unexpectedly"));
  }

  private deliver(message: HostMessage): void {
    const listener = this.listener;
    if (listener === undefined || this.closed) return;
    switch (message.kind) {
      case "output": {
        const data = Buffer.from(message.data.buffer, message.data.byteOffset, message.data.length);
        if (message.unlogged !== true) this.text += data.toString("utf8");
        listener.output(data);
        return;
      }
      case "record": {
        const { aligned, chars, ...record } = message.record;
        if (chars > 0) {
          // Its text is what the Output sent since the previous record decodes to.
          if (this.text.length < chars) {
            this.lose(
              `its session host sent a record of ${chars} characters after ${this.text.length} of output`,
            );
            return;
          }
          record.data = this.text.slice(0, chars);
          this.text = this.text.slice(chars);
        }
        try {
          listener.record(record, aligned);
        } catch (error) {
          this.lose((error as Error).message);
        }
        return;
      }
      case "written":
        listener.written(message.seq);
        return;
      case "inputTaken":
        this.inputTaken = message.total;
        this.room.notify();
        return;
      case "logProblem":
        listener.logProblem(message.error === "" ? undefined : message.error);
        return;
      case "logLoss":
        listener.logLoss(message.bytes, message.description);
        return;
      case "activity":
        listener.activity(message.activity);
        return;
      case "usage":
        listener.usage(message.usage);
        return;
      case "limit":
        listener.limit(message.event, message.action);
        return;
      case "logDropped":
        listener.logDropped(message.firstKeptSeq);
        return;
      case "exited":
        this.exit = message.exit;
        this.room.notify();
        listener.exited(message.exit);
        return;
      case "refused":
        this.lose(`its session host refused this daemon: ${message.reason}`);
        return;
      case "welcome":
        return;
    }
  }

  private lose(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.room.notify();
    if (this.exit === undefined) this.listener?.lost(reason);
  }

  private send(message: DaemonMessage): void {
    if (this.closed) return;
    this.socket.write(encodeDaemonMessage(message));
  }

  /** Input sent that the terminal has not taken yet, in bytes. */
  get pendingInput(): number {
    return this.inputSent - this.inputTaken;
  }

  get takesInput(): boolean {
    return this.pendingInput < MAX_PENDING_INPUT_BYTES;
  }

  waitForInputRoom(stop: AbortSignal): Promise<void> {
    if (this.takesInput || this.closed || this.exit !== undefined) return Promise.resolve();
    return this.room.wait(stop);
  }

  /** Takes `data` whole, to be written in order; callers check {@link takesInput} first. */
  write(data: string | Buffer): void {
    if (this.exit !== undefined) return;
    const bytes = typeof data === "string" ? Buffer.from(data) : data;
    if (bytes.length === 0) return;
    this.inputSent += bytes.length;
    this.send({ kind: "input", data: bytes });
  }

  resize(cols: number, rows: number): void {
    this.send({ kind: "resize", cols, rows });
  }

  /** Hang-up and SIGTERM, SIGKILL after `graceMs` (at once if 0), done by the host. */
  stop(graceMs: number, reason: StopReason): void {
    this.send({ kind: "stop", graceMs, reason });
  }

  redraw(): void {
    this.send({ kind: "redraw" });
  }

  /**
   * The exit is recorded: the host may end. Resolves once it has, so that nothing of the run is
   * left when its end is told, or after {@link HOST_END_WAIT_MS} if it has not.
   */
  release(): Promise<void> {
    this.send({ kind: "release" });
    this.close();
    return withTimeout(this.gone, HOST_END_WAIT_MS, () => undefined);
  }

  /** Lets go of the host, which keeps the session running (the daemon is stopping). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.end();
    this.room.notify();
  }
}
