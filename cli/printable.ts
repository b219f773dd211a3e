/** Text from users and daemons made safe to print on a terminal. Free of Node and of the API. */

/**
 * What a terminal would act on or hide if printed as it is: C0 controls (newline included: one
 * value stays on its line), DEL, C1 controls (U+009B is a CSI of its own), zero-width and bidi
 * characters and other format characters, line and paragraph separators, lone surrogates.
 */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;

const namedEscapes: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/**
 * `text` safe to print: every character a terminal would act on or hide shown as an escape
 * (`\x1b`, `\u009b`, `\u202e`, `\n`). Whatever came from a user or a daemon (names,
 * directories, commands, reasons, error messages) goes through this before it is printed, so
 * a directory named `ESC]0;TITLE` cannot retitle the terminal. JSON output: {@link jsonText}.
 */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (char) => {
    const named = namedEscapes[char];
    if (named !== undefined) return named;
    const code = char.codePointAt(0) ?? 0;
    if (code < 0x80) return `\\x${code.toString(16).padStart(2, "0")}`;
    return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}
