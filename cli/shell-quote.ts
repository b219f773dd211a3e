/**
 * A command's words as one line a POSIX shell reads back as the same words, and back. Free of
 * Node, so the web page uses it too.
 */

/** Characters no shell splits on or expands, anywhere in a word. */
const PLAIN = /^[\w@%+=:,./-]+$/;

/**
 * `words` joined as a shell would need them typed: `vim -c 'syntax on' test.py`. A word with
 * anything a shell would split on or expand (spaces, `$`, `*`, quotes, `~`) is single-quoted, a
 * `'` in it written as `'\''`; the empty word is `''`.
 */
export function shellQuote(words: readonly string[]): string {
  return words
    .map((word) => (PLAIN.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`))
    .join(" ");
}

/**
 * `text` as the words a POSIX shell would pass (a command typed in the web page, or
 * `CLAUDE_SESSIONS_SSH_COMMAND`): blanks split, `'…'` keeps everything, `"…"` keeps
 * everything but `\"` and `\\`, a backslash outside quotes keeps the next character. Throws on an
 * unclosed quote.
 */
export function splitWords(text: string, what = "the command"): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: "'" | '"' | undefined;
  for (let index = 0; index < text.length; index++) {
    const char = text[index] as string;
    if (quote === "'") {
      if (char === "'") quote = undefined;
      else word = (word ?? "") + char;
    } else if (quote === '"') {
      if (char === '"') quote = undefined;
      else if (char === "\\" && (text[index + 1] === '"' || text[index + 1] === "\\")) {
        word = (word ?? "") + text[++index];
      } else word = (word ?? "") + char;
    } else if (char === "'" || char === '"') {
      quote = char;
      word ??= "";
    } else if (char === "\\" && index + 1 < text.length) {
      word = (word ?? "") + text[++index];
    } else if (/\s/.test(char)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? "") + char;
    }
  }
  if (quote !== undefined) throw new Error(`${what} has an unclosed ${quote}`);
  if (word !== undefined) words.push(word);
  return words;
}
