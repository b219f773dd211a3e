/**
 * HPACK's Huffman code (RFC 7541 Appendix B), decoding only: the CLI sends its own headers as
 * plain literals, but a server may compress any header it sends.
 *
 * The code is canonical: a symbol's code follows from the code lengths alone (codes of one
 * length are consecutive, in symbol order, and each length's first code follows the previous
 * length's last, shifted). So the table is kept as 257 lengths, one letter each ("a" = 5 bits
 * ... "z" = 30 bits), for symbols 0-255 and EOS (256).
 */
const LENGTHS =
  "isxxxxxxxtzxxzxxxxxxxxzxxxxxxxxxbffhibdgffdgdbbbaaabbbbbbbcdkbhfibccccccccccccccccccccccdcdioijbkabababbbaccbbbabcbaabccccckgjixprpprrrsrssssststtrstssssqrsrsstrqprrssqsrrtqrssqqrqsrssprrrsrrsvvporsruvvvwwvtuoqvwwvwtqqvvxwwwptpqrqqsrruuttvsvwvvwwwwwxwwwwwvz";

const MIN_BITS = 5;
const MAX_BITS = 30;

/** For each length: its first code, and where its symbols start in `symbols`. */
interface CanonicalTable {
  symbols: number[];
  firstCode: number[];
  firstIndex: number[];
  count: number[];
}

function buildTable(): CanonicalTable {
  const lengths = Array.from(LENGTHS, (letter) => letter.charCodeAt(0) - 97 + MIN_BITS);
  const symbols = [...lengths.keys()].sort(
    (a, b) => (lengths[a] as number) - (lengths[b] as number) || a - b,
  );
  const count = new Array<number>(MAX_BITS + 1).fill(0);
  for (const length of lengths) count[length] = (count[length] as number) + 1;
  const firstCode = new Array<number>(MAX_BITS + 1).fill(0);
  const firstIndex = new Array<number>(MAX_BITS + 1).fill(0);
  let code = 0;
  let index = 0;
  for (let bits = MIN_BITS; bits <= MAX_BITS; bits++) {
    firstCode[bits] = code;
    firstIndex[bits] = index;
    code = (code + (count[bits] as number)) * 2;
    index += count[bits] as number;
  }
  return { symbols, firstCode, firstIndex, count };
}

let table: CanonicalTable | undefined;

/** The symbol that marks the end of a string; it never appears inside one. */
const EOS = 256;

/** Decodes a Huffman-coded string. Throws on a code that is not in the table, or on EOS. */
export function huffmanDecode(bytes: Uint8Array): Buffer {
  table ??= buildTable();
  const { symbols, firstCode, firstIndex, count } = table;
  const out: number[] = [];
  let code = 0;
  let bits = 0;
  for (const byte of bytes) {
    for (let bit = 7; bit >= 0; bit--) {
      code = code * 2 + ((byte >> bit) & 1);
      bits += 1;
      if (bits < MIN_BITS) continue;
      if (bits > MAX_BITS) throw new Error("invalid Huffman code in a header");
      const offset = code - (firstCode[bits] as number);
      if (offset >= 0 && offset < (count[bits] as number)) {
        const symbol = symbols[(firstIndex[bits] as number) + offset] as number;
        if (symbol === EOS) throw new Error("EOS inside a Huffman-coded header");
        out.push(symbol);
        code = 0;
        bits = 0;
      }
    }
  }
  // What is left is padding: at most 7 bits, all ones (the start of EOS).
  if (bits > 7 || code !== 2 ** bits - 1) throw new Error("invalid Huffman padding in a header");
  return Buffer.from(out);
}
