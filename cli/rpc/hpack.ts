/**
 * HPACK (RFC 7541), the header compression of HTTP/2, as far as a gRPC client needs it.
 *
 * Encoding: every header goes out as a literal that is not indexed and not Huffman-coded.
 * That is always valid, asks nothing of the peer's tables, and a request's handful of short
 * headers gains little from compression on a local socket.
 *
 * Decoding: everything a server may send: indexed fields from the static and the dynamic
 * table, literals that add to the dynamic table, table size updates, Huffman-coded strings.
 */
import { huffmanDecode } from "./huffman.js";

/** A header block as name-value pairs, in order; names are lower case. */
export type HeaderList = Array<[name: string, value: string]>;

/** RFC 7541 Appendix A: the static table, from index 1. Empty values are written as "". */
const STATIC_TABLE: ReadonlyArray<readonly [string, string]> = [
  [":authority", ""],
  [":method", "GET"],
  [":method", "POST"],
  [":path", "/"],
  [":path", "/index.html"],
  [":scheme", "http"],
  [":scheme", "https"],
  [":status", "200"],
  [":status", "204"],
  [":status", "206"],
  [":status", "304"],
  [":status", "400"],
  [":status", "404"],
  [":status", "500"],
  ["accept-charset", ""],
  ["accept-encoding", "gzip, deflate"],
  ["accept-language", ""],
  ["accept-ranges", ""],
  ["accept", ""],
  ["access-control-allow-origin", ""],
  ["age", ""],
  ["allow", ""],
  ["authorization", ""],
  ["cache-control", ""],
  ["content-disposition", ""],
  ["content-encoding", ""],
  ["content-language", ""],
  ["content-length", ""],
  ["content-location", ""],
  ["content-range", ""],
  ["content-type", ""],
  ["cookie", ""],
  ["date", ""],
  ["etag", ""],
  ["expect", ""],
  ["expires", ""],
  ["from", ""],
  ["host", ""],
  ["if-match", ""],
  ["if-modified-since", ""],
  ["if-none-match", ""],
  ["if-range", ""],
  ["if-unmodified-since", ""],
  ["last-modified", ""],
  ["link", ""],
  ["location", ""],
  ["max-forwards", ""],
  ["proxy-authenticate", ""],
  ["proxy-authorization", ""],
  ["range", ""],
  ["referer", ""],
  ["refresh", ""],
  ["retry-after", ""],
  ["server", ""],
  ["set-cookie", ""],
  ["strict-transport-security", ""],
  ["transfer-encoding", ""],
  ["user-agent", ""],
  ["vary", ""],
  ["via", ""],
  ["www-authenticate", ""],
];

/** An entry's size in the dynamic table: its octets plus 32 (RFC 7541 section 4.1). */
const ENTRY_OVERHEAD = 32;

/** The dynamic table size both sides start with (SETTINGS_HEADER_TABLE_SIZE's default). */
export const DEFAULT_TABLE_SIZE = 4096;

/** Writes an integer with an N-bit prefix (RFC 7541 section 5.1) after `flags`. */
function writeInteger(out: number[], value: number, prefixBits: number, flags: number): void {
  const limit = 2 ** prefixBits - 1;
  if (value < limit) {
    out.push(flags | value);
    return;
  }
  out.push(flags | limit);
  let rest = value - limit;
  while (rest >= 128) {
    out.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
}

function writeString(out: number[], text: string): void {
  const bytes = Buffer.from(text, "utf8");
  writeInteger(out, bytes.byteLength, 7, 0);
  for (const byte of bytes) out.push(byte);
}

/** Encodes a header block: each header a literal without indexing, with a new name. */
export function encodeHeaders(headers: HeaderList): Buffer {
  const out: number[] = [];
  for (const [name, value] of headers) {
    out.push(0);
    writeString(out, name);
    writeString(out, value);
  }
  return Buffer.from(out);
}

/** Reads one header block after another; the dynamic table carries over between them. */
export class HpackDecoder {
  /** Newest first, as indices count from the newest (RFC 7541 section 2.3.3). */
  private dynamic: Array<[string, string]> = [];
  private size = 0;
  private maxSize = DEFAULT_TABLE_SIZE;

  /** @param limit the table size this side allows (its SETTINGS_HEADER_TABLE_SIZE). */
  constructor(private readonly limit = DEFAULT_TABLE_SIZE) {}

  /** Decodes a complete header block. Throws on a malformed one: the connection is then lost. */
  decode(block: Uint8Array): HeaderList {
    const headers: HeaderList = [];
    let at = 0;
    const integer = (prefixBits: number): number => {
      const limit = 2 ** prefixBits - 1;
      let value = (block[at++] as number) & limit;
      if (value < limit) return value;
      let factor = 1;
      for (;;) {
        if (at >= block.length) throw new Error("header block ends inside an integer");
        const byte = block[at++] as number;
        value += (byte & 127) * factor;
        factor *= 128;
        if (byte < 128) return value;
        if (factor > 2 ** 28) throw new Error("integer too large in a header block");
      }
    };
    const string = (): string => {
      if (at >= block.length) throw new Error("header block ends before a string");
      const huffman = ((block[at] as number) & 128) !== 0;
      const length = integer(7);
      if (at + length > block.length) throw new Error("header block ends inside a string");
      const raw = block.subarray(at, at + length);
      at += length;
      return (huffman ? huffmanDecode(raw) : Buffer.from(raw)).toString("utf8");
    };
    while (at < block.length) {
      const first = block[at] as number;
      if (first & 128) {
        const [name, value] = this.entry(integer(7));
        headers.push([name, value]);
      } else if (first & 64) {
        const index = integer(6);
        const name = index === 0 ? string() : this.entry(index)[0];
        const header: [string, string] = [name, string()];
        headers.push(header);
        this.insert(header);
      } else if (first & 32) {
        const size = integer(5);
        if (size > this.limit) throw new Error("header table size update beyond the limit");
        this.maxSize = size;
        this.evict();
      } else {
        // Without indexing (0000) or never indexed (0001): the same to a receiver.
        const index = integer(4);
        const name = index === 0 ? string() : this.entry(index)[0];
        headers.push([name, string()]);
      }
    }
    return headers;
  }

  private entry(index: number): readonly [string, string] {
    const found =
      index <= STATIC_TABLE.length
        ? STATIC_TABLE[index - 1]
        : this.dynamic[index - STATIC_TABLE.length - 1];
    if (index === 0 || found === undefined)
      throw new Error(`header index ${index} is not in the table`);
    return found;
  }

  private insert(header: [string, string]): void {
    this.dynamic.unshift(header);
    this.size += Buffer.byteLength(header[0]) + Buffer.byteLength(header[1]) + ENTRY_OVERHEAD;
    this.evict();
  }

  private evict(): void {
    while (this.size > this.maxSize) {
      const oldest = this.dynamic.pop();
      if (oldest === undefined) break;
      this.size -= Buffer.byteLength(oldest[0]) + Buffer.byteLength(oldest[1]) + ENTRY_OVERHEAD;
    }
  }
}
