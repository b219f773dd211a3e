/**
 * An interactive attach draws the session on the user's alternate screen, as tmux and less do:
 * the user's screen and scrollback are left as they were and come back on detach. The session's
 * own switches between its screens are kept off the user's terminal (its normal screen would
 * show through), and so is the erasing of scrollback (ESC[3J, sent by `clear`): a program in the
 * session owns its screen, not the user's history. When the program leaves its alternate screen
 * the daemon sends its normal screen again.
 */

/** Switches to the alternate screen, saving the cursor. */
export const ENTER_ALT_SCREEN = "\x1b[?1049h";
/** Back to the user's screen and cursor. */
export const LEAVE_ALT_SCREEN = "\x1b[?1049l";

const FILTERED = /\x1b\[(?:\?(1049|1047|47)([hl])|3J)/g;
/** An escape sequence the chunk ends in the middle of: ESC, then CSI parameters, no final byte. */
const UNFINISHED = /\x1b(?:\[[\x30-\x3f]*)?$/;
/** A longer tail is no sequence this filter acts on, and goes out as it is. */
const MAX_HELD = 16;

/** The session's output as the user's terminal should get it during an interactive attach. */
export class AttachOutputFilter {
  private held = "";

  filter(data: Uint8Array): Buffer {
    let text = this.held + Buffer.from(data).toString("latin1");
    this.held = "";
    const unfinished = UNFINISHED.exec(text);
    if (unfinished && text.length - unfinished.index <= MAX_HELD) {
      this.held = text.slice(unfinished.index);
      text = text.slice(0, unfinished.index);
    }
    const out = text.replace(FILTERED, (_sequence, screen?: string, set?: string) => {
      if (screen === undefined || set === "l") return "";
      // Entering the alternate screen clears it (1049 also saves the cursor).
      return screen === "1049" ? "\x1b7\x1b[2J" : "\x1b[2J";
    });
    return Buffer.from(out, "latin1");
  }
}
