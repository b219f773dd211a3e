/** A command's words as one line a POSIX shell reads back as the same words. */

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
