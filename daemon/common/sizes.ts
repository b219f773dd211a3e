/**
 * Sizes as people write them ("100M", "1.5G", "512k", "4096") and as the daemon and the CLI
 * print them ("312.4 MiB"). Units are binary, as `ps`, `free -h` and systemd's MemoryMax= read
 * them: K is 1024 bytes.
 */

const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
};

/** What a size may look like, for error messages. */
export const SIZE_FORMS = "a size such as 100M, 1.5G, 512K or a number of bytes";

/** The bytes `text` names, or undefined if it names none (or more than 2^53). */
export function parseSize(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?) ?(?:([kmgt])(?:i?b)?|b)?$/i.exec(text.trim());
  if (match === null) return undefined;
  const bytes = Math.round(Number(match[1]) * (UNITS[(match[2] ?? "").toLowerCase()] as number));
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** `bytes` for a person: "812 B", "64.0 KiB", "312.4 MiB", "1.50 GiB". */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2)} ${units[unit]}`;
}
