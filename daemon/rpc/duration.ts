/** google.protobuf.Duration to milliseconds, validated. */

import type { Duration } from "@bufbuild/protobuf/wkt";
import { status } from "@grpc/grpc-js";
import { RpcError } from "./rpc-error.js";

const DAY_MS = 24 * 60 * 60 * 1000;

/** Longest duration accepted for a wait (a grace, a timeout): one day. */
export const MAX_WAIT_MS = DAY_MS;
/** Longest age accepted (how long ago a session ended): ten years. */
export const MAX_AGE_MS = 3653 * DAY_MS;

export function durationMs(duration: Duration, field: string, maxMs = MAX_WAIT_MS): number {
  const ms = Number(duration.seconds) * 1000 + Math.trunc(duration.nanos / 1e6);
  if (!Number.isFinite(ms) || ms < 0 || ms > maxMs) {
    const most = maxMs === MAX_WAIT_MS ? "24h" : `${Math.round(maxMs / DAY_MS)}d`;
    throw new RpcError(status.INVALID_ARGUMENT, `${field} must be between 0s and ${most}`);
  }
  return ms;
}
