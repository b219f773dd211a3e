/**
 * The page's clients of the daemon's API, to the web server that served the page: unary calls
 * over Connect with the generated service descriptors (session-proxy.ts passes each on to the
 * daemon), and streams over a WebSocket each (socket-relay.ts), which holds none of the
 * browser's few HTTP connections however long it runs.
 */
import {
  create,
  type DescMessage,
  type DescMethodServerStreaming,
  fromBinary,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { DaemonService } from "../../../gen/claude_sessions/v1/daemon_pb.js";
import { SessionService } from "../../../gen/claude_sessions/v1/session_service_pb.js";

const transport = createConnectTransport({ baseUrl: location.origin, useBinaryFormat: true });

export const sessions = createClient(SessionService, transport);
export const daemon = createClient(DaemonService, transport);

/** An error's message as the page shows it: the daemon's words, without Connect's prefix. */
export function errorText(error: unknown): string {
  if (error instanceof Error) return error.message.replace(/^\[[a-z_]+\] /, "");
  return String(error);
}

/** A stream the server ended with an error: the daemon's message, and its gRPC code. */
export class StreamError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

/**
 * Calls a server-streaming method over `/stream/<Service>/<Method>`: the request as the first
 * frame, each response a frame. Ends when the server completes the call (close 1000), throws a
 * {@link StreamError} when it fails (4000 + its gRPC code), and closes the socket when `signal`
 * aborts or the loop over it stops.
 */
export async function* openStream<I extends DescMessage, O extends DescMessage>(
  method: DescMethodServerStreaming<I, O>,
  request: MessageInitShape<I>,
  signal?: AbortSignal,
): AsyncGenerator<MessageShape<O>> {
  const socket = new WebSocket(
    `ws://${location.host}/stream/${method.parent.typeName}/${method.name}`,
  );
  socket.binaryType = "arraybuffer";
  const queue: Array<MessageShape<O>> = [];
  let ended: { error?: StreamError } | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  socket.onopen = () => socket.send(toBinary(method.input, create(method.input, request)));
  socket.onmessage = (event: MessageEvent<ArrayBuffer>) => {
    queue.push(fromBinary(method.output, new Uint8Array(event.data)));
    notify();
  };
  socket.onclose = (event) => {
    ended =
      event.code === 1000
        ? {}
        : {
            error: new StreamError(
              event.reason || `the connection to the web UI closed (${event.code})`,
              event.code >= 4000 ? event.code - 4000 : 14,
            ),
          };
    notify();
  };
  const abort = () => socket.close(1000);
  signal?.addEventListener("abort", abort);
  try {
    for (;;) {
      const next = queue.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      if (ended !== undefined) {
        if (ended.error !== undefined) throw ended.error;
        return;
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    signal?.removeEventListener("abort", abort);
    if (socket.readyState === WebSocket.CONNECTING || socket.readyState === WebSocket.OPEN) {
      socket.close(1000);
    }
  }
}
