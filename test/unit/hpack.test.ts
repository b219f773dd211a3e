/**
 * HPACK as the CLI's HTTP/2 connection reads and writes it, against the examples of RFC 7541
 * Appendix C and against Node's own HTTP/2 (nghttp2), which Huffman-codes and indexes freely.
 */
import assert from "node:assert/strict";
import { createServer, type Http2Server } from "node:http2";
import { type AddressInfo, Socket } from "node:net";
import { describe, it } from "node:test";
import { encodeHeaders, HpackDecoder } from "../../cli/rpc/hpack.js";
import { Http2Connection } from "../../cli/rpc/http2-connection.js";
import { huffmanDecode } from "../../cli/rpc/huffman.js";

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ""), "hex");

describe("Huffman decoding", () => {
  // RFC 7541 C.4.1-C.4.3 and C.6.1.
  for (const [coded, text] of [
    ["f1e3 c2e5 f23a 6ba0 ab90 f4ff", "www.example.com"],
    ["a8eb 1064 9cbf", "no-cache"],
    ["25a8 49e9 5ba9 7d7f", "custom-key"],
    ["25a8 49e9 5bb8 e8b4 bf", "custom-value"],
    ["6402", "302"],
    ["aec3 771a 4b", "private"],
    ["d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff", "Mon, 21 Oct 2013 20:13:21 GMT"],
    ["9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3", "https://www.example.com"],
  ] as const) {
    it(`decodes "${text}"`, () => {
      assert.equal(huffmanDecode(hex(coded)).toString("latin1"), text);
    });
  }

  it("refuses padding that is not all ones, and decodes an empty string", () => {
    assert.throws(() => huffmanDecode(hex("f1e3 c2e5 f23a 6ba0 ab90 f4fe")), /padding/);
    assert.equal(huffmanDecode(new Uint8Array(0)).byteLength, 0);
  });
});

describe("HPACK decoding", () => {
  it("reads RFC 7541's requests with Huffman coding, sharing one dynamic table (C.4)", () => {
    const decoder = new HpackDecoder();
    assert.deepEqual(decoder.decode(hex("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff")), [
      [":method", "GET"],
      [":scheme", "http"],
      [":path", "/"],
      [":authority", "www.example.com"],
    ]);
    assert.deepEqual(decoder.decode(hex("8286 84be 5886 a8eb 1064 9cbf")), [
      [":method", "GET"],
      [":scheme", "http"],
      [":path", "/"],
      [":authority", "www.example.com"],
      ["cache-control", "no-cache"],
    ]);
    assert.deepEqual(
      decoder.decode(hex("8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf")),
      [
        [":method", "GET"],
        [":scheme", "https"],
        [":path", "/index.html"],
        [":authority", "www.example.com"],
        ["custom-key", "custom-value"],
      ],
    );
  });

  it("reads plain literals (C.3.1) and refuses an index that is not in the table", () => {
    const decoder = new HpackDecoder();
    assert.deepEqual(decoder.decode(hex("8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d")), [
      [":method", "GET"],
      [":scheme", "http"],
      [":path", "/"],
      [":authority", "www.example.com"],
    ]);
    assert.throws(() => new HpackDecoder().decode(hex("ff00")), /not in the table/);
    assert.throws(() => new HpackDecoder().decode(hex("00 05 61")), /ends inside a string/);
  });

  it("reads back what it writes, long and non-ASCII values included", () => {
    const headers: Array<[string, string]> = [
      [":path", "/claude_sessions.v1.SessionService/ListSessions"],
      ["grpc-message", "ü".repeat(200)],
      ["x-long", "a".repeat(5000)],
    ];
    assert.deepEqual(new HpackDecoder().decode(encodeHeaders(headers)), headers);
  });
});

describe("HPACK against Node's HTTP/2", () => {
  it("decodes every header a server compresses, over many responses that reuse its table", async () => {
    // Every printable byte, in values nghttp2 Huffman-codes (and indexes: each name repeats).
    const values = Array.from({ length: 40 }, (_, index) =>
      Array.from({ length: 30 }, (_, at) =>
        String.fromCharCode(32 + ((index * 31 + at * 7) % 95)),
      ).join(""),
    );
    const server: Http2Server = createServer((request, response) => {
      const index = Number(request.headers["x-index"]);
      response.setHeader("x-value", values[index] as string);
      response.setHeader("x-same", "repeated so that it is indexed");
      response.end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const socket = new Socket();
    socket.connect(port, "127.0.0.1");
    const connection = new Http2Connection(socket);
    try {
      for (const [index, value] of values.entries()) {
        const stream = connection.request([
          [":method", "GET"],
          [":scheme", "http"],
          [":path", "/"],
          [":authority", "localhost"],
          ["x-index", String(index)],
        ]);
        stream.end();
        const closed = new Promise((resolve) => stream.on("close", resolve));
        const headers = await new Promise<Record<string, string>>((resolve, reject) => {
          stream.on("response", resolve);
          stream.on("error", reject);
        });
        assert.equal(headers[":status"], "200");
        assert.equal(headers["x-value"], value);
        assert.equal(headers["x-same"], "repeated so that it is indexed");
        await closed;
      }
    } finally {
      connection.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
