/**
 * What every command shares: `--socket`, `--host` and `--context` (which daemon: see
 * remote/target.ts), turning failures into one-line errors with the right exit code (1 for
 * errors, 2 for misuse), and the one way a command reaches its daemon: it connects, and only
 * when nothing listens does what its {@link DaemonNeed} says.
 */
import { existsSync } from "node:fs";
import { type BaseContext, Command, Option, UsageError } from "clipanion";
import { homePaths, RelativeHomeError, resolveHome } from "../daemon/common/paths.js";
import { ClientError, toClientError } from "./client-error.js";
import { DaemonConnection } from "./daemon-connection.js";
import { printable } from "./output.js";
import type { SshTransport } from "./remote/ssh-transport.js";
import { type DaemonTarget, resolveTarget } from "./remote/target.js";
import { CallError, Status } from "./rpc/call-error.js";
import type { Dialer } from "./rpc/http2-channel.js";
import { clientEnv, resolveDirectory } from "./session-args.js";

export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;

/** The CLI's context: clipanion's streams, plus the words after `--` on the command line. */
export interface CliContext extends BaseContext {
  /** What followed `--` (the program to run, for `start`), or undefined if there was no `--`. */
  passthrough: string[] | undefined;
}

/**
 * What a command needs of a daemon, which decides what it does when none runs for the home:
 * - `answer`: its answer needs one (`start`, `list`, `watch`): one is started, and it says so
 *   on stderr.
 * - `session`: it acts on sessions, and a home no daemon has ever run on (no state.json) has
 *   none: it exits 1 saying that no session matches, without starting one. A home a daemon has
 *   run on may hold sessions to act on (interrupted ones, after a crash or `stop-daemon`; a
 *   crashed daemon's leftover processes, which the next daemon ends): one is started, as for
 *   `answer`.
 * - `none`: it asks about the daemon itself (`status`, `stop-daemon`, `version`, `daemon`) and
 *   never starts one.
 *
 * A daemon on another machine is started by `dial-stdio` there, unless the need is `none`.
 */
export type DaemonNeed = "answer" | "session" | "none";

export abstract class BaseCommand extends Command<CliContext> {
  socket = Option.String("--socket", {
    description:
      "The daemon's socket (default: $CLAUDE_SESSIONS_HOME/daemon.sock or ~/.claude-sessions/daemon.sock)",
  });

  host = Option.String("--host", {
    description:
      "A daemon on another machine, through ssh: ssh://[user@]host[:port] (default: $CLAUDE_SESSIONS_HOST, else the current context)",
  });
  contextName = Option.String("--context", {
    description: "The context whose daemon to use (see: claude-sessions context ls)",
  });

  private connection: DaemonConnection | undefined;
  /** The far user's home, as the remote daemon's machine said it. */
  private farUserHome: string | undefined;
  private resolvedTarget: DaemonTarget | undefined;
  /** The ssh transport, loaded only for a remote daemon (it brings child processes in). */
  private sshTransport: typeof SshTransport | undefined;
  private sshCommandOf: ((env?: NodeJS.ProcessEnv) => string[]) | undefined;

  /**
   * Whether the command acts on this machine only (it runs or installs the daemon here, or
   * edits this machine's contexts): `--host` and `--context` are refused, and neither
   * `CLAUDE_SESSIONS_HOST` nor the current context applies.
   */
  static localOnly = false;

  /** What the command needs of a daemon; see {@link DaemonNeed}. */
  protected abstract readonly daemonNeed: DaemonNeed;

  /** The command's work; returns the exit code (0 when nothing is returned). */
  abstract run(): Promise<number | undefined>;

  /**
   * What the command takes after `--`, as its usage shows it (`[-- command...]`), or undefined
   * if it takes nothing there.
   */
  static passthrough: string | undefined;

  async execute(): Promise<number> {
    try {
      const { passthrough } = this.constructor as typeof BaseCommand;
      if (this.context.passthrough !== undefined && passthrough === undefined) {
        throw new UsageError("this command takes no arguments after --");
      }
      if (this.daemonTarget.kind === "ssh") await this.loadSshTransport();
      return (await this.run()) ?? 0;
    } catch (error) {
      // A refused home has no socket path to name.
      const failure =
        error instanceof ClientError ||
        error instanceof UsageError ||
        error instanceof RelativeHomeError
          ? error
          : toClientError(error, this.address);
      this.context.stderr.write(errorLine(failure));
      return failure instanceof UsageError ? EXIT_USAGE : EXIT_ERROR;
    } finally {
      this.connection?.close();
    }
  }

  /** The daemon this command talks to, from its flags, the environment and the contexts. */
  get daemonTarget(): DaemonTarget {
    const { localOnly } = this.constructor as typeof BaseCommand;
    if (localOnly) {
      const given =
        this.host !== undefined
          ? "--host"
          : this.contextName !== undefined
            ? "--context"
            : undefined;
      if (given !== undefined) {
        throw new UsageError(
          `${given} does not apply here: this command acts on this machine; to do it on another, run it there (ssh host claude-sessions ...)`,
        );
      }
      return { kind: "local", socket: this.socket };
    }
    this.resolvedTarget ??= resolveTarget(
      { socket: this.socket, host: this.host, context: this.contextName },
      resolveHome,
    );
    return this.resolvedTarget;
  }

  /**
   * Where the daemon this command talks to is, as messages name it: its socket's path, or
   * `ssh://host`; known without connecting (a refused home has none).
   */
  get address(): string {
    if (this.connection !== undefined) return this.connection.address;
    const target = this.resolvedTarget;
    if (target?.kind === "ssh") return target.address.url;
    return this.socket ?? homePaths(resolveHome()).socket;
  }

  /** A connection to the daemon, not yet connected, never starting one here. */
  client(): DaemonConnection {
    if (this.connection !== undefined) return this.connection;
    const target = this.daemonTarget;
    this.connection =
      target.kind === "local" ? DaemonConnection.open(target.socket) : this.remoteClient(target);
    return this.connection;
  }

  /**
   * The directory a session is to run in, from `dir` as typed: on this machine relative to
   * the current directory, with `~` expanded; on another, only absolute or from `~` there (this
   * machine's current directory means nothing on it). Call once connected.
   */
  protected sessionDirectory(client: DaemonConnection, dir: string | undefined): string {
    if (!client.remote) return resolveDirectory(dir ?? ".");
    if (dir?.startsWith("/")) return dir;
    const home = this.farUserHome;
    if (dir !== undefined && home !== undefined && (dir === "~" || dir.startsWith("~/"))) {
      return dir === "~" ? home : `${home}${dir.slice(1)}`;
    }
    throw new UsageError(
      `on ${client.address}, name the directory in full or from ~ (${dir === undefined ? "no directory given" : `not '${printable(dir)}'`}): this machine's current directory is not there`,
    );
  }

  /** The environment a session started through `client` gets: this shell's, or on another machine its daemon's. */
  protected sessionEnvironment(client: DaemonConnection): Record<string, string> {
    return client.remote ? {} : clientEnv();
  }

  /** Makes this machine's daemon the one {@link client} and {@link daemon} reach. */
  protected useLocalDaemon(): void {
    if (this.connection !== undefined) throw new Error("the command is already connected");
    this.resolvedTarget = { kind: "local", socket: undefined };
  }

  /** Loads the ssh transport, for a command that reaches daemons on other machines. */
  protected async loadSshTransport(): Promise<void> {
    const transport = await import("./remote/ssh-transport.js");
    this.sshTransport = transport.SshTransport;
    this.sshCommandOf = transport.sshCommandOf;
  }

  /**
   * A connection to the daemon on another machine that `target` names, not yet connected (its
   * daemon is started there when this command's need is not `none`); the caller closes it.
   * {@link loadSshTransport} must have run.
   */
  protected remoteClient(target: Extract<DaemonTarget, { kind: "ssh" }>): DaemonConnection {
    return DaemonConnection.remote(target.address.url, this.sshDialer(target));
  }

  /** The ssh command (`CLAUDE_SESSIONS_SSH_COMMAND`); {@link loadSshTransport} must have run. */
  protected sshCommand(): string[] {
    if (this.sshCommandOf === undefined) throw new Error("the ssh transport is not loaded");
    return this.sshCommandOf();
  }

  /** Opens ssh to `target`'s machine, and says so when its daemon had to be started. */
  private sshDialer(target: Extract<DaemonTarget, { kind: "ssh" }>): Dialer {
    const Transport = this.sshTransport;
    const sshCommandOf = this.sshCommandOf;
    if (Transport === undefined || sshCommandOf === undefined) {
      throw new Error("the ssh transport was not loaded before the command ran");
    }
    const options = {
      address: target.address,
      program: target.program,
      start: this.daemonNeed !== "none",
      sshCommand: sshCommandOf(),
    };
    return () => {
      const transport = new Transport(options);
      transport.connected.then(
        (hello) => {
          this.farUserHome = hello.userHome;
          if (hello.startedPid === undefined) return;
          this.context.stderr.write(
            `claude-sessions: started daemon on ${target.address.url} (pid ${hello.startedPid})\n`,
          );
        },
        () => undefined,
      );
      return { transport, connected: transport.connected };
    };
  }

  /**
   * A connection to the home's daemon, connected: the one way a command reaches it. When nothing
   * listens on the socket (so nothing was sent), the command's {@link DaemonNeed} decides:
   * start a daemon, or fail with a one-line error. `sessionId` names the session the command
   * acts on, for that error.
   */
  async daemon(sessionId?: string): Promise<DaemonConnection> {
    const client = this.client();
    try {
      await client.connect();
      return client;
    } catch (error) {
      // A remote daemon is started on its machine, by dial-stdio, or cannot be.
      if (!isUnanswered(error) || this.daemonNeed === "none" || client.remote) {
        throw toClientError(error, client.address);
      }
    }
    if (this.socket !== undefined) {
      // A socket named by hand has no home to start a daemon for.
      throw new ClientError(
        `daemon is not running (nothing answers on ${this.socket})`,
        Status.UNAVAILABLE,
      );
    }
    const home = resolveHome();
    if (this.daemonNeed === "session" && !existsSync(homePaths(home).state)) {
      const what = sessionId === undefined ? "no session" : `no session matches '${sessionId}'`;
      throw new ClientError(`${what} (no daemon is running for ${home})`, Status.NOT_FOUND);
    }
    return this.startDaemon(home);
  }

  /**
   * {@link daemon}, for a command that then opens a stream (attach, logs, watch). A stream waits
   * as long as it must for its messages, so a daemon that accepts connections but never answers
   * would hold it forever: the daemon must first answer a Ping within the call timeout
   * (`CLAUDE_SESSIONS_CALL_TIMEOUT`), as every unary call must.
   */
  async streamingDaemon(sessionId?: string): Promise<DaemonConnection> {
    const client = await this.daemon(sessionId);
    await client.daemon.ping({}).catch((error: unknown) => {
      throw toClientError(error, client.address);
    });
    return client;
  }

  /**
   * Runs `work` on the daemon reached by {@link daemon}, turning gRPC failures into actionable
   * errors.
   */
  async call<T>(work: (client: DaemonConnection) => Promise<T>, sessionId?: string): Promise<T> {
    const client = await this.daemon(sessionId);
    try {
      return await work(client);
    } catch (error) {
      throw toClientError(error, client.address);
    }
  }

  /**
   * Starts a daemon for `home`, says so on stderr, and returns a new connection to it. If one
   * already runs for the home (it started meanwhile, or its socket was deleted under it and it
   * binds it again, or it was too busy to accept the connection), that one is used.
   */
  private async startDaemon(home: string): Promise<DaemonConnection> {
    // Loaded only here: most commands find a daemon running and never spawn anything.
    const { DaemonLaunchError, launchDaemon } = await import("./daemon-launcher.js");
    this.connection?.close();
    this.connection = undefined;
    let pid: number;
    try {
      pid = await launchDaemon(home);
    } catch (error) {
      if (!(error instanceof DaemonLaunchError && error.alreadyRunning)) throw error;
      if (await this.connectWithin(this.client().callTimeoutMs)) return this.client();
      throw error;
    }
    this.context.stderr.write(`claude-sessions: started daemon (pid ${pid})\n`);
    const client = this.client();
    await client.connect().catch((error: unknown) => {
      throw toClientError(error, client.address);
    });
    return client;
  }

  /** Connects to a daemon known to run, trying again while nothing listens, for `waitMs`. */
  private async connectWithin(waitMs: number): Promise<boolean> {
    const deadline = Date.now() + waitMs;
    for (let pauseMs = 10; ; pauseMs = Math.min(pauseMs * 2, 200)) {
      const client = this.client();
      try {
        await client.connect();
        return true;
      } catch (error) {
        if (!isUnanswered(error)) throw toClientError(error, client.address);
      }
      client.close();
      this.connection = undefined;
      if (Date.now() + pauseMs >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }
}

/** A failure to connect: nothing listens on the socket, and no request left. */
function isUnanswered(error: unknown): boolean {
  return error instanceof CallError && !error.requestSent;
}

/** How a failure is reported: "error: " and its message on one printable line. */
export function errorLine(error: Error): string {
  return problemLine("error", error.message);
}

/** How a failure that does not fail the command is reported: "warning: " and one line. */
export function warningLine(message: string): string {
  return problemLine("warning", message);
}

function problemLine(kind: "error" | "warning", message: string): string {
  return `${kind}: ${printable(message.replace(/\s*\n\s*/g, "; "))}\n`;
}
