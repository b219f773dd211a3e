/** Where the daemon's entry is: beside the CLI bundle (`dist/cli.cjs` -> `dist/daemon/main.js`). */
import { fileURLToPath } from "node:url";

export const daemonEntry = fileURLToPath(new URL("./daemon/main.js", import.meta.url));
