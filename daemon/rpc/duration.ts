/** google.protobuf.Duration to milliseconds, validated. */

import type { Duration } from "@bufbuild/protobuf/wkt";
import { status } from "@grpc/grpc-js";
import { RpcError } from "./rpc-error.js";

/** Longest duration accepted anywhere: one day. */
const MAX_MS = 24 * 60 * 60 * 1000;

export function durationMs(duration: Duration, field: string): number {
  const ms = Number(duration.seconds) * 1000 + Math.trunc(duration.nanos / 1e6);
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_MS) {
    throw new RpcError(status.INVALID_ARGUMENT, `${field} must be between 0s and 24h`);
  }
  return ms;
}
