/**
 * Runs the load generator in a process of its own against the daemon on `--socket` and prints
 * its summary as one JSON line:
 *
 *   node dist/test/helpers/load-child.js --socket <path> --rate N --seconds N --concurrency N
 */
import { parseArgs } from "node:util";
import { loadSocket } from "./load-generator.js";

const { values } = parseArgs({
  options: {
    socket: { type: "string" },
    rate: { type: "string" },
    seconds: { type: "string" },
    concurrency: { type: "string" },
  },
});
if (values.socket === undefined) throw new Error("--socket is required");
const result = await loadSocket(values.socket, {
  rate: Number(values.rate),
  seconds: Number(values.seconds),
  concurrency: Number(values.concurrency),
});
console.log(JSON.stringify(result));
