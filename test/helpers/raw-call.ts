/**
 * Calls with bytes chosen by the test, not by a generated serializer: what a buggy or hostile
 * client in any language could put on the wire. Every call resolves with the status the daemon
 * answered (never rejects), so a table of cases can check each one.
 */
import * as grpc from "@grpc/grpc-js";

/** What a call ended with, as the client saw it. */
export interface Outcome {
  code: grpc.status;
  details: string;
  /** How many response messages arrived before the end. */
  responses: number;
}

const passThrough = (value: Buffer): Buffer => value;

/** A unary call whose request body is exactly `bytes`. */
export function rawUnary(
  channel: grpc.Client,
  path: string,
  bytes: Buffer,
  timeoutMs = 10_000,
): Promise<Outcome> {
  return new Promise((resolve) => {
    channel.makeUnaryRequest(
      path,
      passThrough,
      passThrough,
      bytes,
      new grpc.Metadata(),
      { deadline: Date.now() + timeoutMs },
      (error, response) =>
        resolve(
          error
            ? { code: error.code, details: error.details, responses: 0 }
            : { code: grpc.status.OK, details: "", responses: response === undefined ? 0 : 1 },
        ),
    );
  });
}

/**
 * Counts a stream's responses and resolves with its outcome; one still open after `openMs` is
 * cancelled and counts as OK, since the daemon accepted it.
 */
function settleStream(
  call: grpc.ClientReadableStream<unknown> | grpc.ClientDuplexStream<unknown, unknown>,
  openMs: number,
  resolve: (outcome: Outcome) => void,
): void {
  let responses = 0;
  let cancelledByUs = false;
  const timer = setTimeout(() => {
    cancelledByUs = true;
    call.cancel();
  }, openMs);
  call.on("data", () => {
    responses += 1;
  });
  call.on("error", () => undefined);
  call.on("status", (status: grpc.StatusObject) => {
    clearTimeout(timer);
    resolve(
      cancelledByUs && status.code === grpc.status.CANCELLED
        ? { code: grpc.status.OK, details: "(kept open until cancelled)", responses }
        : { code: status.code, details: status.details, responses },
    );
  });
}

/**
 * A server-streaming call whose request is exactly `bytes`. A stream the daemon keeps open (a
 * follow, a watch) is cancelled once `openMs` has passed; its outcome is then OK with the
 * responses it got, since the daemon accepted the request.
 */
export function rawServerStream(
  channel: grpc.Client,
  path: string,
  bytes: Buffer,
  openMs = 300,
): Promise<Outcome> {
  return new Promise((resolve) => {
    const call = channel.makeServerStreamRequest(
      path,
      passThrough,
      passThrough,
      bytes,
      new grpc.Metadata(),
      {},
    );
    settleStream(call, openMs, resolve);
  });
}

/**
 * A bidirectional call that sends `messages` (raw bodies) and half-closes. Like
 * {@link rawServerStream}, a stream still open after `openMs` is cancelled and counts as OK.
 */
export function rawBidi(
  channel: grpc.Client,
  path: string,
  messages: readonly Buffer[],
  openMs = 500,
): Promise<Outcome> {
  return new Promise((resolve) => {
    const call = channel.makeBidiStreamRequest(
      path,
      passThrough,
      passThrough,
      new grpc.Metadata(),
      {},
    );
    settleStream(call, openMs, resolve);
    for (const message of messages) call.write(message);
    call.end();
  });
}

/**
 * Encodes a message with a placeholder string, then overwrites the placeholder's bytes with
 * `bad` (same length, so every length prefix stays right): the way to put invalid UTF-8 into a
 * string field, which no conforming serializer would do.
 */
export function spliceBytes(encoded: Uint8Array, placeholder: string, bad: Buffer): Buffer {
  const bytes = Buffer.from(encoded);
  const marker = Buffer.from(placeholder);
  if (marker.length !== bad.length) throw new Error("placeholder and bytes differ in length");
  const at = bytes.indexOf(marker);
  if (at < 0 || bytes.indexOf(marker, at + 1) >= 0)
    throw new Error(`placeholder ${placeholder} is not in the message exactly once`);
  bad.copy(bytes, at);
  return bytes;
}
