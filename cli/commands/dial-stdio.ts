import { connect, type Socket } from "node:net";
import { homedir } from "node:os";
import { Command, Option } from "clipanion";
import { checkDaemonSocket } from "../../daemon/common/home-guard.js";
import { homePaths, resolveHome } from "../../daemon/common/paths.js";
import { VERSION } from "../../daemon/common/version.js";
import { BaseCommand, EXIT_ERROR } from "../base-command.js";
import { helloLine } from "../remote/dial-hello.js";
import { Status } from "../rpc/call-error.js";

/** How long a daemon that another dial is starting may take to bind its socket. */
const START_WAIT_MS = 15_000;

export class DialStdioCommand extends BaseCommand {
  static override paths = [["dial-stdio"]];
  static override localOnly = true;
  static override usage = Command.Usage({
    description: "Bridge standard input and output to the daemon's socket (what --host runs)",
    details: `
      Connects to the daemon's socket, starting the daemon first unless \`--no-start\` is given, writes one hello line (JSON: the protocol and this version, or why it could not connect), then copies standard input to the socket and the socket to standard output until either ends.

      \`--host ssh://...\` runs it on the far machine through ssh, as \`docker -H ssh://\` runs \`docker system dial-stdio\`; it is not meant to be typed.
    `,
    examples: [["What ssh runs on the far side", "$0 dial-stdio"]],
  });

  protected override readonly daemonNeed = "answer";

  noStart = Option.Boolean("--no-start", false, {
    description: "Do not start the daemon if none runs (say so in the hello instead)",
  });

  async run(): Promise<number> {
    let socket: Socket;
    let startedPid: number | undefined;
    try {
      ({ socket, startedPid } = await this.reachDaemon());
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      process.stdout.write(
        helloLine({
          version: VERSION,
          error: {
            message: (error as Error).message,
            code: typeof code === "number" ? code : Status.UNAVAILABLE,
            notRunning: error instanceof NotRunningError,
          },
        }),
      );
      return EXIT_ERROR;
    }
    process.stdout.write(helloLine({ version: VERSION, userHome: homedir(), startedPid }));
    return bridge(socket);
  }

  /** A connected socket to the daemon, which is started if none runs and `--no-start` allows. */
  private async reachDaemon(): Promise<{ socket: Socket; startedPid: number | undefined }> {
    const path = this.socket ?? homePaths(resolveHome()).socket;
    checkDaemonSocket(path);
    try {
      return { socket: await connectTo(path), startedPid: undefined };
    } catch (error) {
      if (!isNothingListening(error)) throw error;
      if (this.noStart || this.socket !== undefined) {
        throw new NotRunningError(`no daemon is running (nothing answers on ${path})`);
      }
    }
    const { DaemonLaunchError, launchDaemon } = await import("../daemon-launcher.js");
    let startedPid: number | undefined;
    try {
      startedPid = await launchDaemon(resolveHome());
    } catch (error) {
      // Another dial started it meanwhile: connect to that one once it has bound its socket.
      if (!(error instanceof DaemonLaunchError && error.alreadyRunning)) throw error;
    }
    const deadline = Date.now() + START_WAIT_MS;
    for (let pauseMs = 10; ; pauseMs = Math.min(pauseMs * 2, 200)) {
      try {
        return { socket: await connectTo(path), startedPid };
      } catch (error) {
        if (!isNothingListening(error) || Date.now() + pauseMs >= deadline) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }
}

/** No daemon runs, and none was to be started. */
class NotRunningError extends Error {
  readonly code = Status.UNAVAILABLE;
}

function connectTo(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

function isNothingListening(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ECONNREFUSED";
}

/**
 * Copies standard input to `socket` and `socket` to standard output until the socket closes:
 * the daemon went away, or the dialing side ended its input and the daemon closed in turn.
 */
function bridge(socket: Socket): Promise<number> {
  return new Promise((resolve) => {
    let failed = false;
    process.stdin.pipe(socket);
    socket.pipe(process.stdout);
    // The dialing side is gone (ssh ended): so is the reason to hold the connection.
    process.stdout.on("error", () => socket.destroy());
    socket.on("error", () => {
      failed = true;
    });
    socket.on("close", () => {
      process.stdin.unpipe(socket);
      process.stdin.destroy();
      resolve(failed ? EXIT_ERROR : 0);
    });
  });
}
