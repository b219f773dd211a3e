/**
 * The CLI's connection to a daemon, on this machine's socket or through ssh on another's: both
 * services as typed stubs on the lean HTTP/2 transport (see rpc/http2-channel.ts for why it is
 * not grpc-js). Programs that want a full gRPC client use `DaemonClient` from client.ts.
 */
import { UsageError } from "clipanion";
import { checkDaemonSocket } from "../daemon/common/home-guard.js";
import { homePaths, resolveHome } from "../daemon/common/paths.js";
import { DaemonService } from "../gen/claude_sessions/v1/daemon_pb.js";
import { SessionService } from "../gen/claude_sessions/v1/session_service_pb.js";
import { parseDuration } from "./durations.js";
import { LIVENESS_TIMEOUT_MS } from "./liveness.js";
import { type Dialer, Http2Channel, socketDialer } from "./rpc/http2-channel.js";
import { createServiceStub, type ServiceStub } from "./rpc/service-stub.js";

/** How long a call waits for its answer unless `CLAUDE_SESSIONS_CALL_TIMEOUT` says otherwise. */
export const DEFAULT_CALL_TIMEOUT_MS = 30_000;

/** The wait for a call's answer: `CLAUDE_SESSIONS_CALL_TIMEOUT` ("10s", "2m") or the default. */
export function callTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.CLAUDE_SESSIONS_CALL_TIMEOUT;
  if (text === undefined || text === "") return DEFAULT_CALL_TIMEOUT_MS;
  const ms = parseDuration(text, "CLAUDE_SESSIONS_CALL_TIMEOUT");
  if (ms <= 0) throw new UsageError("CLAUDE_SESSIONS_CALL_TIMEOUT must be longer than 0");
  return ms;
}

export class DaemonConnection {
  readonly sessions: ServiceStub<(typeof SessionService)["method"]>;
  readonly daemon: ServiceStub<(typeof DaemonService)["method"]>;
  private readonly channel: Http2Channel;

  /** Where the daemon is, as messages name it: its socket's path, or `ssh://host`. */
  readonly address: string;
  /** Whether the daemon is on another machine (reached through `remote.dial`). */
  readonly remote: boolean;

  /**
   * A connection to the daemon on `socketPath`, or to the one `remote` reaches (`address` names
   * it, and `dial` opens a byte stream to it). Unary calls give up after `callTimeoutMs` with
   * DEADLINE_EXCEEDED unless they set their own deadline (calls that wait on purpose, such as a
   * stop with its grace period, add it to this). Streams (attach, logs -f, watch) run as long
   * as they must. Throws `UnsafeHomeError`, before anything connects, when the socket or its
   * home is not the user's alone (a remote daemon's is checked on its machine).
   */
  constructor(
    socketPath: string,
    readonly callTimeoutMs = DEFAULT_CALL_TIMEOUT_MS,
    remote?: { address: string; dial: Dialer },
  ) {
    this.remote = remote !== undefined;
    this.address = remote?.address ?? socketPath;
    if (remote === undefined) checkDaemonSocket(socketPath);
    this.channel = new Http2Channel(remote?.dial ?? socketDialer(socketPath));
    const options = { unaryTimeoutMs: callTimeoutMs };
    this.sessions = createServiceStub(SessionService, this.channel, options);
    this.daemon = createServiceStub(DaemonService, this.channel, options);
  }

  /** Connects to `socket`, or to the socket of the home named by the environment. */
  static open(socket?: string): DaemonConnection {
    return new DaemonConnection(socket ?? homePaths(resolveHome()).socket, callTimeoutMs());
  }

  /** A connection to the daemon `dial` reaches on another machine, named `address`. */
  static remote(address: string, dial: Dialer): DaemonConnection {
    return new DaemonConnection("", callTimeoutMs(), { address, dial });
  }

  /** A deadline for a call that may take `waitMs` on purpose, plus the usual time to answer. */
  deadlineAfter(waitMs: number): number {
    return Date.now() + waitMs + this.callTimeoutMs;
  }

  /**
   * Resolves once the socket (or the remote bridge) is connected. Rejects with a `CallError`
   * whose `requestSent` is false when nothing listens there (no daemon runs, and no call has
   * been made), or a `RemoteError` when the remote machine could not be reached.
   */
  connect(): Promise<void> {
    return this.channel.connect();
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
  }
}
