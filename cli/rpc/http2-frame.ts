/**
 * HTTP/2 frames (RFC 9113 section 4): a 9-byte header (24-bit length, type, flags, 31-bit
 * stream id) and a payload. Writing one, and cutting a byte stream into them.
 */

export const FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

export const Flag = {
  /** DATA, HEADERS: the sender's last frame on the stream. */
  END_STREAM: 0x1,
  /** SETTINGS, PING: an acknowledgement. */
  ACK: 0x1,
  /** HEADERS, CONTINUATION: the header block is complete. */
  END_HEADERS: 0x4,
  /** DATA, HEADERS: a pad length byte first, padding last. */
  PADDED: 0x8,
  /** HEADERS: 5 bytes of priority before the header block. */
  PRIORITY: 0x20,
} as const;

export const Setting = {
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
} as const;

/** Error codes of RST_STREAM and GOAWAY (RFC 9113 section 7). */
export const ErrorCode = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  ENHANCE_YOUR_CALM: 0xb,
} as const;

/** What a client sends first on a connection, before its SETTINGS. */
export const CLIENT_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

/** Every connection starts with these (RFC 9113 section 6.9.2, 6.5.2). */
export const DEFAULT_WINDOW = 65_535;
export const DEFAULT_MAX_FRAME = 16_384;

const HEADER_BYTES = 9;

/** One frame, header and payload in one buffer. */
export function encodeFrame(
  type: number,
  flags: number,
  streamId: number,
  payload: Uint8Array = new Uint8Array(0),
): Buffer {
  const frame = Buffer.allocUnsafe(HEADER_BYTES + payload.byteLength);
  frame.writeUIntBE(payload.byteLength, 0, 3);
  frame.writeUInt8(type, 3);
  frame.writeUInt8(flags, 4);
  frame.writeUInt32BE(streamId, 5);
  frame.set(payload, HEADER_BYTES);
  return frame;
}

export interface Frame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
}

/** Cuts the bytes a connection receives into frames, however they arrive. */
export class FrameReader {
  private pending: Buffer = Buffer.alloc(0);

  /** Adds a chunk; returns the frames it completed. */
  push(chunk: Buffer): Frame[] {
    const bytes = this.pending.byteLength === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: Frame[] = [];
    let at = 0;
    while (bytes.byteLength - at >= HEADER_BYTES) {
      const length = bytes.readUIntBE(at, 3);
      if (bytes.byteLength - at < HEADER_BYTES + length) break;
      frames.push({
        type: bytes.readUInt8(at + 3),
        flags: bytes.readUInt8(at + 4),
        streamId: bytes.readUInt32BE(at + 5) & 0x7fff_ffff,
        payload: bytes.subarray(at + HEADER_BYTES, at + HEADER_BYTES + length),
      });
      at += HEADER_BYTES + length;
    }
    // A partial frame is copied, so the chunk it came in can be collected.
    this.pending = at === bytes.byteLength ? Buffer.alloc(0) : Buffer.from(bytes.subarray(at));
    return frames;
  }
}

/** A frame's payload without its padding (and, for HEADERS, without its priority fields). */
export function framePayload(frame: Frame): Buffer {
  let { payload } = frame;
  if (frame.flags & Flag.PADDED) {
    const pad = payload.readUInt8(0);
    if (pad >= payload.byteLength) throw new Error("HTTP/2 frame padding exceeds its payload");
    payload = payload.subarray(1, payload.byteLength - pad);
  }
  if (frame.type === FrameType.HEADERS && frame.flags & Flag.PRIORITY)
    payload = payload.subarray(5);
  return payload;
}
