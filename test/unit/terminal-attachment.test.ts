/** A terminal client's output stream: sparse output at once, floods paced into large messages. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setImmediate as nextTurn } from "node:timers/promises";
import { DaemonCounters } from "../../daemon/server/daemon-counters.js";
import {
  type AttachmentSink,
  BULK_PACE_MS,
  CLIENT_BACKLOG_BYTES,
  TerminalAttachment,
} from "../../daemon/terminal/terminal-attachment.js";

/** A client stream that always has room and records what it is sent. */
function recordingSink(): AttachmentSink & { outputs: Buffer[]; screens: number } {
  const sink = {
    outputs: [] as Buffer[],
    screens: 0,
    sendOutput(data: Uint8Array) {
      sink.outputs.push(Buffer.from(data));
      return true;
    },
    sendScreen() {
      sink.screens += 1;
      return true;
    },
    onDrain() {},
  };
  return sink;
}

const screen = { cols: 80, rows: 24, snapshot: (deliver: (frame: string) => void) => deliver("") };

function attached(): { attachment: TerminalAttachment; sink: ReturnType<typeof recordingSink> } {
  const sink = recordingSink();
  const attachment = new TerminalAttachment(screen, sink, false);
  attachment.start();
  return { attachment, sink };
}

/** For waits that nothing cancels. */
const never = new AbortController().signal;

/** A terminal read's worth of output while a program floods it. */
const read = (fill: string) => Buffer.alloc(4096, fill);

describe("TerminalAttachment", () => {
  it("sends sparse output, such as an echo, in the same turn of the event loop", async () => {
    const { attachment, sink } = attached();
    for (const key of ["a", "b", "c"]) {
      attachment.push(Buffer.from(key));
      await nextTurn();
      assert.equal(sink.outputs.at(-1)?.toString(), key);
    }
    assert.equal(sink.outputs.length, 3);
    assert.equal(sink.screens, 1);
    attachment.close();
  });

  it("gathers a flood into a few large messages, every byte in order", async () => {
    const { attachment, sink } = attached();
    const reads = Array.from({ length: 50 }, (_, i) => read(String.fromCharCode(65 + (i % 26))));
    // One read per turn of the event loop, as a terminal hands a flood out.
    for (const data of reads) {
      attachment.push(data);
      await nextTurn();
    }
    await attachment.idle(never);
    assert.equal(sink.outputs[0]?.length, 4096, "the first read of a flood goes out at once");
    assert.ok(
      sink.outputs.length <= reads.length / 5,
      `${reads.length} reads went out as ${sink.outputs.length} messages`,
    );
    assert.ok(Buffer.concat(sink.outputs).equals(Buffer.concat(reads)));
    attachment.close();
  });

  it("sends a keystroke's echo at once, even right after a large message", async () => {
    const { attachment, sink } = attached();
    attachment.push(read("a"));
    await nextTurn();
    assert.equal(sink.outputs.length, 1);
    attachment.push(Buffer.from("x"));
    await nextTurn();
    assert.equal(sink.outputs.at(-1)?.toString(), "x");
    attachment.close();
  });

  it("goes back to sending at once when the flood is over", async () => {
    const { attachment, sink } = attached();
    attachment.push(read("a"));
    await attachment.idle(never);
    await new Promise((resolve) => setTimeout(resolve, BULK_PACE_MS + 5));
    attachment.push(Buffer.from("x"));
    await nextTurn();
    assert.equal(sink.outputs.at(-1)?.toString(), "x");
    attachment.close();
  });

  it("drops the backlog of a client that stopped reading and sends it a fresh screen, counted", async () => {
    const counters = new DaemonCounters({
      terminalBacklogBytes: CLIENT_BACKLOG_BYTES,
      followerHeldBytes: 0,
    });
    let drain = () => {};
    let full = true;
    const sink = {
      outputs: [] as Buffer[],
      screens: 0,
      sendOutput(data: Uint8Array) {
        sink.outputs.push(Buffer.from(data));
        return !full;
      },
      sendScreen() {
        sink.screens += 1;
        return !full;
      },
      onDrain(listener: () => void) {
        drain = listener;
      },
    };
    const attachment = new TerminalAttachment(screen, sink, false, counters.attachments);
    attachment.start();
    // The first screen fills the client's stream: everything after it queues.
    const reads = (3 * CLIENT_BACKLOG_BYTES) / 4096;
    for (let i = 0; i < reads; i++) attachment.push(read("a"));
    assert.equal(sink.outputs.length, 0);
    const stalled = counters.snapshot();
    assert.equal(stalled.terminalBacklogPeakBytes, CLIENT_BACKLOG_BYTES + 4096);
    assert.equal(stalled.terminalResyncs, 0);
    full = false;
    drain();
    await attachment.idle(never);
    assert.equal(sink.screens, 2, "a fresh screen once the client reads again");
    assert.ok(
      sink.outputs.reduce((sum, data) => sum + data.length, 0) < CLIENT_BACKLOG_BYTES,
      "only what came after the drop was sent",
    );
    assert.equal(counters.snapshot().terminalResyncs, 1);
    attachment.close();
  });

  it("stops waiting for a client that never drains once its call is cancelled", async () => {
    const sink = { ...recordingSink(), sendScreen: () => false };
    const attachment = new TerminalAttachment(screen, sink, false);
    attachment.start();
    attachment.push(read("a"));
    const cancelled = new AbortController();
    const idle = attachment.idle(cancelled.signal);
    cancelled.abort();
    await idle;
    attachment.close();
  });

  it("resyncs a client that drains after its session ended to the run's last screen", async () => {
    let drain = () => {};
    const frames: string[] = [];
    let full = true;
    const sink = {
      sendOutput: () => !full,
      sendScreen(frame: string) {
        frames.push(frame);
        return !full;
      },
      onDrain(listener: () => void) {
        drain = listener;
      },
    };
    // The live screen answers only once: a resumed run has disposed of it by the time the
    // client drains.
    let answered = false;
    const live = {
      cols: 80,
      rows: 24,
      snapshot(deliver: (frame: string) => void) {
        if (!answered) deliver("live");
        answered = true;
      },
    };
    const attachment = new TerminalAttachment(live, sink, false);
    attachment.start();
    for (let i = 0; i <= CLIENT_BACKLOG_BYTES / 4096; i++) attachment.push(read("a"));
    attachment.end({ cols: 80, rows: 24, snapshot: (deliver) => deliver("last") });
    full = false;
    drain();
    await attachment.idle(never);
    assert.deepEqual(frames, ["live", "last"]);
    attachment.close();
  });

  it("sends a read-only viewer smaller than the session cropped screens, not output, until its size fits", async () => {
    let written = 0;
    const viewports: Array<string | undefined> = [];
    const source = {
      cols: 120,
      rows: 40,
      snapshot: (deliver: (frame: string) => void, viewport?: { cols: number; rows: number }) => {
        viewports.push(viewport && `${viewport.cols}x${viewport.rows}`);
        deliver(`screen after ${written} reads`);
      },
    };
    const frames: string[] = [];
    const sink = { ...recordingSink(), sendScreen: (frame: string) => frames.push(frame) > 0 };
    const attachment = new TerminalAttachment(source, sink, true);
    attachment.view(80, 24);
    attachment.start();
    for (let i = 0; i < 20; i++) {
      written += 1;
      attachment.push(read("x"));
      await nextTurn();
    }
    await attachment.idle(never);
    assert.equal(sink.outputs.length, 0, "no output that would wrap in the viewer's terminal");
    assert.ok(frames.length < 20, `20 reads gave ${frames.length} screens`);
    assert.match(frames.at(-1) ?? "", /^screen after 20 reads/, "a screen after output stops");
    assert.match(frames.at(-1) ?? "", /claude-sessions: showing 80x23 of 120x40 \(read-only\)/);
    assert.ok(viewports.every((viewport) => viewport === "80x23"));

    attachment.view(120, 40);
    await attachment.idle(never);
    assert.equal(viewports.at(-1), undefined, "the whole screen once the viewer is as large");
    assert.doesNotMatch(frames.at(-1) ?? "", /showing/);
    attachment.push(Buffer.from("raw"));
    await attachment.idle(never);
    assert.equal(sink.outputs.at(-1)?.toString(), "raw");
    attachment.close();
  });
});
