/** Parsing durations and times given on the command line. */
import { UsageError } from "clipanion";

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "500ms", "5s", "2m", "1h", or a plain number of seconds; milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (match === null)
    throw new UsageError(`${flag} takes a duration such as 5s, 500ms or 2m, got '${text}'`);
  return Math.round(Number(match[1]) * (units[match[2] ?? "s"] as number));
}

/** An RFC 3339 time, or a duration meaning that long ago ("10m"). */
export function parseSince(text: string, now = Date.now()): Date {
  if (/^\d+(?:\.\d+)?(ms|s|m|h|d)$/.test(text.trim()))
    return new Date(now - parseDuration(text, "--since"));
  const time = new Date(text);
  if (Number.isNaN(time.getTime())) {
    throw new UsageError(
      `--since takes a time (2026-01-02T15:04:05Z) or a duration ago (10m), got '${text}'`,
    );
  }
  return time;
}

/** A Duration message for `ms` milliseconds. */
export function durationMessage(ms: number): { seconds: bigint; nanos: number } {
  return { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 };
}
