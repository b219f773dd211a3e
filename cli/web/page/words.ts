/** Splitting a command typed in the page into words, as a POSIX shell would (quotes, escapes). */

/**
 * `text` as the words a shell would pass: blanks split, `'…'` keeps everything, `"…"` keeps
 * everything but `\"` and `\\`, a backslash outside quotes keeps the next character. Throws on an
 * unclosed quote.
 */
export function splitWords(text: string): string[] {
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
  if (quote !== undefined) throw new Error(`the command has an unclosed ${quote}`);
  if (word !== undefined) words.push(word);
  return words;
}
