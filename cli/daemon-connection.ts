/**
 * The CLI's connection to a daemon: both services as typed stubs on the lean HTTP/2 transport
 * (see rpc/http2-channel.ts for why it is not grpc-js). Programs that want a full gRPC client
 * use `DaemonClient` from client.ts.
 */
import { UsageError } from "clipanion";
import { checkDaemonSocket } from "../daemon/common/home-guard.js";
import { homePaths, resolveHome } from "../daemon/common/paths.js";
import { DaemonService } from "../gen/claude_sessions/v1/daemon_pb.js";
import { SessionService } from "../gen/claude_sessions/v1/session_service_pb.js";
import { parseDuration } from "./durations.js";
import { LIVENESS_TIMEOUT_MS } from "./liveness.js";
import { Http2Channel } from "./rpc/http2-channel.js";
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

  /**
   * Unary calls give up after `callTimeoutMs` with DEADLINE_EXCEEDED unless they set their own
   * deadline (calls that wait on purpose, such as a stop with its grace period, add it to this).
   * Streams (attach, logs -f, watch) run as long as they must. Throws `UnsafeHomeError`, before
   * anything connects, when the socket or its home is not the user's alone.
   */
  constructor(
    readonly socketPath: string,
    readonly callTimeoutMs = DEFAULT_CALL_TIMEOUT_MS,
  ) {
    checkDaemonSocket(socketPath);
    this.channel = new Http2Channel(socketPath);
    const options = { unaryTimeoutMs: callTimeoutMs };
    this.sessions = createServiceStub(SessionService, this.channel, options);
    this.daemon = createServiceStub(DaemonService, this.channel, options);
  }

  /** Connects to `socket`, or to the socket of the home named by the environment. */
  static open(socket?: string): DaemonConnection {
    return new DaemonConnection(socket ?? homePaths(resolveHome()).socket, callTimeoutMs());
  }

  /** A deadline for a call that may take `waitMs` on purpose, plus the usual time to answer. */
  deadlineAfter(waitMs: number): number {
    return Date.now() + waitMs + this.callTimeoutMs;
  }

  /**
   * Resolves once the socket is connected. Rejects with a `CallError` whose `requestSent` is
   * false when nothing listens there: no daemon runs, and no call has been made.
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
