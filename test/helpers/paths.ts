/** Where the built project is, seen from a compiled test (dist/test/...). */
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
export const daemonMain = fileURLToPath(new URL("../../../dist/daemon/main.js", import.meta.url));
export const cliBin = fileURLToPath(new URL("../../../bin/claude-sessions.js", import.meta.url));
