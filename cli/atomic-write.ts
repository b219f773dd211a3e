/** Writing a file whole or not at all, for files a program reads at any moment (a unit file). */
import {
  closeSync,
  constants,
  fchmodSync,
  fsyncSync,
  openSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";

/**
 * Writes `text` to `path` with `mode` (whatever the umask): to a temporary file beside it,
 * synced, then renamed over it and the directory synced, so that a reader sees the old file or
 * the new one, after a power cut too.
 */
export function writeFileAtomically(path: string, text: string, mode: number): void {
  const directory = dirname(path);
  const temp = join(directory, `.${basename(path)}.${process.pid}.tmp`);
  // Created afresh, never through a link planted at the temporary name (O_EXCL, O_NOFOLLOW).
  const file = openSync(
    temp,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    mode,
  );
  try {
    try {
      fchmodSync(file, mode);
      writeFileSync(file, text);
      fsyncSync(file);
    } finally {
      closeSync(file);
    }
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
  const dir = openSync(directory, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}
