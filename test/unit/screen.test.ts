/** The screen: the headless emulator fed escape sequences, its snapshots, and the bounded backlog. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ScreenBacklog } from "../../daemon/terminal/screen-backlog.js";
import { MAX_PENDING_BYTES, TerminalScreen } from "../../daemon/terminal/terminal-screen.js";

const text = (value: string) => Buffer.from(value);

function snapshotOf(screen: TerminalScreen): Promise<string> {
  return new Promise((resolve) => screen.snapshot(resolve));
}

describe("TerminalScreen", () => {
  it("captures text at the positions the program drew it, and the cursor", async () => {
    const screen = new TerminalScreen(40, 10);
    screen.write(text("\x1b[2J\x1b[5;10HHELLO\x1b[1;1Htop"));
    const capture = await screen.capture({ escapes: false, scrollback: false });
    const lines = capture.text.split("\n");
    assert.equal(lines[0], "top");
    assert.equal(lines[4], "         HELLO");
    assert.deepEqual(
      [capture.cursorX, capture.cursorY, capture.cols, capture.rows],
      [3, 0, 40, 10],
    );
    screen.dispose();
  });

  it("a snapshot redraws the same screen, alternate screen and colours included, in a fresh terminal", async () => {
    const screen = new TerminalScreen(40, 10);
    screen.write(text("shell line\r\n\x1b[?1049h\x1b[H\x1b[31mRED\x1b[0m\x1b[3;5Hbox"));
    const frame = await snapshotOf(screen);
    assert.match(frame, /\x1b\[\?1049h/);
    const copy = new TerminalScreen(40, 10);
    copy.write(text(frame));
    const [original, redrawn] = await Promise.all([
      screen.capture({ escapes: true, scrollback: false }),
      copy.capture({ escapes: true, scrollback: false }),
    ]);
    assert.equal(redrawn.text, original.text);
    assert.match(redrawn.text, /\x1b\[31mRED/);
    assert.deepEqual([redrawn.cursorX, redrawn.cursorY], [original.cursorX, original.cursorY]);
    screen.dispose();
    copy.dispose();
  });

  it("after a flood it shows the newest output and stays in the mode the program switched to", async () => {
    const screen = new TerminalScreen(80, 24);
    screen.write(text("\x1b[?1049h\x1b[?25l"));
    let line = 0;
    // Far more than the backlog holds, written at once.
    while (line < 40_000) {
      let chunk = "";
      for (let i = 0; i < 1000; i++) chunk += `line ${++line}\r\n`;
      screen.write(text(chunk));
    }
    screen.write(text("last words"));
    assert.ok(screen.skippedBytes > 0, "some output was skipped");
    const capture = await screen.capture({ escapes: false, scrollback: false });
    const lines = capture.text.split("\n");
    assert.equal(lines[lines.length - 1], "last words");
    assert.equal(lines[lines.length - 2], "line 40000");
    const frame = await snapshotOf(screen);
    assert.match(frame, /\x1b\[\?1049h/, "still on the alternate screen");
    screen.dispose();
  });

  it("after a flood the newest output keeps the colours and line drawing the program set before it", async () => {
    const screen = new TerminalScreen(80, 24);
    // Set while the flood starts, then never again: skipped with the flood's oldest output.
    let chunk = "\x1b[31m\x1b(0";
    for (let i = 0; i < 200_000; i++) chunk += "q";
    screen.write(text(chunk));
    screen.write(text("\r\nqqq"));
    assert.ok(screen.skippedBytes > 0, "some output was skipped");
    const plain = await screen.capture({ escapes: false, scrollback: false });
    assert.match(plain.text, /\n───$/, "q is a horizontal line in the line-drawing set");
    const coloured = await screen.capture({ escapes: true, scrollback: false });
    assert.match(coloured.text, /\x1b\[31m───/, "still red");
    screen.dispose();
  });
});

/** What a backlog of 4 bytes hands the emulator after skipping `chunks` for "abcd". */
function skipped(...chunks: string[]): string {
  const backlog = new ScreenBacklog(4);
  for (const chunk of [...chunks, "abcd"]) backlog.push(text(chunk));
  return Buffer.from(backlog.take() as Uint8Array).toString("latin1");
}

describe("ScreenBacklog", () => {
  it("keeps the newest output within its limit and replays modes set by what it skipped", () => {
    const backlog = new ScreenBacklog(10);
    backlog.push(text("\x1b[?1049h\x1b[?2004h\x1b[5;20r"));
    backlog.push(text("\x1b[?2004l"));
    backlog.push(text("0123456789"));
    assert.equal(backlog.isSkipping, true);
    const taken = Buffer.from(backlog.take() as Uint8Array).toString("latin1");
    assert.equal(taken, "\x18\x1b[?1049h\x1b[5;20r\x1b[?2004l0123456789");
    assert.equal(backlog.take(), undefined);
    assert.equal(backlog.isSkipping, false);
  });

  it("a full reset in skipped output forgets the modes before it", () => {
    const backlog = new ScreenBacklog(4);
    backlog.push(text("\x1b[?1049h"));
    backlog.push(text("\x1bc\x1b[?25l"));
    backlog.push(text("abcd"));
    assert.equal(
      Buffer.from(backlog.take() as Uint8Array).toString("latin1"),
      "\x18\x1bc\x1b[?25labcd",
    );
  });

  it("replays the attributes, character sets, shift and keypad mode that skipped output left set", () => {
    const backlog = new ScreenBacklog(4);
    backlog.push(text("\x1b[1m\x1b[4mbold-underlined\x1b[0;32mgreen\x1b[7m"));
    backlog.push(text("\x1b(0\x1b)B\x0eqqq\x0f\x0e\x1b=\x1b>\x1b="));
    backlog.push(text("abcd"));
    assert.equal(
      Buffer.from(backlog.take() as Uint8Array).toString("latin1"),
      "\x18\x1b(0\x1b)B\x1b=\x0e\x1b[0;32m\x1b[7mabcd",
    );
  });

  it("an attribute reset in skipped output drops the attributes before it", () => {
    const backlog = new ScreenBacklog(4);
    backlog.push(text("\x1b[31mred\x1b[m"));
    backlog.push(text("\x1b[38;5;0mcolour 0, not a reset"));
    backlog.push(text("abcd"));
    assert.equal(
      Buffer.from(backlog.take() as Uint8Array).toString("latin1"),
      "\x18\x1b[38;5;0mabcd",
    );
    backlog.push(text("\x1b[31mred\x1b[0m"));
    backlog.push(text("abcd"));
    assert.equal(Buffer.from(backlog.take() as Uint8Array).toString("latin1"), "\x18abcd");
  });

  it("takes truecolour attributes whole, and sequences cut between two skipped chunks", () => {
    const truecolour = "\x1b[0;38;2;255;255;255;48;2;100;200;255m";
    assert.equal(skipped("\x1b[1m", truecolour), `\x18${truecolour}abcd`);
    assert.equal(skipped("xx\x1b[3", "1mzz"), "\x18\x1b[31mabcd");
    assert.equal(skipped("xx\x1b", "[?10", "49hzz"), "\x18\x1b[?1049habcd");
    assert.equal(skipped("xx\x1b(", "0zz"), "\x18\x1b(0abcd");
  });

  it("follows saves and restores of the attributes, and shifts only after the last reset", () => {
    // A status line drawn in reverse video between a save and a restore.
    assert.equal(skipped("\x1b[32m\x1b7", "\x1b[7mstatus\x1b8"), "\x18\x1b[32mabcd");
    assert.equal(skipped("\x1b[32m\x1b[s", "\x1b[7mstatus\x1b[u"), "\x18\x1b[32mabcd");
    // A restore of a save made before the skipped output: the emulator knows what it saved.
    assert.equal(skipped("\x1b[7mstatus\x1b8", "\x1b[1m"), "\x18\x1b8\x1b[1mabcd");
    assert.equal(skipped("\x0e\x1bc\x1b)0", "zz"), "\x18\x1bc\x1b)0abcd");
  });

  it("passes output through untouched when nothing is skipped", () => {
    const backlog = new ScreenBacklog(MAX_PENDING_BYTES);
    backlog.push(text("a"));
    backlog.push(text("\x1b[?1049hb"));
    assert.equal(Buffer.from(backlog.take() as Uint8Array).toString("latin1"), "a\x1b[?1049hb");
  });
});
