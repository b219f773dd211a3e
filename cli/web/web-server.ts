/**
 * `claude-sessions web`: one page on 127.0.0.1, one more client of the daemon's API.
 *
 * What it serves, each behind {@link WebAccess}'s checks:
 * - `GET /?token=…` trades the printed token for the cookie and redirects to `/`;
 * - `GET /` and the page's two files (built into dist/web/ by the install step);
 * - `POST /claude_sessions.v1.SessionService/<Method>` (and `DaemonService/Ping`): Connect, the
 *   daemon's own messages (session-proxy.ts);
 * - WebSocket upgrades on `/terminal` (`AttachTerminal`) and `/stream/<Service>/<Method>` (every
 *   server-streaming method), so that long calls hold none of the browser's few HTTP
 *   connections (socket-relay.ts).
 *
 * Nothing that changes anything answers a GET, and no response carries CORS headers.
 *
 * Built as a script of its own (dist/web-server.cjs) that the CLI loads only for `web`: the CLI
 * bundle must not load grpc-js (scripts/bundle-cli.js).
 */
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { fileURLToPath } from "node:url";
import type { ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { WebSocketServer } from "ws";
import { DaemonService } from "../../gen/claude_sessions/v1/daemon_pb.js";
import { SessionService } from "../../gen/claude_sessions/v1/session_service_pb.js";
import { writeFileAtomically } from "../atomic-write.js";
import { DaemonClient } from "../client.js";
import { forwardService, sessionDefaults } from "./session-proxy.js";
import { relayStream, relayTerminal, streamingMethods } from "./socket-relay.js";
import { type Refusal, WebAccess } from "./web-access.js";

export interface WebServerOptions {
  /** The daemon's socket, or the daemon of another machine, reached through ssh. */
  daemon: { socketPath: string } | { host: string; program: string; sshCommand: readonly string[] };
  /** Where the token is kept while the server runs (0600). */
  tokenPath: string;
  /** 0 picks a free port. */
  port: number;
  /** The page's files; by default dist/web/ beside this script. */
  assets?: string;
}

/** The page's files, read once: what the install step built, and nothing fetched at run time. */
const ASSETS: Record<string, { file: string; type: string }> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/app.js": { file: "app.js", type: "text/javascript; charset=utf-8" },
  "/app.css": { file: "app.css", type: "text/css; charset=utf-8" },
};

/** Where the API's methods are: `/claude_sessions.v1.<Service>/<Method>`. */
const API_PREFIX = "/claude_sessions.v1.";

/**
 * The page loads its script, its style and its API from itself only. xterm.js writes style
 * elements of its own, hence `'unsafe-inline'` for styles (never for scripts).
 */
const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cache-control": "no-store",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};

export class WebServer {
  private readonly http: Server;
  private readonly sockets = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  private readonly files = new Map<string, Buffer>();
  private readonly api: ReturnType<typeof connectNodeAdapter>;
  private readonly streams: ReturnType<typeof streamingMethods>;
  private access: WebAccess | undefined;

  private constructor(
    options: WebServerOptions,
    private readonly client: DaemonClient,
  ) {
    const remote = !("socketPath" in options.daemon);
    this.streams = streamingMethods([{ service: SessionService, client: this.client.sessions }]);
    const assets = options.assets ?? fileURLToPath(new URL("./web/", import.meta.url));
    for (const [path, { file }] of Object.entries(ASSETS)) {
      this.files.set(path, readFileSync(`${assets}/${file}`));
    }
    const routes = (router: ConnectRouter) => {
      router.service(
        SessionService,
        // A daemon on another machine takes its own environment, and full paths there.
        forwardService(SessionService, this.client.sessions, {
          ...(remote ? {} : { prepare: sessionDefaults() }),
        }),
      );
      // Of the daemon's own methods, the page needs Ping (its version, for the header).
      router.service(
        DaemonService,
        forwardService(DaemonService, this.client.daemon, { only: ["Ping"] }),
      );
    };
    // Connect only (no gRPC, no gRPC-Web), and only from a client that says it speaks it: a
    // form or a simple request from another page cannot set the header.
    this.api = connectNodeAdapter({
      routes,
      grpc: false,
      grpcWeb: false,
      requireConnectProtocolHeader: true,
      fallback: (_request, response) => {
        response.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
        response.end("no such API method\n");
      },
    });
    // A request that throws is answered 500 and logged: it never ends the server.
    this.http = createServer((request, response) => {
      try {
        this.serve(request, response);
      } catch (error) {
        failed(error);
        if (!response.headersSent) this.refuse(response, 500, "internal error; see web's output");
        else response.destroy();
      }
    });
    this.http.on("upgrade", (request, socket, head) => {
      try {
        this.upgrade(request, socket, head);
      } catch (error) {
        failed(error);
        socket.destroy();
      }
    });
    this.http.on("clientError", (_error, socket) => socket.destroy());
  }

  /** Listens on 127.0.0.1 and writes the token; the URL to open is {@link url}. */
  static async start(options: WebServerOptions): Promise<WebServer> {
    const { daemon } = options;
    const client =
      "socketPath" in daemon
        ? new DaemonClient(daemon.socketPath)
        : await DaemonClient.connectHost(daemon.host, daemon);
    const server = new WebServer(options, client);
    await new Promise<void>((resolve, reject) => {
      server.http.once("error", reject);
      server.http.listen(options.port, "127.0.0.1", () => {
        server.http.off("error", reject);
        resolve();
      });
    }).catch((error: unknown) => {
      server.client.close();
      throw error;
    });
    const address = server.http.address();
    const port = typeof address === "object" && address !== null ? address.port : options.port;
    server.access = new WebAccess(port);
    writeFileAtomically(options.tokenPath, `${server.access.token}\n`, 0o600);
    return server;
  }

  /** The URL with the token, to print once. */
  get url(): string {
    return this.guard.url;
  }

  get port(): number {
    return this.guard.port;
  }

  private get guard(): WebAccess {
    if (this.access === undefined) throw new Error("the web server is not listening");
    return this.access;
  }

  /** Stops serving: open streams and terminals end, and the daemon connection closes. */
  async close(): Promise<void> {
    for (const socket of this.sockets.clients) socket.terminate();
    this.sockets.close();
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
    this.client.close();
  }

  private serve(request: IncomingMessage, response: ServerResponse): void {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) response.setHeader(name, value);
    const access = this.guard;
    const source = access.checkSource(request);
    if (source !== undefined) {
      this.refuse(response, source.status, source.reason);
      return;
    }
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const method = request.method ?? "GET";
    if (url.pathname === "/" && url.searchParams.has("token") && method === "GET") {
      this.login(response, url.searchParams.get("token") ?? "");
      return;
    }
    const cookie = access.checkCookie(request);
    if (cookie !== undefined) {
      this.refuse(response, cookie.status, cookie.reason);
      return;
    }
    const asset = ASSETS[url.pathname];
    if (asset !== undefined) {
      if (method !== "GET" && method !== "HEAD") {
        response.setHeader("allow", "GET, HEAD");
        this.refuse(response, 405, `${method} is not allowed here`);
        return;
      }
      response.writeHead(200, { "content-type": asset.type });
      response.end(method === "HEAD" ? undefined : this.files.get(url.pathname));
      return;
    }
    if (!url.pathname.startsWith(API_PREFIX)) {
      this.refuse(response, 404, "not found");
      return;
    }
    if (method !== "POST") {
      response.setHeader("allow", "POST");
      this.refuse(response, 405, `${method} is not allowed here: API calls are POSTs`);
      return;
    }
    this.api(request, response);
  }

  /** The printed URL's token becomes the cookie, and the address bar forgets it. */
  private login(response: ServerResponse, token: string): void {
    if (!this.guard.isToken(token)) {
      this.refuse(
        response,
        403,
        "this link's token is not the web UI's (it changes with every start): open the URL that `claude-sessions web` printed",
      );
      return;
    }
    response.writeHead(303, { "set-cookie": this.guard.cookie(), location: "/" });
    response.end();
  }

  private upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const access = this.guard;
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const stream = this.streams.get(url.pathname);
    const refusal: Refusal | { status: 404; reason: string } | undefined =
      access.checkSource(request) ??
      access.checkCookie(request) ??
      (url.pathname === "/terminal" || stream !== undefined
        ? undefined
        : { status: 404, reason: "no such WebSocket" });
    if (refusal !== undefined) {
      const text = `${refusal.reason}\n`;
      socket.end(
        `HTTP/1.1 ${refusal.status} ${refusal.status === 404 ? "Not Found" : refusal.status === 401 ? "Unauthorized" : "Forbidden"}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`,
      );
      return;
    }
    this.sockets.handleUpgrade(request, socket, head, (webSocket) => {
      if (stream === undefined) relayTerminal(webSocket, this.client);
      else relayStream(webSocket, stream.method, stream.client);
    });
  }

  private refuse(response: ServerResponse, status: number, reason: string): void {
    response.writeHead(status, { "content-type": "text/plain; charset=utf-8" });
    response.end(`${reason}\n`);
  }
}

function failed(error: unknown): void {
  process.stderr.write(`claude-sessions web: ${(error as Error).stack ?? String(error)}\n`);
}
