/**
 * The CLI's HTTP/2 connection against Node's HTTP/2 server (nghttp2): flow control both ways,
 * a reader that pauses, trailers, resets, a server that goes away, a socket that never connects.
 */
import assert from "node:assert/strict";
import {
  createServer,
  type Http2Server,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from "node:http2";
import { type AddressInfo, Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import type { HeaderList } from "../../cli/rpc/hpack.js";
import { Http2Connection, type Http2Stream } from "../../cli/rpc/http2-connection.js";
import { ErrorCode } from "../../cli/rpc/http2-frame.js";
import { waitFor } from "../helpers/wait.js";

const MIB = 1024 * 1024;

function request(path: string): HeaderList {
  return [
    [":method", "POST"],
    [":scheme", "http"],
    [":path", path],
    [":authority", "localhost"],
  ];
}

/** Everything a stream delivered, and how it ended. */
function collect(stream: Http2Stream) {
  const chunks: Buffer[] = [];
  let headers: Record<string, string> | undefined;
  let trailers: Record<string, string> | undefined;
  let error: Error | undefined;
  stream.on("response", (value: Record<string, string>) => {
    headers = value;
  });
  stream.on("trailers", (value: Record<string, string>) => {
    trailers = value;
  });
  stream.on("data", (chunk: Buffer) => chunks.push(chunk));
  stream.on("error", (value: Error) => {
    error = value;
  });
  return new Promise<{
    body: Buffer;
    headers: typeof headers;
    trailers: typeof trailers;
    error: typeof error;
  }>((resolve) =>
    stream.on("close", () => resolve({ body: Buffer.concat(chunks), headers, trailers, error })),
  );
}

const pattern = (bytes: number) => Buffer.from(Array.from({ length: bytes }, (_, i) => i % 251));

describe("HTTP/2 connection", () => {
  let server: Http2Server;
  let port = 0;
  const sockets: Socket[] = [];
  const sessions: ServerHttp2Session[] = [];
  const open = () => {
    const socket = new Socket();
    sockets.push(socket);
    socket.connect(port, "127.0.0.1");
    return new Http2Connection(socket);
  };

  before(async () => {
    server = createServer();
    server.on("session", (session) => sessions.push(session));
    server.on("stream", (stream: ServerHttp2Stream, headers) => {
      // Resets are what some of these tests are about.
      stream.on("error", () => {});
      const path = headers[":path"];
      if (path === "/echo") {
        // Echoes the request body back, then trailers, the way a gRPC server answers.
        stream.respond({ ":status": 200 }, { waitForTrailers: true });
        stream.on("wantTrailers", () =>
          stream.sendTrailers({ "grpc-status": "0", "x-end": "yes" }),
        );
        stream.pipe(stream);
      } else if (path === "/big") {
        stream.respond({ ":status": 200 });
        stream.end(pattern(8 * MIB));
      } else if (path === "/reset") {
        stream.close(ErrorCode.ENHANCE_YOUR_CALM);
      } else if (path === "/trailers-only") {
        stream.respond({ ":status": 200, "grpc-status": "5" }, { endStream: true });
      } else if (path === "/then-hang-up") {
        // A whole response, then the server closes the connection.
        const session = stream.session;
        stream.respond({ ":status": 200 });
        stream.end(pattern(MIB));
        stream.on("close", () => session?.close());
      } else if (path === "/goaway") {
        // Takes this stream (id 1) and no later one, then answers it.
        stream.session?.goaway(ErrorCode.NO_ERROR, 1);
        stream.respond({ ":status": 200 });
        stream.end("last");
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });

  after(async () => {
    for (const socket of sockets) socket.destroy();
    const closed = new Promise((resolve) => server.close(resolve));
    for (const session of sessions) session.destroy();
    await closed;
  });

  it("sends a request body far past the server's 64 KiB window and reads it all back", async () => {
    const connection = open();
    const stream = connection.request(request("/echo"));
    const done = collect(stream);
    const body = pattern(3 * MIB);
    // In pieces, honouring write()'s back-pressure the way a bidi call does.
    for (let at = 0; at < body.byteLength; at += 100_000) {
      if (!stream.write(body.subarray(at, at + 100_000))) {
        await new Promise((resolve) => stream.once("drain", resolve));
      }
    }
    stream.end();
    const result = await done;
    assert.equal(result.error, undefined);
    assert.equal(result.headers?.[":status"], "200");
    assert.deepEqual(result.trailers, { "grpc-status": "0", "x-end": "yes" });
    assert.ok(
      result.body.equals(body),
      `echoed ${result.body.byteLength} of ${body.byteLength} bytes`,
    );
    connection.close();
  });

  it("holds a paused stream at its window, then delivers every byte in order", async () => {
    const connection = open();
    const stream = connection.request(request("/big"));
    stream.end();
    stream.pause();
    let received = 0;
    stream.on("data", (chunk: Buffer) => {
      received += chunk.byteLength;
    });
    const done = collect(stream);
    // The server may send a stream window's worth (2 MiB), and no more until it is read.
    const socket = sockets.at(-1) as Socket;
    await waitFor("the stream's window to arrive", () => socket.bytesRead >= 2 * MIB);
    assert.equal(received, 0, "nothing is delivered while paused");
    assert.ok(socket.bytesRead < 2.1 * MIB, `${socket.bytesRead} bytes arrived for a 2 MiB window`);
    stream.resume();
    const result = await done;
    assert.equal(result.error, undefined);
    assert.ok(result.body.equals(pattern(8 * MIB)), "all 8 MiB, in order");
    connection.close();
  });

  it("delivers a response that ended before the connection was lost, to a reader that paused", async () => {
    const connection = open();
    const stream = connection.request(request("/then-hang-up"));
    stream.end();
    stream.pause();
    const done = collect(stream);
    const socket = sockets.at(-1) as Socket;
    await new Promise((resolve) => socket.once("close", resolve));
    stream.resume();
    const result = await done;
    assert.equal(result.error, undefined);
    assert.ok(result.body.equals(pattern(MIB)), `${result.body.byteLength} of ${MIB} bytes`);
  });

  it("runs many streams at once on one connection", async () => {
    const connection = open();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, index) => {
        const stream = connection.request(request("/echo"));
        const done = collect(stream);
        stream.write(Buffer.from(`stream ${index}`));
        stream.end();
        return done;
      }),
    );
    assert.deepEqual(
      results.map((result) => result.body.toString()),
      Array.from({ length: 20 }, (_, index) => `stream ${index}`),
    );
    connection.close();
  });

  it("reports a reset with its code, and a trailers-only answer in the headers", async () => {
    const connection = open();
    const reset = connection.request(request("/reset"));
    reset.end();
    await collect(reset);
    assert.equal(reset.rstCode, ErrorCode.ENHANCE_YOUR_CALM);
    const only = connection.request(request("/trailers-only"));
    only.end();
    const result = await collect(only);
    assert.equal(result.headers?.["grpc-status"], "5");
    assert.equal(only.rstCode, undefined);
    connection.close();
  });

  it("finishes the streams a GOAWAY keeps, refuses those past it, and takes no new ones", async () => {
    const connection = open();
    const kept = connection.request(request("/goaway"));
    kept.end();
    // Sent before the GOAWAY arrives; the server never takes it.
    const refused = connection.request(request("/never-answered"));
    refused.end();
    const [keptResult] = await Promise.all([collect(kept), collect(refused)]);
    assert.equal(keptResult.body.toString(), "last");
    assert.equal(kept.rstCode, undefined);
    assert.equal(refused.rstCode, ErrorCode.REFUSED_STREAM);
    assert.equal(connection.usable, false);
    assert.throws(() => connection.request(request("/echo")), /closed/);
  });

  it("fails its streams with the socket's error when nothing listens", async () => {
    const socket = new Socket();
    socket.connect("/nonexistent/claude-sessions-test.sock");
    const connection = new Http2Connection(socket);
    const stream = connection.request(request("/echo"));
    stream.end();
    const result = await collect(stream);
    assert.equal((result.error as NodeJS.ErrnoException | undefined)?.syscall, "connect");
    assert.equal(connection.usable, false);
  });
});
