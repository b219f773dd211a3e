/** Temporary state homes, short enough for a unix socket path and removed afterwards. */
import { mkdtempSync, rmSync } from "node:fs";

export interface TempHome {
  path: string;
  remove(): void;
}

export function tempHome(prefix = "cs-"): TempHome {
  // /tmp keeps the socket path well under the 107-byte limit.
  const path = mkdtempSync(`/tmp/${prefix}`);
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export function tempDir(prefix = "csw-"): TempHome {
  return tempHome(prefix);
}
