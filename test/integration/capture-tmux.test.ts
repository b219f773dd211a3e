/**
 * `CaptureScreen` with escapes is what `tmux capture-pane -e -p` prints for the same output:
 * spaces as spaces, LF line ends, every row (blank ones too), and no escape sequence but SGR.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { TerminalScreen } from "../../daemon/terminal/terminal-screen.js";
import { type DaemonHandle, useDaemon } from "../helpers/daemon-fixture.js";
import { TmuxPane } from "../helpers/tmux.js";
import { waitFor } from "../helpers/wait.js";

const COLS = 100;
const ROWS = 30;
const END = "END-OF-SCREEN";

/**
 * Spaced words, each attribute, the colour kinds, a wide character, blanks on a background.
 * Not overline: tmux 3.3 prints it as `ESC[5:3m`, which a terminal reads as blink.
 */
const SCRIPT = String.raw`
printf 'plain  spaced    words\n'
printf '\033[1mbold\033[0m \033[2mdim\033[0m \033[3mitalic\033[0m \033[4munder\033[0m \033[5mblink\033[0m \033[7mrev\033[0m \033[8mhidden\033[0m \033[9mstrike\033[0m\n'
printf '\033[31mred\033[42mongreen\033[0m \033[91mbright\033[0m \033[38;5;200mp200\033[48;5;17mb17\033[0m \033[38;2;1;2;3mrgb\033[48;2;250;128;0mbg\033[0m\n'
printf '\033[1;2mbold-dim\033[0m   \033[4;7mtwo\033[0m wide \346\227\245\346\234\254 end\n'
printf '\033[44mblue then blanks    \033[0m\n'
printf '\n\n${END}\n'
exec sleep 1000
`;

/** `text` (LF line ends) as a fresh terminal shows it, captured the same way for both. */
async function rendered(text: string): Promise<string> {
  const screen = new TerminalScreen(COLS, ROWS);
  screen.write(Buffer.from(text.replace(/\n$/, "").replaceAll("\n", "\r\n")));
  const { text: shown } = await screen.capture({ escapes: true, scrollback: false });
  screen.dispose();
  return shown;
}

describe("capture with escapes, against tmux", () => {
  const fixture = useDaemon();
  let daemon: DaemonHandle;
  let pane: TmuxPane;
  let script: string;

  before(async () => {
    daemon = fixture.daemon;
    script = join(fixture.work.path, "screen.sh");
    writeFileSync(script, SCRIPT);
    pane = new TmuxPane(COLS, ROWS);
    pane.start({ LANG: "C.UTF-8" });
    await pane.waitForText("outer$");
    pane.type(`clear; exec sh ${script}`);
    pane.press("Enter");
    await pane.waitForText(END);
  });

  after(() => pane.kill());

  it("prints the cells tmux prints: spaces, LF, SGR only, trailing blank rows kept", async () => {
    const { sessions } = daemon.client;
    const { session } = await sessions.startSession({
      workingDir: fixture.work.path,
      command: ["sh", script],
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LANG: "C.UTF-8" },
      cols: COLS,
      rows: ROWS,
    });
    assert.ok(session);
    const ours = await waitFor("the script's screen", async () => {
      const screen = await sessions.captureScreen({ sessionId: session.id, escapes: true });
      return screen.text.includes(END) ? screen.text : undefined;
    });
    // As `capture --escapes` prints it, and as tmux does: each row ends with LF.
    const printed = `${ours}\n`;
    const tmux = pane.captureEscapes();

    assert.doesNotMatch(printed, /\r/, "LF line ends");
    for (const [sequence] of printed.matchAll(/\x1b[^a-zA-Z]*[a-zA-Z]?/g))
      assert.match(sequence, /^\x1b\[[0-9;]*m$/, `only SGR: ${JSON.stringify(sequence)}`);
    assert.equal(printed.split("\n").length, tmux.split("\n").length, "as many rows as tmux");
    assert.equal(printed.split("\n").length, ROWS + 1);
    assert.match(printed, /^plain {2}spaced {4}words\n/, "spaces as spaces");
    assert.equal(await rendered(printed), await rendered(tmux));
  });
});
