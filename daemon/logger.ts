/** The daemon's own log: one line per event on stderr (daemon.log when detached). */

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

function line(level: string, message: string): string {
  return `${new Date().toISOString()} ${level} ${message}\n`;
}

export const stderrLogger: Logger = {
  info: (message) => process.stderr.write(line("info", message)),
  warn: (message) => process.stderr.write(line("warn", message)),
  error: (message) => process.stderr.write(line("error", message)),
};
