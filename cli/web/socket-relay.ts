/**
 * The page's long-lived calls, each on a WebSocket of its own, one protobuf message per binary
 * frame, relayed to one call on the daemon:
 *
 * - `/terminal`: `AttachTerminal`. The page sends `AttachTerminalRequest`s and gets
 *   `AttachTerminalResponse`s, so the daemon does everything as for `attach`: the first screen,
 *   live output, a fresh screen for a client that fell behind, a read-only watcher's input
 *   ignored, the exit. A browser cannot send a streaming request body (fetch), and every
 *   terminal in a web page that people use (ttyd, gotty, wetty, Jupyter) takes a WebSocket.
 * - `/stream/<package.Service>/<Method>`: any server-streaming method (`WatchSessions`,
 *   `AttachSession`). The first frame is the request; every response is a frame. A browser holds
 *   about 6 HTTP/1.1 connections per origin, every tab of the page included, and a stream over
 *   HTTP holds one for as long as it runs: a few tabs following logs would leave none for a
 *   click. WebSockets are not counted against them.
 *
 * How a socket ends: the call's end (a session's exit, a detach, a stream done) closes it with
 * 1000; a failure with 4000 + the gRPC status code and the daemon's message as the reason; the
 * page leaving cancels the call. The daemon's stream is paused while 1 MiB waits for the page.
 */
import type { DescMessage, DescMethod, DescService } from "@bufbuild/protobuf";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import type { ServiceError } from "@grpc/grpc-js";
import type { RawData, WebSocket } from "ws";
import {
  AttachTerminalRequestSchema,
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

/** What a grpc-js call with responses is to the relay. */
interface ResponseCall {
  on(event: "data", listener: (message: unknown) => void): unknown;
  on(event: "end", listener: () => void): unknown;
  on(event: "error", listener: (error: ServiceError) => void): unknown;
  pause(): unknown;
  resume(): unknown;
  cancel(): void;
}

/**
 * Sends every response of `call` to `socket` as a frame, and closes the socket as the call
 * ends; the page leaving cancels the call. Returns a function that closes the socket.
 */
function relayResponses(
  call: ResponseCall,
  socket: WebSocket,
  output: DescMessage,
  ended: string,
): (code: number, reason: string) => void {
  let unsent = 0;
  let paused = false;
  let alive = true;
  const pinger = setInterval(() => {
    if (!alive) {
      socket.terminate();
      return;
    }
    alive = false;
    socket.ping();
  }, PING_INTERVAL_MS);
  pinger.unref();
  const close = (code: number, reason: string) => {
    clearInterval(pinger);
    if (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING) {
      socket.close(code, truncateUtf8(reason, MAX_REASON_BYTES));
    }
  };

  call.on("data", (response) => {
    const frame = toBinary(output, response as never);
    unsent += frame.byteLength;
    socket.send(frame, { binary: true }, () => {
      unsent -= frame.byteLength;
      if (paused && unsent < HIGH_WATER_BYTES / 4) {
        paused = false;
        call.resume();
      }
    });
    // The daemon's own bounds for this client then apply (a fresh screen, a resync).
    if (!paused && unsent >= HIGH_WATER_BYTES) {
      paused = true;
      call.pause();
    }
  });
  call.on("end", () => close(1000, ended));
  call.on("error", (error) =>
    close(closeCodeForStatus(error.code ?? 2), error.details || error.message),
  );
  socket.on("close", () => {
    clearInterval(pinger);
    call.cancel();
  });
  socket.on("pong", () => {
    alive = true;
  });
  return close;
}

/** Each binary frame of `socket` decoded as `schema`; a frame that is not one closes it. */
function onMessages<D extends DescMessage>(
  socket: WebSocket,
  schema: D,
  close: (code: number, reason: string) => void,
  take: (message: ReturnType<typeof fromBinary<D>>) => void,
): void {
  socket.on("message", (data: RawData, isBinary: boolean) => {
    if (!isBinary) {
      close(1003, `send ${schema.typeName} messages in binary frames`);
      return;
    }
    let message: ReturnType<typeof fromBinary<D>>;
    try {
      message = fromBinary(schema, toBytes(data));
    } catch (error) {
      close(1007, `not a ${schema.typeName}: ${(error as Error).message}`);
      return;
    }
    take(message);
  });
}

/** Relays `socket` to a new `AttachTerminal` call on `client` until either side ends. */
export function relayTerminal(socket: WebSocket, client: DaemonClient): void {
  const call = client.sessions.attachTerminal();
  const close = relayResponses(call, socket, AttachTerminalResponseSchema, "the attach ended");
  onMessages(socket, AttachTerminalRequestSchema, close, (request) => {
    if (!call.write(request)) {
      socket.pause();
      call.once("drain", () => socket.resume());
    }
  });
}

/** The server-streaming methods a page may open a `/stream/...` socket for, by path. */
export function streamingMethods(
  services: ReadonlyArray<{ service: DescService; client: object }>,
): Map<string, { method: DescMethod; client: object }> {
  const methods = new Map<string, { method: DescMethod; client: object }>();
  for (const { service, client } of services) {
    for (const method of service.methods) {
      if (method.methodKind === "server_streaming") {
        methods.set(`/stream/${service.typeName}/${method.name}`, { method, client });
      }
    }
  }
  return methods;
}

/** Relays `socket` to one call of the server-streaming `method`: its first frame is the request. */
export function relayStream(socket: WebSocket, method: DescMethod, client: object): void {
  let close: ((code: number, reason: string) => void) | undefined;
  const refuse = (code: number, reason: string) => {
    if (close !== undefined) close(code, reason);
    else socket.close(code, truncateUtf8(reason, MAX_REASON_BYTES));
  };
  onMessages(socket, method.input, refuse, (request) => {
    if (close !== undefined) {
      refuse(1008, `${method.name} takes one request: the first frame`);
      return;
    }
    const start = (client as Record<string, (request: unknown) => ResponseCall>)[
      method.localName
    ] as (request: unknown) => ResponseCall;
    const call = start.call(client, request);
    close = relayResponses(call, socket, method.output, `${method.name} ended`);
  });
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
