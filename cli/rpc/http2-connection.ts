/**
 * A client's HTTP/2 connection (RFC 9113) on a socket, written for the CLI's calls to its
 * daemon: streams with flow control both ways, HPACK, SETTINGS, PING, GOAWAY and RST_STREAM;
 * no TLS, no server push, no priorities.
 *
 * Node's own `node:http2` would do, but loading it loads TLS and OpenSSL: about 5 ms of a
 * command's start on Node 20 and 15 ms on Node 24, more than half of what `list` costs above
 * bare Node there.
 */
import { EventEmitter } from "node:events";
import type { Duplex } from "node:stream";
import { encodeHeaders, type HeaderList, HpackDecoder } from "./hpack.js";
import {
  CLIENT_PREFACE,
  DEFAULT_MAX_FRAME,
  DEFAULT_WINDOW,
  ErrorCode,
  encodeFrame,
  Flag,
  type Frame,
  FrameReader,
  FrameType,
  framePayload,
  Setting,
} from "./http2-frame.js";

/**
 * How much one stream may carry before its reader has taken it. The default of 64 KiB lets the
 * daemon send only 64 KiB per round trip between the two event loops: a terminal attached to
 * a program that floods its output would fall behind and be resynchronised for want of window.
 */
const STREAM_WINDOW = 2 * 1024 * 1024;
/** The connection's window: room for several streams at full speed. */
const CONNECTION_WINDOW = 16 * 1024 * 1024;
/** Request bytes a stream buffers before write() asks its caller to wait for "drain". */
const WRITE_HIGH_WATER = 64 * 1024;

/**
 * What a connection runs on: a unix socket to the daemon, or any other byte stream to it (the
 * pipe of an ssh to another machine) that can, like a socket, stop keeping the process alive.
 */
export interface Transport extends Duplex {
  ref(): unknown;
  unref(): unknown;
}

/** Header names and values of one block; a repeated name's values are joined with ", ". */
export type Headers = Record<string, string>;

function headerRecord(list: HeaderList): Headers {
  const record: Headers = {};
  for (const [name, value] of list) {
    const seen = record[name];
    record[name] = seen === undefined ? value : `${seen}, ${value}`;
  }
  return record;
}

function windowUpdate(streamId: number, increment: number): Buffer {
  const payload = Buffer.allocUnsafe(4);
  payload.writeUInt32BE(increment, 0);
  return encodeFrame(FrameType.WINDOW_UPDATE, 0, streamId, payload);
}

/**
 * One request and its response. Emits "response" (the response headers), "data" (Buffer),
 * "trailers", "drain", "error" (a connection failure) and finally "close", once: after the
 * response ended and was read, or after a reset (`rstCode`), or when the connection was lost.
 */
export class Http2Stream extends EventEmitter {
  /**
   * Why the stream was reset, by either side; undefined if it was not. NO_ERROR when this side
   * freed a stream whose response had already ended.
   */
  rstCode: number | undefined;
  /** Whether end() was called. */
  writableEnded = false;
  sendWindow: number;
  private receivedHeaders = false;
  private paused = false;
  private inbox: Buffer[] = [];
  private remoteEnded = false;
  private closed = false;
  /** Bytes the reader has taken that the server has not yet been told it may send again. */
  private unacknowledged = 0;
  private outbox: Buffer[] = [];
  private outboxBytes = 0;
  private needsDrain = false;
  private endSent = false;

  constructor(
    readonly id: number,
    private readonly connection: Http2Connection,
    initialWindow: number,
  ) {
    super();
    this.sendWindow = initialWindow;
  }

  /** Queues request bytes; false when the caller should wait for "drain". */
  write(chunk: Uint8Array): boolean {
    if (this.closed || this.writableEnded) return false;
    this.outbox.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    this.outboxBytes += chunk.byteLength;
    this.flush();
    if (this.outboxBytes < WRITE_HIGH_WATER) return true;
    this.needsDrain = true;
    return false;
  }

  /** Says that no more request bytes follow. */
  end(): void {
    if (this.closed || this.writableEnded) return;
    this.writableEnded = true;
    this.flush();
  }

  /** Resets the stream with `code` (CANCEL to abandon a call). */
  reset(code: number = ErrorCode.CANCEL): void {
    if (this.closed) return;
    const payload = Buffer.allocUnsafe(4);
    payload.writeUInt32BE(code, 0);
    this.connection.send(encodeFrame(FrameType.RST_STREAM, 0, this.id, payload));
    this.rstCode = code;
    this.finish();
  }

  /** Stops delivering response data; the server is not given window for more until resume(). */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.deliver();
  }

  /** Sends what the windows allow of the queued request bytes, and END_STREAM when due. */
  flush(): void {
    if (this.closed) return;
    while (this.outbox.length > 0) {
      const size = Math.min(
        this.sendWindow,
        this.connection.sendWindow,
        this.connection.peerMaxFrame,
        (this.outbox[0] as Buffer).byteLength,
      );
      if (size <= 0) break;
      const head = this.outbox[0] as Buffer;
      const piece = head.subarray(0, size);
      if (size === head.byteLength) this.outbox.shift();
      else this.outbox[0] = head.subarray(size);
      this.outboxBytes -= size;
      this.sendWindow -= size;
      this.connection.sendWindow -= size;
      const last = this.writableEnded && this.outbox.length === 0;
      this.connection.send(encodeFrame(FrameType.DATA, last ? Flag.END_STREAM : 0, this.id, piece));
      if (last) this.endSent = true;
    }
    if (this.writableEnded && this.outbox.length === 0 && !this.endSent) {
      this.endSent = true;
      this.connection.send(encodeFrame(FrameType.DATA, Flag.END_STREAM, this.id));
    }
    if (this.needsDrain && this.outboxBytes < WRITE_HIGH_WATER) {
      this.needsDrain = false;
      this.emit("drain");
    }
    this.closeIfDone();
  }

  /** @internal A header block from the server: the response's headers, or its trailers. */
  receiveHeaders(headers: Headers, endStream: boolean): void {
    if (this.closed) return;
    if (this.receivedHeaders) this.emit("trailers", headers);
    else this.emit("response", headers);
    this.receivedHeaders = true;
    if (endStream) this.receiveEnd();
  }

  /** @internal Response bytes from the server; `flowBytes` is what they count against windows. */
  receiveData(data: Buffer, flowBytes: number, endStream: boolean): void {
    if (this.closed) return;
    // Padding counts against the window but is never read: it is given back at once.
    this.unacknowledged += flowBytes - data.byteLength;
    if (data.byteLength > 0) this.inbox.push(data);
    if (endStream) this.remoteEnded = true;
    this.deliver();
  }

  /** @internal The server reset the stream. */
  receiveReset(code: number): void {
    if (this.closed) return;
    this.rstCode = code;
    this.finish();
  }

  /**
   * @internal The connection is gone: with `error`, or closed without one. A response that had
   * ended is not lost with it: what the reader has not taken yet is still delivered.
   */
  receiveLoss(error: Error | undefined): void {
    if (this.closed || this.remoteEnded) return;
    if (error !== undefined) this.emit("error", error);
    this.finish();
  }

  private receiveEnd(): void {
    this.remoteEnded = true;
    this.closeIfDone();
  }

  private deliver(): void {
    while (!this.paused && !this.closed && this.inbox.length > 0) {
      const data = this.inbox.shift() as Buffer;
      this.unacknowledged += data.byteLength;
      this.emit("data", data);
    }
    if (!this.closed && !this.remoteEnded && this.unacknowledged >= STREAM_WINDOW / 4) {
      this.connection.send(windowUpdate(this.id, this.unacknowledged));
      this.unacknowledged = 0;
    }
    this.closeIfDone();
  }

  private closeIfDone(): void {
    if (this.closed || !this.remoteEnded || this.inbox.length > 0) return;
    // The server has answered in full. A request side still open (a stream the server ended
    // first, such as an error while the client still writes) has nowhere to go: it is reset,
    // which frees the stream on both sides.
    if (!this.endSent) {
      this.reset(ErrorCode.NO_ERROR);
      return;
    }
    this.finish();
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.inbox = [];
    this.outbox = [];
    this.connection.forget(this);
    process.nextTick(() => this.emit("close"));
  }
}

/** A client connection on `socket` (connected or still connecting: writes wait in the socket). */
export class Http2Connection {
  /** What the server lets this side send on the connection as a whole, and per frame. */
  sendWindow = DEFAULT_WINDOW;
  peerMaxFrame = DEFAULT_MAX_FRAME;
  private peerInitialWindow = DEFAULT_WINDOW;
  private readonly streams = new Map<number, Http2Stream>();
  private nextStreamId = 1;
  private readonly reader = new FrameReader();
  private readonly decoder = new HpackDecoder();
  /** A header block arriving in CONTINUATION frames. */
  private partialBlock: { streamId: number; endStream: boolean; chunks: Buffer[] } | undefined;
  private receivedUnacknowledged = 0;
  /** No new streams: the server said GOAWAY, the connection failed, or close() was called. */
  private draining = false;
  private lost = false;

  constructor(private readonly socket: Transport) {
    const settings = Buffer.allocUnsafe(12);
    settings.writeUInt16BE(Setting.ENABLE_PUSH, 0);
    settings.writeUInt32BE(0, 2);
    settings.writeUInt16BE(Setting.INITIAL_WINDOW_SIZE, 6);
    settings.writeUInt32BE(STREAM_WINDOW, 8);
    socket.write(
      Buffer.concat([
        CLIENT_PREFACE,
        encodeFrame(FrameType.SETTINGS, 0, 0, settings),
        windowUpdate(0, CONNECTION_WINDOW - DEFAULT_WINDOW),
      ]),
    );
    socket.on("data", (chunk: Buffer) => this.receive(chunk));
    socket.on("error", (error) => this.lose(error));
    socket.on("close", () => this.lose(undefined));
  }

  /** Whether new requests can go on this connection. */
  get usable(): boolean {
    return !this.draining && !this.lost;
  }

  /** Sends the request headers of a new stream. */
  request(headers: HeaderList): Http2Stream {
    if (!this.usable) throw new Error("the HTTP/2 connection is closed");
    const stream = new Http2Stream(this.nextStreamId, this, this.peerInitialWindow);
    this.nextStreamId += 2;
    this.streams.set(stream.id, stream);
    const block = encodeHeaders(headers);
    // A block larger than a frame continues in CONTINUATION frames.
    for (let at = 0, first = true; first || at < block.byteLength; first = false) {
      const piece = block.subarray(at, at + this.peerMaxFrame);
      at += piece.byteLength;
      const last = at >= block.byteLength;
      this.send(
        encodeFrame(
          first ? FrameType.HEADERS : FrameType.CONTINUATION,
          last ? Flag.END_HEADERS : 0,
          stream.id,
          piece,
        ),
      );
    }
    return stream;
  }

  /** Keeps the process alive while the connection is open (the default), or not. */
  ref(): void {
    this.socket.ref();
  }

  unref(): void {
    this.socket.unref();
  }

  /** Takes no new streams, and closes the socket once the open ones have ended. */
  close(): void {
    this.draining = true;
    if (this.streams.size === 0) this.socket.end();
  }

  /** @internal */
  send(frame: Buffer): void {
    if (!this.lost) this.socket.write(frame);
  }

  /** @internal A stream has closed. */
  forget(stream: Http2Stream): void {
    this.streams.delete(stream.id);
    if (this.draining && this.streams.size === 0 && !this.lost) this.socket.end();
  }

  private receive(chunk: Buffer): void {
    try {
      for (const frame of this.reader.push(chunk)) this.handle(frame);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const failure = new Error(`the daemon broke the HTTP/2 protocol: ${reason}`);
      this.lose(failure);
      this.socket.destroy();
    }
  }

  private handle(frame: Frame): void {
    if (this.partialBlock !== undefined && frame.type !== FrameType.CONTINUATION) {
      throw new Error("a header block was interrupted by another frame");
    }
    switch (frame.type) {
      case FrameType.DATA: {
        const stream = this.streams.get(frame.streamId);
        const length = frame.payload.byteLength;
        this.receivedUnacknowledged += length;
        if (this.receivedUnacknowledged >= CONNECTION_WINDOW / 4) {
          this.send(windowUpdate(0, this.receivedUnacknowledged));
          this.receivedUnacknowledged = 0;
        }
        stream?.receiveData(framePayload(frame), length, (frame.flags & Flag.END_STREAM) !== 0);
        break;
      }
      case FrameType.HEADERS:
        this.partialBlock = {
          streamId: frame.streamId,
          endStream: (frame.flags & Flag.END_STREAM) !== 0,
          chunks: [framePayload(frame)],
        };
        if (frame.flags & Flag.END_HEADERS) this.endHeaderBlock();
        break;
      case FrameType.CONTINUATION:
        if (this.partialBlock?.streamId !== frame.streamId) {
          throw new Error("CONTINUATION without the HEADERS it continues");
        }
        this.partialBlock.chunks.push(frame.payload);
        if (frame.flags & Flag.END_HEADERS) this.endHeaderBlock();
        break;
      case FrameType.RST_STREAM:
        this.streams.get(frame.streamId)?.receiveReset(frame.payload.readUInt32BE(0));
        break;
      case FrameType.SETTINGS:
        if (!(frame.flags & Flag.ACK)) this.applySettings(frame.payload);
        break;
      case FrameType.PING:
        if (!(frame.flags & Flag.ACK)) {
          this.send(encodeFrame(FrameType.PING, Flag.ACK, 0, frame.payload));
        }
        break;
      case FrameType.GOAWAY: {
        this.draining = true;
        // Streams above the last one the server took were never processed.
        const lastStreamId = frame.payload.readUInt32BE(0) & 0x7fff_ffff;
        for (const stream of [...this.streams.values()]) {
          if (stream.id > lastStreamId) stream.receiveReset(ErrorCode.REFUSED_STREAM);
        }
        if (this.streams.size === 0) this.socket.end();
        break;
      }
      case FrameType.WINDOW_UPDATE: {
        const increment = frame.payload.readUInt32BE(0) & 0x7fff_ffff;
        if (frame.streamId === 0) {
          this.sendWindow += increment;
          for (const stream of this.streams.values()) stream.flush();
        } else {
          const stream = this.streams.get(frame.streamId);
          if (stream !== undefined) {
            stream.sendWindow += increment;
            stream.flush();
          }
        }
        break;
      }
      default:
        // PRIORITY, and frame types this side does not know, are ignored (RFC 9113 4.1, 5.5);
        // PUSH_PROMISE cannot come, since push is disabled in this side's SETTINGS.
        break;
    }
  }

  private endHeaderBlock(): void {
    const block = this.partialBlock;
    if (block === undefined) return;
    this.partialBlock = undefined;
    // Every block is decoded, even for a stream already gone: the table depends on each.
    const headers = headerRecord(this.decoder.decode(Buffer.concat(block.chunks)));
    this.streams.get(block.streamId)?.receiveHeaders(headers, block.endStream);
  }

  private applySettings(payload: Buffer): void {
    for (let at = 0; at + 6 <= payload.byteLength; at += 6) {
      const id = payload.readUInt16BE(at);
      const value = payload.readUInt32BE(at + 2);
      if (id === Setting.INITIAL_WINDOW_SIZE) {
        // A new initial window moves every open stream's window by the difference.
        const delta = value - this.peerInitialWindow;
        this.peerInitialWindow = value;
        for (const stream of this.streams.values()) stream.sendWindow += delta;
      } else if (id === Setting.MAX_FRAME_SIZE) {
        this.peerMaxFrame = value;
      }
    }
    this.send(encodeFrame(FrameType.SETTINGS, Flag.ACK, 0));
    for (const stream of this.streams.values()) stream.flush();
  }

  /** The connection is gone: every open stream learns it. */
  private lose(error: Error | undefined): void {
    if (this.lost) return;
    this.lost = true;
    for (const stream of [...this.streams.values()]) stream.receiveLoss(error);
  }
}
