/**
 * A terminal in the page: one WebSocket carrying `AttachTerminal`'s own messages, one binary
 * frame per message (`AttachTerminalRequest` from the page, `AttachTerminalResponse` to it),
 * relayed to one `AttachTerminal` call on the daemon. The daemon does everything else as for
 * `attach`: the first screen, live output, a fresh screen for a client that fell behind, a
 * read-only watcher's input ignored, the exit.
 *
 * A WebSocket because a browser cannot send a streaming request body (fetch), and because every
 * terminal in a web page that people use (ttyd, gotty, wetty, Jupyter) takes one.
 *
 * How it ends: the session's exit or a detach ends the call, and the socket closes with 1000; a
 * failure closes it with 4000 + the gRPC status code and the daemon's message as the reason; the
 * page leaving cancels the call.
 */
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import type { ServiceError } from "@grpc/grpc-js";
import type { RawData, WebSocket } from "ws";
import {
  AttachTerminalRequestSchema,
  type AttachTerminalResponse,
  AttachTerminalResponseSchema,
} from "../../gen/claude_sessions/v1/session_service_pb.js";
import type { DaemonClient } from "../client.js";

/** Output waiting to be sent to a page before the daemon's stream is paused. */
const HIGH_WATER_BYTES = 1024 * 1024;
/** How often a page that no longer answers pings is looked for. */
const PING_INTERVAL_MS = 20_000;
/** The longest close reason a WebSocket carries. */
const MAX_REASON_BYTES = 123;

/** The close code for a failure with gRPC status `code`. */
export function closeCodeForStatus(code: number): number {
  return 4000 + code;
}

/** Relays `socket` to a new `AttachTerminal` call on `client` until either side ends. */
export function relayTerminal(socket: WebSocket, client: DaemonClient): void {
  const call = client.sessions.attachTerminal();
  let unsent = 0;
  let paused = false;
  let alive = true;

  const close = (code: number, reason: string) => {
    clearInterval(pinger);
    if (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING) {
      socket.close(code, truncateUtf8(reason, MAX_REASON_BYTES));
    }
  };

  call.on("data", (response: AttachTerminalResponse) => {
    const frame = toBinary(AttachTerminalResponseSchema, response);
    unsent += frame.byteLength;
    socket.send(frame, { binary: true }, () => {
      unsent -= frame.byteLength;
      if (paused && unsent < HIGH_WATER_BYTES / 4) {
        paused = false;
        call.resume();
      }
    });
    // The daemon's own queue for this client then fills, and it is sent a fresh screen.
    if (!paused && unsent >= HIGH_WATER_BYTES) {
      paused = true;
      call.pause();
    }
  });
  call.on("end", () => close(1000, "the attach ended"));
  call.on("error", (error: ServiceError) => {
    close(closeCodeForStatus(error.code ?? 2), error.details || error.message);
  });

  socket.on("message", (data: RawData, isBinary: boolean) => {
    if (!isBinary) {
      call.cancel();
      close(1003, "send AttachTerminalRequest messages in binary frames");
      return;
    }
    let request: ReturnType<typeof fromBinary<typeof AttachTerminalRequestSchema>>;
    try {
      request = fromBinary(AttachTerminalRequestSchema, toBytes(data));
    } catch (error) {
      call.cancel();
      close(1007, `not an AttachTerminalRequest: ${(error as Error).message}`);
      return;
    }
    if (!call.write(request)) {
      socket.pause();
      call.once("drain", () => socket.resume());
    }
  });
  socket.on("close", () => {
    clearInterval(pinger);
    call.cancel();
  });
  socket.on("pong", () => {
    alive = true;
  });
  const pinger = setInterval(() => {
    if (!alive) {
      socket.terminate();
      return;
    }
    alive = false;
    socket.ping();
  }, PING_INTERVAL_MS);
  pinger.unref();
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}

/** `text` cut to at most `limit` UTF-8 bytes, on a character boundary. */
export function truncateUtf8(text: string, limit: number): string {
  if (Buffer.byteLength(text) <= limit) return text;
  let cut = "";
  for (const char of text) {
    if (Buffer.byteLength(cut + char) > limit - 3) break;
    cut += char;
  }
  return `${cut}…`;
}
