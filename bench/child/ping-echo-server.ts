/**
 * The Ping baseline: a bare grpc-js server on a unix socket serving DaemonService through the
 * same adapter as the daemon (bindService), with a trivial Ping and nothing else. Usage:
 * `ping-echo-server <socket path>`; prints "ready" once it serves; SIGTERM ends it.
 */
import { chmodSync } from "node:fs";
import * as grpc from "@grpc/grpc-js";
import { socketAddress } from "../../daemon/common/paths.js";
import { VERSION } from "../../daemon/common/version.js";
import { bindService } from "../../daemon/rpc/service-binding.js";
import { DaemonService } from "../../gen/claude_sessions/v1/daemon_pb.js";

const socket = process.argv[2];
if (socket === undefined) {
  process.stderr.write("usage: ping-echo-server <socket path>\n");
  process.exit(2);
}
const server = new grpc.Server();
const binding = bindService(DaemonService, {
  async ping() {
    return { version: VERSION, pid: process.pid };
  },
  async reloadConfig() {
    return {};
  },
  async shutdown() {
    setImmediate(() => server.forceShutdown());
    return { pid: process.pid };
  },
});
server.addService(binding.definition, binding.handlers);
server.bindAsync(socketAddress(socket), grpc.ServerCredentials.createInsecure(), (error) => {
  if (error) {
    process.stderr.write(`cannot serve ${socket}: ${error.message}\n`);
    process.exit(1);
  }
  // Private, as the daemon keeps its socket: clients connect to no other.
  chmodSync(socket, 0o600);
  process.stdout.write("ready\n");
});
process.on("SIGTERM", () => {
  server.forceShutdown();
  process.exit(0);
});
