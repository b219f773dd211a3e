/** The limits `start` takes: --max-memory, --on-limit, --nice and --max-log-size. */
import { UsageError } from "clipanion";
import {
  LIMIT_ACTIONS,
  type LimitActionName,
  limitProblem,
  type SessionLimits,
} from "../daemon/common/limit-rules.js";
import { parseSize, SIZE_FORMS } from "../daemon/common/sizes.js";
import { LimitAction } from "../gen/claude_sessions/v1/session_pb.js";
import type { StartLimits } from "../gen/claude_sessions/v1/session_service_pb.js";

export interface LimitFlags {
  maxMemory: string | undefined;
  onLimit: string | undefined;
  nice: string | undefined;
  maxLogSize: string | undefined;
}

const ACTIONS: Record<LimitActionName, LimitAction> = {
  warn: LimitAction.WARN,
  stop: LimitAction.STOP,
  restart: LimitAction.RESTART,
};

/**
 * The limits the flags ask for (what they leave out, the daemon's defaults give), or undefined
 * for none; a flag that is malformed or out of range is misuse, said in its own name.
 */
export function startLimits(flags: LimitFlags): Partial<StartLimits> | undefined {
  const limits: Partial<StartLimits> = {};
  if (flags.maxMemory !== undefined)
    limits.maxMemoryBytes = BigInt(size(flags.maxMemory, "--max-memory", "maxMemoryBytes"));
  if (flags.maxLogSize !== undefined)
    limits.maxLogBytes = BigInt(size(flags.maxLogSize, "--max-log-size", "maxLogBytes"));
  if (flags.nice !== undefined) {
    const nice = /^[+-]?\d+$/.test(flags.nice.trim()) ? Number(flags.nice) : Number.NaN;
    check("nice", nice, "--nice", flags.nice);
    limits.nice = nice;
  }
  if (flags.onLimit !== undefined) {
    const name = flags.onLimit.trim().toLowerCase() as LimitActionName;
    check("onLimit", name, "--on-limit", flags.onLimit);
    limits.onLimit = ACTIONS[name];
  }
  return Object.keys(limits).length === 0 ? undefined : limits;
}

/** The on-limit actions, for help text. */
export const ON_LIMIT_CHOICES = LIMIT_ACTIONS.join("|");

function size(text: string, flag: string, key: "maxMemoryBytes" | "maxLogBytes"): number {
  const bytes = parseSize(text);
  if (bytes === undefined) throw new UsageError(`${flag} takes ${SIZE_FORMS}, got '${text}'`);
  check(key, bytes, flag, text);
  return bytes;
}

function check<K extends keyof SessionLimits>(
  key: K,
  value: SessionLimits[K],
  flag: string,
  text: string,
): void {
  const problem = limitProblem(key, value, flag);
  if (problem !== undefined) throw new UsageError(`${problem}, got '${text}'`);
}
