/** The daemon's own log: one line per event on stderr (daemon.log when detached). */
import { writeSync } from "node:fs";

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

function line(level: string, message: string): string {
  return `${new Date().toISOString()} ${level} ${message}\n`;
}

/**
 * Writes straight to fd 2 and drops the line if that fails. A log destination that fails (a
 * full disk or a file size limit on daemon.log, a pipe whose reader has died) must cost lines,
 * never the daemon: through `process.stderr` the failure came back as an 'error' event, which
 * became an uncaught exception, which was logged to the same stream, which failed again, for
 * ever, starving every request and even SIGTERM. Written this way, logging also resumes by
 * itself once the destination works again. (Node writes stderr synchronously on Linux anyway.)
 */
function emit(text: string): void {
  try {
    writeSync(2, text);
  } catch {
    // Lost: there is nowhere left to say so.
  }
}

export const stderrLogger: Logger = {
  info: (message) => emit(line("info", message)),
  warn: (message) => emit(line("warn", message)),
  error: (message) => emit(line("error", message)),
};
