/**
 * The CLI's connection to a daemon: both services as typed stubs on the lean HTTP/2 transport
 * (see rpc/http2-channel.ts for why it is not grpc-js). Programs that want a full gRPC client
 * use `DaemonClient` from client.ts.
 */
import { homePaths, resolveHome } from "../daemon/paths.js";
import { DaemonService } from "../gen/claude_sessions/v1/daemon_pb.js";
import { SessionService } from "../gen/claude_sessions/v1/session_service_pb.js";
import { Http2Channel } from "./rpc/http2-channel.js";
import { createServiceStub, type ServiceStub } from "./rpc/service-stub.js";

export class DaemonConnection {
  readonly sessions: ServiceStub<(typeof SessionService)["method"]>;
  readonly daemon: ServiceStub<(typeof DaemonService)["method"]>;
  private readonly channel: Http2Channel;

  constructor(readonly socketPath: string) {
    this.channel = new Http2Channel(socketPath);
    this.sessions = createServiceStub(SessionService, this.channel);
    this.daemon = createServiceStub(DaemonService, this.channel);
  }

  /** Connects to `socket`, or to the socket of the home named by the environment. */
  static open(socket?: string): DaemonConnection {
    return new DaemonConnection(socket ?? homePaths(resolveHome()).socket);
  }

  /** Whether a daemon answers Ping within `timeoutMs`. */
  async isRunning(timeoutMs = 2000): Promise<boolean> {
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
