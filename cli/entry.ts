/** The executable's entry: runs the CLI and exits with its code once output is flushed. */
import { constants } from "node:os";
import { main } from "./main.js";

// A reader that goes away (`claude-sessions logs api | head`) ends the command at once and
// quietly, with the status of a program killed by SIGPIPE, as cat and git do; any other
// failure to write output ends it with 1. Either way there is no one left to tell.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    process.exit(error.code === "EPIPE" ? 128 + constants.signals.SIGPIPE : 1);
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
