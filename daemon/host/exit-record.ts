/**
 * `run/<id>.exit`: how a session's program ended, written by its host before the host ends
 * itself, so that a daemon that was not there to hear it (stopped, crashed, or not yet started)
 * learns it later. The daemon deletes it once its state file holds the exit.
 */
import { closeSync, constants, fsyncSync, renameSync, rmSync, writeSync } from "node:fs";
import { openRegularFile, readRegularFile } from "../common/regular-file.js";
import type { ExitStatus, StopReason } from "./host-wire.js";

const reasons = ["none", "request", "shutdown", "limit"] as const;

/**
 * Writes the exit record atomically (a temporary file, fsync unless `sync` is false, rename).
 * A host whose daemon is connected needs no fsync: the daemon puts the exit in its state file
 * at once, and the record is only for a daemon that was not there.
 */
export function writeExitRecord(path: string, exit: ExitStatus, sync = true): void {
  const temporary = `${path}.tmp`;
  rmSync(temporary, { force: true });
  const fd = openRegularFile(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, {
    mode: 0o600,
  });
  try {
    writeSync(fd, `${JSON.stringify({ ...exit, reason: reasons[exit.reason] })}\n`);
    if (sync) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
}

/** The exit record at `path`, or undefined if there is none or it is not one. */
export function readExitRecord(path: string): ExitStatus | undefined {
  let text: string;
  try {
    text = readRegularFile(path).toString("utf8");
  } catch {
    return undefined;
  }
  try {
    const value = JSON.parse(text) as Record<string, unknown>;
    const reason = reasons.indexOf(value.reason as (typeof reasons)[number]);
    if (typeof value.exitCode !== "number" || typeof value.signal !== "number") return undefined;
    return {
      exitCode: value.exitCode,
      signal: value.signal,
      reason: Math.max(0, reason) as StopReason,
      endedAt: typeof value.endedAt === "string" ? value.endedAt : new Date().toISOString(),
      lastSeq: typeof value.lastSeq === "number" ? value.lastSeq : 0,
      event: typeof value.event === "string" ? value.event : "",
      limitEvent: typeof value.limitEvent === "string" ? value.limitEvent : "",
      restart: value.restart === true,
    };
  } catch {
    return undefined;
  }
}
