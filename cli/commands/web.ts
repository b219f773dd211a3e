import { spawn } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { Command, Option, UsageError } from "clipanion";
import { homePaths, resolveHome } from "../../daemon/common/paths.js";
import { BaseCommand } from "../base-command.js";
import { ClientError } from "../client-error.js";
import { printable } from "../output.js";
import { Status } from "../rpc/call-error.js";

export class WebCommand extends BaseCommand {
  static override paths = [["web"]];
  static override usage = Command.Usage({
    description: "Serve the web UI: every session, live, and its terminal in a browser",
    details: `
      Serves one page on 127.0.0.1 (never another address) and prints its URL, once, with an access token that is new on every start (also kept 0600 in $CLAUDE_SESSIONS_HOME/web.token while it runs). Opening the URL trades the token for a cookie; a browser without it, a request naming another host, and a request or WebSocket from another site's page are refused. It serves until interrupted (exit 0).

      The page lists every session with its state and activity as they change, starts, stops, resumes and removes sessions, shows a session's log (following it as it grows) and its details (renaming and relabelling it), and attaches a terminal to one, interactive or read-only, as \`attach\` does.

      The port is \`--port\`, else the config file's \`web_port\`, else 7681; \`--port 0\` picks a free one. \`--open\` opens the URL in the desktop's browser (xdg-open, or open on macOS).
    `,
    examples: [
      ["Serve the web UI and open it", "$0 web --open"],
      ["On another port", "$0 web --port 8080"],
    ],
  });

  protected override readonly daemonNeed = "answer";

  port = Option.String("--port", {
    description: "The port to serve on (default: the config's web_port, else 7681; 0: any free)",
  });
  open = Option.Boolean("--open", false, { description: "Open the URL in a browser" });

  async run(): Promise<number> {
    const requested = this.port === undefined ? undefined : parsePort(this.port);
    const client = await this.streamingDaemon();
    const ping = await client.daemon.ping({});
    const port = requested ?? (ping.webPort || 7681);
    const tokenPath = homePaths(resolveHome()).webToken;
    // Beside the bundle; see web-server.ts for why it is a script of its own.
    const { WebServer } = createRequire(import.meta.url)(
      "./web-server.cjs",
    ) as typeof import("../web/web-server.js");
    const target = this.daemonTarget;
    const daemon =
      target.kind === "ssh"
        ? { host: target.address.url, program: target.program, sshCommand: this.sshCommand() }
        : { socketPath: client.address };
    const server = await WebServer.start({ daemon, tokenPath, port }).catch(
      (error: NodeJS.ErrnoException) => {
        throw listenError(error, port);
      },
    );
    // Caught before the URL is out: whoever reads it may interrupt at once.
    const interrupted = new Promise<void>((resolve) => {
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
    });
    const { stdout, stderr } = this.context;
    stdout.write(`${server.url}\n`);
    stderr.write(
      `claude-sessions: serving the web UI on http://127.0.0.1:${server.port}/ (open the URL above; ctrl-c stops)\n`,
    );
    if (this.open) openBrowser(server.url, (reason) => stderr.write(`warning: ${reason}\n`));
    await interrupted;
    await server.close();
    removeToken(tokenPath, server);
    return 0;
  }
}

/** `--port`: a whole number from 0 to 65535. */
function parsePort(text: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(port >= 0 && port <= 65535)) {
    throw new UsageError(
      `--port must be a port number from 1 to 65535 (or 0 for any free one), got '${printable(text)}'`,
    );
  }
  return port;
}

function listenError(error: NodeJS.ErrnoException, port: number): Error {
  if (error.code === "EADDRINUSE") {
    return new ClientError(
      `port ${port} on 127.0.0.1 is in use (another \`claude-sessions web\`?): choose another with --port, or 0 for any free one`,
      Status.UNAVAILABLE,
    );
  }
  if (error.code === "EACCES") {
    return new ClientError(
      `cannot listen on port ${port}: permission denied (ports below 1024 need root); choose another with --port`,
      Status.PERMISSION_DENIED,
    );
  }
  return error;
}

/** The token file goes when its server does, unless a newer `web` has written its own. */
function removeToken(path: string, server: { url: string }): void {
  try {
    if (server.url.endsWith(`token=${readFileSync(path, "utf8").trim()}`)) rmSync(path);
  } catch {
    // Already gone.
  }
}

/** Opens `url` in the desktop's browser, if it has one. */
function openBrowser(url: string, warn: (reason: string) => void): void {
  const opener = process.platform === "darwin" ? "open" : "xdg-open";
  const child = spawn(opener, [url], { detached: true, stdio: "ignore" });
  child.on("error", (error: NodeJS.ErrnoException) =>
    warn(
      error.code === "ENOENT"
        ? `cannot open a browser (no ${opener}): open the URL above yourself`
        : `cannot open a browser: ${error.message}`,
    ),
  );
  child.unref();
}
