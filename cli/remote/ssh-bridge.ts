/**
 * A daemon on another machine as a unix socket on this one, for grpc-js (which dials sockets,
 * not pipes): every connection made to the bridge's private socket is one more ssh running
 * `claude-sessions dial-stdio` on the far side, piped both ways.
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ClientError } from "../client-error.js";
import { type SshDialOptions, SshTransport } from "./ssh-transport.js";

export class SshBridge {
  private readonly links = new Set<{ local: Socket; remote: SshTransport }>();
  private spare: SshTransport | undefined;

  private constructor(
    private readonly server: Server,
    private readonly dir: string,
    readonly socketPath: string,
    private readonly options: SshDialOptions,
    first: SshTransport,
  ) {
    this.spare = first;
    server.on("connection", (local: Socket) => this.link(local));
  }

  /**
   * Dials the far side once, to fail now with the one-line {@link ClientError} that says why
   * it cannot be reached (that first connection serves the first client), then listens.
   */
  static async open(options: SshDialOptions): Promise<SshBridge> {
    const first = new SshTransport(options);
    // Its failure is told by `connected`; until a client is linked, nothing else listens.
    first.on("error", () => undefined);
    try {
      await first.connected;
    } catch (error) {
      const { code, details } = error as { code: number; details: string };
      throw new ClientError(details, code);
    }
    // A directory of our own (0700), so no other user can connect through our ssh.
    const dir = mkdtempSync(join(tmpdir(), "claude-sessions-ssh-"));
    const socketPath = join(dir, "bridge.sock");
    const server = createServer();
    try {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(socketPath, () => {
          server.off("error", reject);
          // The directory keeps others out already; the socket says so too.
          chmodSync(socketPath, 0o600);
          resolve();
        });
      });
    } catch (error) {
      first.destroy();
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
    // The bridge serves its client; it keeps no process alive on its own.
    server.unref();
    return new SshBridge(server, dir, socketPath, options, first);
  }

  /** Stops listening and ends every ssh it opened. */
  close(): void {
    this.server.close();
    this.spare?.destroy();
    this.spare = undefined;
    for (const { local, remote } of this.links) {
      local.destroy();
      remote.destroy();
    }
    this.links.clear();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private link(local: Socket): void {
    const remote = this.spare ?? new SshTransport(this.options);
    this.spare = undefined;
    const link = { local, remote };
    this.links.add(link);
    const end = () => {
      this.links.delete(link);
      local.destroy();
      remote.destroy();
    };
    local.on("error", end);
    local.on("close", end);
    remote.on("error", end);
    remote.on("close", end);
    local.pipe(remote);
    remote.pipe(local);
  }
}
