/**
 * The daemon's gRPC server: grpc-js serving the services it is given, through the descriptor
 * adapter, on connections accepted elsewhere (the daemon's gate hands over each one that speaks
 * HTTP/2). The daemon's wiring sees only this class, never grpc-js.
 */
import type { Socket } from "node:net";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import * as grpc from "@grpc/grpc-js";
import { withTimeout } from "../common/async.js";
import { bindService, type ServiceImpl } from "./service-binding.js";

/** grpc-js keeps a closed server's streams open; give them this long after Shutdown. */
const STREAM_CLOSE_MS = 1000;

export class GrpcServer {
  private readonly server = new grpc.Server({
    // A stalled client must not hold the daemon's memory: bound what one call may buffer.
    "grpc.max_receive_message_length": 4 * 1024 * 1024,
  });

  /** Serves `service` with the handlers of `impl`. */
  serve<S extends GenServiceMethods>(service: GenService<S>, impl: ServiceImpl<S>): void {
    const { definition, handlers } = bindService(service, impl);
    this.server.addService(definition, handlers);
  }

  /** Starts taking connections, once every service is added: returns where to hand each one. */
  start(): (socket: Socket) => void {
    const injector = this.server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
    return (socket) => injector.injectConnection(socket);
  }

  /** Ends every call: lets them finish, and cuts those still open after {@link STREAM_CLOSE_MS}. */
  close(): Promise<void> {
    const server = this.server;
    return withTimeout(
      new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
      STREAM_CLOSE_MS,
      () => server.forceShutdown(),
    );
  }
}
