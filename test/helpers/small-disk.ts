/**
 * A small disk to fill: a tmpfs of its own (mode 0700, owned by root), used as a daemon's home so
 * that writes to `state.json`, the logs and the lock key meet a real ENOSPC, then work again
 * once the filler is removed. Mounting needs root; {@link smallDiskSkip} says so elsewhere.
 */
import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmdirSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";

export interface SmallDisk {
  /** The mount point: use it as the home. */
  path: string;
  /** Writes a filler file until the disk is full (ENOSPC). */
  fill(): void;
  /** Removes the filler: writes work again. */
  free(): void;
  /** Unmounts the disk and removes the mount point (stop daemons using it first). */
  remove(): void;
}

/** Why a small disk cannot be mounted here, or false when it can. */
export function smallDiskSkip(): string | false {
  return process.getuid?.() === 0 ? false : "needs root: mounts a small tmpfs to fill";
}

/** Mounts a tmpfs of `bytes` (rounded up to pages) on a fresh directory under /tmp. */
export function smallDisk(bytes = 16 * 1024 * 1024): SmallDisk {
  // /tmp keeps the socket path well under the 107-byte limit.
  const path = mkdtempSync("/tmp/cs-disk-");
  const mounted = spawnSync(
    "mount",
    ["-t", "tmpfs", "-o", `size=${bytes},mode=0700`, "tmpfs", path],
    {
      encoding: "utf8",
    },
  );
  if (mounted.status !== 0) {
    rmdirSync(path);
    throw new Error(`cannot mount a tmpfs on ${path}: ${mounted.stderr.trim()}`);
  }
  const filler = join(path, "filler");
  return {
    path,
    fill() {
      writeUntilFull(filler, 64 * 1024);
      // The last pages: a chunk that did not fit whole may leave room for a smaller one.
      writeUntilFull(filler, 512);
    },
    free() {
      rmSync(filler, { force: true });
    },
    remove() {
      // Lazily, so that a process still holding a file there cannot keep the mount forever.
      spawnSync("umount", ["-l", path]);
      rmSync(path, { recursive: true, force: true });
    },
  };
}

/** Appends `chunkBytes` at a time to `path` until the disk has no room for another. */
function writeUntilFull(path: string, chunkBytes: number): void {
  const fd = openSync(path, "a");
  const chunk = Buffer.alloc(chunkBytes, 0x66);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
  } finally {
    closeSync(fd);
  }
}
