/** gRPC message framing as the CLI's transport reads it: however the bytes are cut. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { encodeFrame, FrameReader } from "../../cli/rpc/message-frame.js";

const messages = [new Uint8Array([]), new Uint8Array([1, 2, 3]), new Uint8Array(70_000).fill(7)];
const stream = Buffer.concat(messages.map(encodeFrame));

describe("message framing", () => {
  it("frames with a zero flag byte and a big-endian length", () => {
    assert.deepEqual([...encodeFrame(new Uint8Array([9, 8]))], [0, 0, 0, 0, 2, 9, 8]);
  });

  for (const size of [1, 2, 5, 6, 4096, stream.length]) {
    it(`reads messages back from chunks of ${size} bytes`, () => {
      const reader = new FrameReader();
      const read: Uint8Array[] = [];
      for (let at = 0; at < stream.length; at += size)
        read.push(...reader.push(stream.subarray(at, at + size)));
      assert.equal(read.length, messages.length);
      assert.deepEqual(
        read.map((message) => [...message]),
        messages.map((message) => [...message]),
      );
      assert.equal(reader.partial, false);
    });
  }

  it("knows when a message is cut short", () => {
    const reader = new FrameReader();
    assert.deepEqual(
      reader.push(stream.subarray(0, 7)).map((message) => message.length),
      [0],
    );
    assert.equal(reader.partial, true);
  });

  it("refuses a compressed message (it never offers an encoding)", () => {
    const frame = encodeFrame(new Uint8Array([1]));
    frame[0] = 1;
    assert.throws(() => new FrameReader().push(frame), /compressed/);
  });
});
