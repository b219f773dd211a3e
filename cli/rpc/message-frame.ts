/**
 * gRPC's length-prefixed messages on an HTTP/2 stream: one flag byte (compressed or not), a
 * 4-byte big-endian length, then the message
 * (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md).
 */

const HEADER_BYTES = 5;

/** Frames one serialized message. */
export function encodeFrame(message: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(HEADER_BYTES + message.byteLength);
  frame.writeUInt8(0, 0);
  frame.writeUInt32BE(message.byteLength, 1);
  frame.set(message, HEADER_BYTES);
  return frame;
}

/** Reassembles messages from the chunks a stream delivers, however they are cut. */
export class FrameReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  /** Adds a chunk; returns the messages it completed. Throws on a compressed message. */
  push(chunk: Buffer): Uint8Array[] {
    this.pending.push(chunk);
    this.pendingBytes += chunk.byteLength;
    const messages: Uint8Array[] = [];
    while (this.pendingBytes >= HEADER_BYTES) {
      const head = this.take(HEADER_BYTES, false);
      const length = head.readUInt32BE(1);
      if (this.pendingBytes < HEADER_BYTES + length) break;
      // We never offer an encoding (no grpc-accept-encoding), so a compressed message is a bug.
      if (head.readUInt8(0) !== 0) throw new Error("received a compressed message");
      this.take(HEADER_BYTES, true);
      messages.push(this.take(length, true));
    }
    return messages;
  }

  /** Whether part of a message is still waiting for the rest. */
  get partial(): boolean {
    return this.pendingBytes > 0;
  }

  /** The first `count` pending bytes, removed from the buffer when `consume` is set. */
  private take(count: number, consume: boolean): Buffer {
    const joined =
      this.pending.length === 1 ? (this.pending[0] as Buffer) : Buffer.concat(this.pending);
    const bytes = joined.subarray(0, count);
    if (consume) {
      const rest = joined.subarray(count);
      this.pending = rest.byteLength > 0 ? [rest] : [];
      this.pendingBytes = rest.byteLength;
    } else {
      this.pending = [joined];
    }
    return bytes;
  }
}
