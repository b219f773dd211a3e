/**
 * What every command shares: `--socket`, turning failures into one-line errors with the right
 * exit code (1 for errors, 2 for misuse), and reaching a daemon, starting one when a command
 * needs it.
 */
import { type BaseContext, Command, Option, UsageError } from "clipanion";
import { homePaths, resolveHome } from "../daemon/common/paths.js";
import { ClientError, toClientError } from "./client-error.js";
import { DaemonConnection } from "./daemon-connection.js";
import { printable } from "./output.js";
import { CallError, Status } from "./rpc/call-error.js";

export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;

/** The CLI's context: clipanion's streams, plus the words after `--` on the command line. */
export interface CliContext extends BaseContext {
  /** What followed `--` (the program to run, for `start`), or undefined if there was no `--`. */
  passthrough: string[] | undefined;
}

export abstract class BaseCommand extends Command<CliContext> {
  socket = Option.String("--socket", {
    description:
      "The daemon's socket (default: $CLAUDE_SESSIONS_HOME/daemon.sock or ~/.claude-sessions/daemon.sock)",
  });

  private connection: DaemonConnection | undefined;

  /** The command's work; returns the exit code (0 when nothing is returned). */
  abstract run(): Promise<number | undefined>;

  /** Whether the command takes a program after `--`. */
  protected acceptsPassthrough = false;

  async execute(): Promise<number> {
    try {
      if (this.context.passthrough !== undefined && !this.acceptsPassthrough) {
        throw new UsageError("this command takes no arguments after --");
      }
      return (await this.run()) ?? 0;
    } catch (error) {
      const failure =
        error instanceof ClientError || error instanceof UsageError
          ? error
          : toClientError(error, this.socketPath);
      this.context.stderr.write(errorLine(failure));
      return failure instanceof UsageError ? EXIT_USAGE : EXIT_ERROR;
    } finally {
      this.connection?.close();
    }
  }

  /** The socket this command talks to; known without connecting (a refused home has none). */
  get socketPath(): string {
    return this.connection?.socketPath ?? this.socket ?? homePaths(resolveHome()).socket;
  }

  /** A connection to the daemon, without starting one. */
  client(): DaemonConnection {
    this.connection ??= DaemonConnection.open(this.socket);
    return this.connection;
  }

  /** A client for a running daemon: one is started (and we say so) if none answers. */
  async daemonClient(): Promise<DaemonConnection> {
    const client = this.client();
    if (await client.isRunning()) return client;
    return this.startDaemon();
  }

  /** Starts a daemon, says so on stderr, and returns a new connection to it. */
  private async startDaemon(): Promise<DaemonConnection> {
    if (this.socket !== undefined) {
      throw new ClientError(
        `daemon is not running (nothing answers on ${this.socket})`,
        Status.UNAVAILABLE,
      );
    }
    // Loaded only here: most commands find a daemon running and never spawn anything.
    const { DaemonLaunchError, launchDaemon } = await import("./daemon-launcher.js");
    let pid: number;
    try {
      pid = await launchDaemon(resolveHome());
    } catch (error) {
      // Nothing answered, yet a daemon holds the home: its socket file was deleted under it.
      // It binds the socket again shortly; use it then rather than fail.
      if (!(error instanceof DaemonLaunchError && error.alreadyRunning)) throw error;
      this.connection?.close();
      this.connection = DaemonConnection.open(this.socket);
      if (await answersWithin(this.connection, SOCKET_RECOVERY_MS)) return this.connection;
      throw error;
    }
    this.context.stderr.write(`claude-sessions: started daemon (pid ${pid})\n`);
    // The old connection failed; start afresh.
    this.connection?.close();
    this.connection = DaemonConnection.open(this.socket);
    return this.connection;
  }

  /**
   * Runs one call, turning gRPC failures into actionable errors. The call goes straight to the
   * socket: only when nothing listens there, so that nothing was sent, is a daemon started
   * (unless `start` is false) and the call made again.
   */
  async call<T>(
    work: (client: DaemonConnection) => Promise<T>,
    options: { start?: boolean } = {},
  ): Promise<T> {
    const client = this.client();
    try {
      return await work(client);
    } catch (error) {
      const unanswered = error instanceof CallError && !error.requestSent;
      if (!unanswered || options.start === false) throw toClientError(error, client.socketPath);
    }
    const started = await this.startDaemon();
    try {
      return await work(started);
    } catch (error) {
      throw toClientError(error, started.socketPath);
    }
  }
}

/** How a failure is reported: "error: " and its message on one printable line. */
export function errorLine(error: Error): string {
  return `error: ${printable(error.message.replace(/\s*\n\s*/g, "; "))}\n`;
}

/** How long a daemon whose socket was deleted may take to bind it again. */
const SOCKET_RECOVERY_MS = 5000;

async function answersWithin(connection: DaemonConnection, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await connection.isRunning(Math.min(500, Math.max(1, deadline - Date.now())))) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}
