/**
 * The typed client library for programs: a grpc-js channel to a daemon's socket, or through
 * ssh to a daemon on another machine, with both services, and gRPC failures turned into errors
 * a person can act on. The CLI itself talks through the lighter {@link DaemonConnection}
 * (daemon-connection.ts), which starts faster.
 */
import * as grpc from "@grpc/grpc-js";
import { checkDaemonSocket } from "../daemon/common/home-guard.js";
import { homePaths, resolveHome, socketAddress } from "../daemon/common/paths.js";
import { createServiceClient, type ServiceClient } from "../daemon/rpc/service-binding.js";
import { DaemonService } from "../gen/claude_sessions/v1/daemon_pb.js";
import { SessionService } from "../gen/claude_sessions/v1/session_service_pb.js";
import { LIVENESS_TIMEOUT_MS } from "./liveness.js";

export { ClientError, toClientError } from "./client-error.js";

export interface ClientOptions {
  /**
   * Connect even to a socket, or through a home, that is not the user's alone. Whatever serves
   * such a socket gets every call, the environments sent with `StartSession` included.
   */
  allowUnsafeSocket?: boolean | undefined;
}

export interface RemoteOptions {
  /**
   * The command that runs `claude-sessions` on the far side, as its shell reads it (default:
   * `$CLAUDE_SESSIONS_REMOTE_PROGRAM`, else `claude-sessions`).
   */
  program?: string | undefined;
  /** The ssh command, as words (default: `$CLAUDE_SESSIONS_SSH_COMMAND`, else `ssh`). */
  sshCommand?: readonly string[] | undefined;
  /** Whether the far side starts its daemon if none runs (default: true). */
  start?: boolean | undefined;
}

export interface ConnectOptions extends ClientOptions {
  /** The socket path; defaults to `<home>/daemon.sock`. */
  socket?: string | undefined;
  /** The state home; defaults to `$CLAUDE_SESSIONS_HOME` or `~/.claude-sessions`. */
  home?: string | undefined;
}

/**
 * How much a stream may carry before this client has read it. HTTP/2's default of 64 KiB lets
 * the daemon send only 64 KiB per round trip between the two event loops: a terminal attached
 * to a program that floods its output fell behind and was resynchronised for want of window.
 */
const FLOW_CONTROL_WINDOW = 2 * 1024 * 1024;

/** A connection to a daemon. */
export class DaemonClient {
  readonly sessions: ServiceClient<(typeof SessionService)["method"]>;
  readonly daemon: ServiceClient<(typeof DaemonService)["method"]>;
  private readonly channel: grpc.Client;
  private bridge: { close(): void } | undefined;

  /**
   * Throws `UnsafeHomeError`, before anything connects, when the socket or the directory it is
   * in belongs to another user or is open to group or other (as the daemon keeps them, and as
   * tmux's client checks its socket directory), unless `allowUnsafeSocket` says otherwise.
   */
  constructor(
    readonly socketPath: string,
    options: ClientOptions = {},
  ) {
    if (options.allowUnsafeSocket !== true) checkDaemonSocket(socketPath);
    this.channel = new grpc.Client(socketAddress(socketPath), grpc.credentials.createInsecure(), {
      // Local socket: fail fast instead of retrying with backoff while the daemon is down.
      "grpc.initial_reconnect_backoff_ms": 50,
      "grpc.max_reconnect_backoff_ms": 200,
      "grpc.max_receive_message_length": 64 * 1024 * 1024,
      "grpc.max_send_message_length": 64 * 1024 * 1024,
      "grpc-node.flow_control_window": FLOW_CONTROL_WINDOW,
    });
    this.sessions = createServiceClient(SessionService, this.channel);
    this.daemon = createServiceClient(DaemonService, this.channel);
  }

  /** Connects to the socket named by `options`, the environment, or the default. */
  static connect(options: ConnectOptions = {}): DaemonClient {
    return new DaemonClient(
      options.socket ?? homePaths(options.home ?? resolveHome()).socket,
      options,
    );
  }

  /**
   * Connects to the daemon of another machine through ssh (`host` is
   * `ssh://[user@]host[:port]`), as `claude-sessions --host` does: with the user's ssh config,
   * keys and agent, running `claude-sessions dial-stdio` there (which starts its daemon if
   * none runs). Resolves once the far side has answered; rejects with a `ClientError` whose
   * one-line message says why it could not be reached (ssh missing, host key unknown, login
   * refused, `claude-sessions` missing or too old there).
   */
  static async connectHost(host: string, options: RemoteOptions = {}): Promise<DaemonClient> {
    const [{ SshBridge }, { sshCommandOf }, { parseSshAddress }] = await Promise.all([
      import("./remote/ssh-bridge.js"),
      import("./remote/ssh-transport.js"),
      import("./remote/ssh-url.js"),
    ]);
    const bridge = await SshBridge.open({
      address: parseSshAddress(host, "the host"),
      program: options.program ?? (process.env.CLAUDE_SESSIONS_REMOTE_PROGRAM || "claude-sessions"),
      start: options.start ?? true,
      sshCommand: options.sshCommand ?? sshCommandOf(),
    });
    const client = new DaemonClient(bridge.socketPath);
    client.bridge = bridge;
    return client;
  }

  /** Whether a daemon answers Ping within `timeoutMs`. */
  async isRunning(timeoutMs = LIVENESS_TIMEOUT_MS): Promise<boolean> {
    try {
      await this.daemon.ping({}, { deadline: Date.now() + timeoutMs });
      return true;
    } catch {
      return false;
    }
  }

  close(): void {
    this.channel.close();
    this.bridge?.close();
  }
}
