/**
 * A small gRPC client transport for the daemon's unix socket (or any byte stream to a daemon,
 * such as an ssh pipe to another machine), on the CLI's own HTTP/2 connection
 * (http2-connection.ts).
 *
 * The CLI does not use grpc-js as a client: loading it (channels, load balancers, resolvers,
 * TLS, compression) costs more than the whole start-up budget of a command such as `list`.
 * One local socket, no TLS, no compression and no retries need only the protocol itself
 * (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md): a POST per call,
 * length-prefixed messages, the status in the trailers.
 */
import { EventEmitter } from "node:events";
import { connect as connectSocket } from "node:net";
import { Notifier } from "../../daemon/common/async.js";
import { CallError, Status } from "./call-error.js";
import type { HeaderList } from "./hpack.js";
import {
  type Headers,
  Http2Connection,
  type Http2Stream,
  type Transport,
} from "./http2-connection.js";
import { ErrorCode } from "./http2-frame.js";
import { encodeFrame, FrameReader } from "./message-frame.js";

export interface CallOptions {
  /** When the call gives up with DEADLINE_EXCEEDED (a Date or milliseconds since the epoch). */
  deadline?: Date | number | undefined;
  /**
   * The wait the deadline was set for, as its DEADLINE_EXCEEDED message says it. By the time the
   * call starts (a connection opened, a busy machine) less of it is left than was asked for.
   */
  timeoutMs?: number | undefined;
}

/** How a call turns its messages into bytes and back. */
export interface Codec<I, O> {
  serialize(message: I): Uint8Array;
  deserialize(bytes: Uint8Array): O;
}

/** grpc-timeout allows at most 8 digits; beyond that, whole seconds. */
function timeoutHeader(ms: number): string {
  return ms <= 99_999_999
    ? `${Math.max(1, Math.ceil(ms))}m`
    : `${Math.min(99_999_999, Math.ceil(ms / 1000))}S`;
}

/** The longest a Node timer can wait: 2^31 - 1 ms, about 24.8 days. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** "300 ms", "30 s": a deadline set a few ms before the call started still reads "30 s". */
function formatWait(ms: number): string {
  return ms < 950 ? `${Math.round(ms)} ms` : `${Number((ms / 1000).toFixed(1))} s`;
}

/** grpc-message is percent-encoded. */
function decodeMessage(value: string | undefined): string {
  const text = value ?? "";
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The status a call gets when the stream was reset instead of ending with trailers. */
function statusForReset(code: number): [code: number, details: string] {
  switch (code) {
    case ErrorCode.REFUSED_STREAM:
      return [Status.UNAVAILABLE, "the daemon refused the call"];
    case ErrorCode.CANCEL:
      return [Status.CANCELLED, "the daemon cancelled the call"];
    case ErrorCode.ENHANCE_YOUR_CALM:
      return [Status.RESOURCE_EXHAUSTED, "the daemon asked to slow down"];
    default:
      return [Status.INTERNAL, `the call was reset with HTTP/2 code ${code}`];
  }
}
/** A transport failure as a status; a dialer's own {@link CallError} is kept as it is. */
function transportFailure(error: Error): CallError {
  if (error instanceof CallError) return error;
  // A socket that could not connect ("connect ENOENT <socket>") never carried the request; one
  // that failed later lost a daemon that had taken it.
  const notSent = (error as NodeJS.ErrnoException).syscall === "connect";
  return new CallError(Status.UNAVAILABLE, error.message, !notSent, !notSent);
}

/**
 * One call. Like a grpc-js call it emits "data" for each response, then "end" if the call
 * ended with status OK or "error" (a {@link CallError}) if not, then "close"; it is also
 * async-iterable, with backpressure.
 */
export class ClientCall<I, O> extends EventEmitter {
  private readonly reader = new FrameReader();
  private trailers: Headers | undefined;
  private httpStatus: number | undefined;
  private transportError: Error | undefined;
  /** A status decided on this side: cancelled, deadline passed, undecodable response. */
  private localStatus: CallError | undefined;
  private finished = false;
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly stream: Http2Stream,
    private readonly codec: Codec<I, O>,
    deadline: number | undefined,
    timeoutMs: number | undefined,
  ) {
    super();
    stream.on("response", (headers: Headers) => {
      this.httpStatus = Number(headers[":status"]);
      // A "trailers-only" response carries the status in its headers.
      if (headers["grpc-status"] !== undefined) this.trailers = headers;
    });
    stream.on("trailers", (headers: Headers) => {
      this.trailers = headers;
    });
    stream.on("data", (chunk: Buffer) => this.receive(chunk));
    stream.on("error", (error: Error) => {
      this.transportError ??= error;
    });
    stream.on("close", () => this.finish());
    // A timer cannot wait longer than MAX_TIMER_MS (it would fire at once): beyond that the
    // call simply has no deadline on this side.
    if (deadline !== undefined && deadline - Date.now() <= MAX_TIMER_MS) {
      const waitMs = Math.max(0, deadline - Date.now());
      const wait = formatWait(timeoutMs ?? waitMs);
      this.timer = setTimeout(
        () => this.abort(new CallError(Status.DEADLINE_EXCEEDED, `no answer within ${wait}`)),
        waitMs,
      );
    }
  }

  /** Sends one request message. */
  write(message: I): boolean {
    if (this.finished || this.stream.writableEnded) return false;
    return this.stream.write(encodeFrame(this.codec.serialize(message)));
  }

  /** Says that no more requests follow. */
  end(): void {
    if (!this.finished && !this.stream.writableEnded) this.stream.end();
  }

  /** Abandons the call; it ends with CANCELLED unless it already ended. */
  cancel(): void {
    this.abort(new CallError(Status.CANCELLED, "cancelled on client"));
  }

  /** Stops reading responses for now (flow control reaches the daemon). */
  pause(): void {
    this.stream.pause();
  }

  resume(): void {
    this.stream.resume();
  }

  private receive(chunk: Buffer): void {
    if (this.localStatus !== undefined) return;
    try {
      for (const bytes of this.reader.push(chunk)) this.emit("data", this.codec.deserialize(bytes));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.abort(new CallError(Status.INTERNAL, `cannot decode the daemon's response: ${reason}`));
    }
  }

  private abort(status: CallError): void {
    if (this.finished || this.localStatus !== undefined) return;
    this.localStatus = status;
    this.stream.reset(ErrorCode.CANCEL);
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.timer);
    const failure = this.outcome();
    if (failure === undefined) this.emit("end");
    else this.emit("error", failure);
    this.emit("close");
  }

  private outcome(): CallError | undefined {
    if (this.localStatus !== undefined) return this.localStatus;
    if (this.trailers !== undefined) {
      const code = Number(this.trailers["grpc-status"]);
      if (code === Status.OK) {
        return this.reader.partial
          ? new CallError(Status.INTERNAL, "the response ended inside a message")
          : undefined;
      }
      return new CallError(
        Number.isInteger(code) ? code : Status.UNKNOWN,
        decodeMessage(this.trailers["grpc-message"]),
      );
    }
    if (this.transportError !== undefined) return transportFailure(this.transportError);
    if (this.httpStatus !== undefined && this.httpStatus !== 200)
      return new CallError(
        Status.UNKNOWN,
        `the daemon answered with HTTP status ${this.httpStatus}`,
      );
    if (this.stream.rstCode !== undefined && this.stream.rstCode !== ErrorCode.NO_ERROR) {
      const [code, text] = statusForReset(this.stream.rstCode);
      // This side did not cancel (that is localStatus): the daemon cut the call, as a
      // shutdown does with the calls still open.
      return new CallError(code, text, true, this.stream.rstCode === ErrorCode.CANCEL);
    }
    return new CallError(Status.UNAVAILABLE, "the connection to the daemon closed", true, true);
  }

  [Symbol.asyncIterator](): AsyncIterator<O> {
    /** Responses buffered before the reader asks; above this the stream is paused. */
    const highWater = 16;
    const queue: O[] = [];
    let done = false;
    let failure: CallError | undefined;
    const arrived = new Notifier();
    this.on("data", (message: O) => {
      queue.push(message);
      if (queue.length >= highWater) this.pause();
      arrived.notify();
    });
    this.on("error", (error: CallError) => {
      failure = error;
      done = true;
      arrived.notify();
    });
    this.on("end", () => {
      done = true;
      arrived.notify();
    });
    return {
      next: async (): Promise<IteratorResult<O>> => {
        for (;;) {
          if (queue.length > 0) {
            const value = queue.shift() as O;
            if (queue.length === 0) this.resume();
            return { value, done: false };
          }
          if (failure !== undefined) throw failure;
          if (done) return { value: undefined, done: true };
          await arrived.wait();
        }
      },
      return: async (): Promise<IteratorResult<O>> => {
        this.cancel();
        return { value: undefined, done: true };
      },
    };
  }
}

/**
 * How a channel reaches its daemon: a new byte stream, and a promise that settles once it is
 * connected (rejecting with why not: a {@link CallError} whose `requestSent` is false, or an
 * error from connecting a socket).
 */
export type Dialer = () => { transport: Transport; connected: Promise<unknown> };

/** The dialer of a daemon's unix socket. */
export function socketDialer(socketPath: string): Dialer {
  return () => {
    const socket = connectSocket(socketPath);
    const connected = new Promise<void>((resolve, reject) => {
      const settle = (error?: Error) => {
        socket.off("connect", settle);
        socket.off("error", settle);
        if (error === undefined) resolve();
        else reject(error);
      };
      socket.once("connect", settle);
      socket.once("error", settle);
    });
    return { transport: socket, connected };
  };
}

/** An HTTP/2 connection to a daemon, opened on the first call and again if it drops. */
export class Http2Channel {
  private connection: Http2Connection | undefined;
  /** Settles when the current connection's transport connects, or fails to. */
  private connected: Promise<unknown> = Promise.resolve();
  private active = 0;

  constructor(private readonly dial: Dialer) {}

  /** Starts a call to `path` ("/package.Service/Method"). */
  start<I, O>(path: string, codec: Codec<I, O>, options: CallOptions = {}): ClientCall<I, O> {
    const connection = this.open();
    const headers: HeaderList = [
      [":method", "POST"],
      [":scheme", "http"],
      [":path", path],
      [":authority", "localhost"],
      ["content-type", "application/grpc+proto"],
      ["te", "trailers"],
    ];
    const deadline = options.deadline === undefined ? undefined : Number(options.deadline);
    if (deadline !== undefined)
      headers.push(["grpc-timeout", timeoutHeader(deadline - Date.now())]);
    const call = new ClientCall(connection.request(headers), codec, deadline, options.timeoutMs);
    // An idle connection must not keep the process alive; a call in flight must.
    this.active += 1;
    connection.ref();
    call.once("close", () => {
      this.active -= 1;
      if (this.active === 0) connection.unref();
    });
    return call;
  }

  /**
   * Opens the connection, if it is not open, and resolves once its transport is connected.
   * Rejects with a {@link CallError} whose `requestSent` is false when nothing listens on the
   * socket, or when the dialer could not reach the daemon.
   */
  async connect(): Promise<void> {
    this.open();
    try {
      await this.connected;
    } catch (error) {
      throw transportFailure(error as Error);
    }
  }

  /** Closes the connection once its calls are done. */
  close(): void {
    this.connection?.close();
    this.connection = undefined;
  }

  private open(): Http2Connection {
    if (this.connection?.usable) return this.connection;
    const { transport, connected } = this.dial();
    this.connected = connected;
    // Calls report the same failure; this promise is only for connect().
    this.connected.catch(() => undefined);
    this.connection = new Http2Connection(transport);
    return this.connection;
  }
}
