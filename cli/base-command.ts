/**
 * What every command shares: `--socket`, turning failures into one-line errors with the right
 * exit code (1 for errors, 2 for misuse), and reaching a daemon, starting one when a command
 * needs it.
 */
import { type BaseContext, Command, Option, UsageError } from "clipanion";
import { resolveHome } from "../daemon/paths.js";
import { ClientError, DaemonClient, toClientError } from "./client.js";
import { DaemonLaunchError, launchDaemon } from "./daemon-launcher.js";

export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;

/**
 * How long to wait for a running daemon whose socket did not answer. It binds a deleted socket
 * again within about a second (daemon-server.ts, watchSocket).
 */
const SOCKET_RECOVERY_MS = 5000;

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

  private connection: DaemonClient | undefined;

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
      this.context.stderr.write(`error: ${oneLine(failure.message)}\n`);
      return failure instanceof UsageError ? EXIT_USAGE : EXIT_ERROR;
    } finally {
      this.connection?.close();
    }
  }

  get socketPath(): string {
    return this.client().socketPath;
  }

  /** A client for the daemon, without starting one. */
  client(): DaemonClient {
    this.connection ??= DaemonClient.connect({ socket: this.socket });
    return this.connection;
  }

  /** A client for a running daemon: one is started (and we say so) if none answers. */
  async daemonClient(): Promise<DaemonClient> {
    const client = this.client();
    if (await client.isRunning()) return client;
    if (this.socket !== undefined) {
      throw new ClientError(`daemon is not running (nothing answers on ${this.socket})`, 14);
    }
    let pid: number;
    try {
      pid = await launchDaemon(resolveHome());
    } catch (error) {
      // Nothing answered, yet a daemon holds the home: its socket file was deleted under it.
      // It binds the socket again shortly; use it then rather than fail.
      if (!(error instanceof DaemonLaunchError && error.alreadyRunning)) throw error;
      client.close();
      this.connection = DaemonClient.connect({ socket: this.socket });
      if (await answersWithin(this.connection, SOCKET_RECOVERY_MS)) return this.connection;
      throw error;
    }
    this.context.stderr.write(`claude-sessions: started daemon (pid ${pid})\n`);
    // The old channel saw the socket fail and is backing off; start afresh.
    client.close();
    this.connection = DaemonClient.connect({ socket: this.socket });
    return this.connection;
  }

  /** Runs one call, turning gRPC failures into actionable errors. */
  async call<T>(
    work: (client: DaemonClient) => Promise<T>,
    options: { start?: boolean } = {},
  ): Promise<T> {
    const client = options.start === false ? this.client() : await this.daemonClient();
    try {
      return await work(client);
    } catch (error) {
      throw toClientError(error, client.socketPath);
    }
  }
}

/** Polls until the daemon answers Ping, for at most `timeoutMs`. */
async function answersWithin(client: DaemonClient, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await client.isRunning(Math.min(500, Math.max(1, deadline - Date.now())))) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, "; ");
}
