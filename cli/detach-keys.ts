/**
 * Detach key sequences in docker's notation: comma-separated keys, each a single character or
 * `ctrl-<key>` ("ctrl-\\", "ctrl-p,ctrl-q").
 */
import { UsageError } from "clipanion";

export const DEFAULT_DETACH_KEYS = "ctrl-\\";

/** The bytes the keys send. */
export function parseDetachKeys(spec: string): Uint8Array {
  const bytes: number[] = [];
  for (const key of spec.split(",")) {
    const ctrl = /^ctrl-(.)$/i.exec(key);
    if (ctrl !== null) {
      const char = (ctrl[1] as string).toUpperCase().charCodeAt(0);
      // ctrl-@ .. ctrl-_ map to 0x00 .. 0x1f; ctrl-? is DEL.
      if (char >= 0x40 && char <= 0x5f) bytes.push(char & 0x1f);
      else if (char === 0x3f) bytes.push(0x7f);
      else
        throw new UsageError(
          `invalid detach key '${key}': ctrl- takes a letter or one of @[\\]^_?`,
        );
    } else if ([...key].length === 1 && key.charCodeAt(0) < 0x80) {
      bytes.push(key.charCodeAt(0));
    } else {
      throw new UsageError(
        `invalid detach key '${key}': use a single character or ctrl-<key>, e.g. ctrl-p,ctrl-q`,
      );
    }
  }
  return new Uint8Array(bytes);
}

/**
 * Watches typed input for the detach sequence. Bytes that might begin the sequence are held
 * back until it is clear whether they do.
 */
export class DetachDetector {
  private matched = 0;

  constructor(private readonly sequence: Uint8Array) {}

  /** Splits input into bytes to forward and whether the sequence was completed. */
  feed(input: Uint8Array): { forward: Uint8Array; detach: boolean } {
    const out: number[] = [];
    for (const byte of input) {
      if (byte === this.sequence[this.matched]) {
        this.matched += 1;
        if (this.matched === this.sequence.length) {
          this.matched = 0;
          return { forward: new Uint8Array(out), detach: true };
        }
        continue;
      }
      // Not the sequence after all, but the held bytes and this one may still end with its
      // start (sequence "aab", input "aaab"): keep that part held, release the rest.
      const held = [...this.sequence.subarray(0, this.matched), byte];
      const keep = this.overlap(held);
      for (let i = 0; i < held.length - keep; i++) out.push(held[i] as number);
      this.matched = keep;
    }
    return { forward: new Uint8Array(out), detach: false };
  }

  /** The length of the longest end of `held` that is a proper start of the sequence. */
  private overlap(held: readonly number[]): number {
    for (let length = Math.min(held.length, this.sequence.length - 1); length > 0; length--) {
      let matches = true;
      for (let i = 0; i < length && matches; i++) {
        matches = held[held.length - length + i] === this.sequence[i];
      }
      if (matches) return length;
    }
    return 0;
  }
}
