/**
 * The daemon's listening socket, in front of the gRPC server: a connection is handed to it
 * (`GrpcServer.start` in `daemon/rpc/`) once it has sent the HTTP/2 client preface and its first
 * SETTINGS frame, which every HTTP/2 client sends as soon as it connects (RFC 9113 section 3.4).
 * One that has not within {@link HANDSHAKE_TIMEOUT_MS} is closed: the gRPC server and Node's
 * HTTP/2 server hold a connection that never speaks for ever, and 22,000 of them took the daemon
 * to its open-file limit. Connections also stop short of that limit ({@link ConnectionBudget}),
 * so sessions and the state file always find a descriptor.
 */
import { chmodSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { ConnectionBudget } from "./fd-budget.js";

/**
 * How long a new connection has to send the HTTP/2 preface and its first SETTINGS frame. A client
 * sends both as soon as it is connected; the margin is for a machine so loaded that the client
 * itself does not run for seconds.
 */
export const HANDSHAKE_TIMEOUT_MS = 5000;
/**
 * Connections in their handshake at once; more are closed as they arrive, so silent ones cannot
 * take every slot from clients that speak. Clients that connect together are all accepted before
 * any of them is read, so this is well above how many a user or a test starts at once.
 */
export const MAX_PENDING_HANDSHAKES = 256;

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
const FRAME_HEADER_BYTES = 9;
const SETTINGS = 0x4;
const ACK = 0x1;
/** The largest frame a peer may send before it has seen our SETTINGS (RFC 9113 section 4.2). */
const DEFAULT_MAX_FRAME_BYTES = 16_384;

/**
 * Whether `bytes`, the start of a connection, hold the preface and a whole first frame. Bytes
 * that cannot be HTTP/2 are "other": handed over all the same, for the HTTP/2 server to refuse
 * with its GOAWAY as it always has.
 */
function handshakeOf(bytes: Buffer): "incomplete" | "complete" | "other" {
  const prefix = Math.min(bytes.length, PREFACE.length);
  if (!bytes.subarray(0, prefix).equals(PREFACE.subarray(0, prefix))) return "other";
  const header = PREFACE.length;
  if (bytes.length < header + FRAME_HEADER_BYTES) return "incomplete";
  const length = bytes.readUIntBE(header, 3);
  const type = bytes[header + 3];
  const flags = bytes[header + 4] ?? 0;
  if (type !== SETTINGS || (flags & ACK) !== 0 || length > DEFAULT_MAX_FRAME_BYTES) return "other";
  return bytes.length >= header + FRAME_HEADER_BYTES + length ? "complete" : "incomplete";
}

/** How often, at most, the daemon's log says that connections are being refused. */
const REFUSAL_REPORT_MS = 10_000;

export class ConnectionGate {
  private listener: Server | undefined;
  private readonly pending = new Set<Socket>();
  /** Connections accepted and not yet closed, handed over or not. */
  private open = 0;
  private readonly budget = new ConnectionBudget();
  /** Closed for not completing the handshake in time. */
  private timedOut = 0;
  private reportedAt = Number.NEGATIVE_INFINITY;
  private refusedSinceReport = 0;

  constructor(
    private readonly handOver: (socket: Socket) => void,
    /** Told that connections are being refused, and why; at most every few seconds. */
    private readonly onRefusing: (message: string) => void,
  ) {}

  /**
   * Listens on `path`, private (mode 0600) from the first instant; a listener from before (its
   * socket file deleted) is closed first. Connections already made are kept.
   */
  async listen(path: string): Promise<void> {
    this.listener?.close();
    this.listener = undefined;
    const listener = createServer((socket) => this.accept(socket));
    // Sockets are created with the umask's mode.
    const umask = process.umask(0o077);
    try {
      await new Promise<void>((resolve, reject) => {
        listener.once("error", reject);
        listener.listen(path, () => {
          listener.off("error", reject);
          resolve();
        });
      });
    } finally {
      process.umask(umask);
    }
    chmodSync(path, 0o600);
    // An accept that fails (EMFILE, ENFILE) must not end the daemon; libuv retries it.
    listener.on("error", () => undefined);
    this.listener = listener;
  }

  /**
   * Stops listening (the socket file goes with it) and closes connections still in their
   * handshake; those handed over are the gRPC server's to close.
   */
  close(): void {
    this.listener?.close();
    this.listener = undefined;
    for (const socket of this.pending) socket.destroy();
    this.pending.clear();
  }

  private accept(socket: Socket): void {
    socket.on("error", () => undefined);
    const crowded = this.pending.size >= MAX_PENDING_HANDSHAKES;
    if (crowded || !this.budget.allows(this.open)) {
      socket.destroy();
      this.refused(
        crowded
          ? `${MAX_PENDING_HANDSHAKES} connections have not completed their handshake`
          : `${this.open} connections are open, close to the open-file limit`,
      );
      return;
    }
    this.open += 1;
    this.pending.add(socket);
    // Closed from the check phase, after the poll phase that reads sockets: if the loop was
    // blocked past the deadline, a preface that had arrived is read before the verdict.
    const timer = setTimeout(
      () =>
        setImmediate(() => {
          if (!this.pending.delete(socket)) return;
          this.timedOut += 1;
          socket.destroy();
        }),
      HANDSHAKE_TIMEOUT_MS,
    );
    timer.unref();
    socket.once("close", () => {
      clearTimeout(timer);
      this.open -= 1;
      this.pending.delete(socket);
    });
    const chunks: Buffer[] = [];
    let received = 0;
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      const start = Buffer.concat(chunks, received);
      if (handshakeOf(start) === "incomplete") return;
      socket.off("data", onData);
      clearTimeout(timer);
      this.pending.delete(socket);
      socket.pause();
      // What was read goes back, for the HTTP/2 server to read first.
      socket.unshift(start);
      this.handOver(socket);
    };
    socket.on("data", onData);
  }

  private refused(why: string): void {
    this.refusedSinceReport += 1;
    const now = performance.now();
    if (now - this.reportedAt < REFUSAL_REPORT_MS) return;
    this.onRefusing(
      `refused ${this.refusedSinceReport} connection(s): ${why}; ${this.timedOut} closed so far for not completing the HTTP/2 handshake within ${HANDSHAKE_TIMEOUT_MS} ms`,
    );
    this.reportedAt = now;
    this.refusedSinceReport = 0;
  }
}
