/**
 * Who may use the web UI: the holder of its token, from a page it served.
 *
 * - **The token.** Random per start, written 0600 to the home and given once, in the URL that
 *   `claude-sessions web` prints (as Jupyter does). Opening that URL trades it for an HttpOnly,
 *   SameSite=Strict cookie and sends the browser on to `/`, so the token leaves the address bar
 *   and the history. Every other request, WebSocket upgrades included, needs the cookie.
 * - **The Host.** Only `127.0.0.1:<port>` and `localhost:<port>`: a page of another site whose
 *   name was made to resolve to 127.0.0.1 (DNS rebinding) sends its own name.
 * - **The Origin.** A browser sends it with every request that can change something and with
 *   every WebSocket upgrade, which no same-origin policy guards: a foreign one is refused, and no
 *   response carries CORS headers.
 *
 * Cookies are not kept apart by port, so the cookie's name holds the port: two web UIs on one
 * machine do not log each other out.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

/** A request refused: the status to answer and a line that says why. */
export interface Refusal {
  status: 401 | 403;
  reason: string;
}

export class WebAccess {
  readonly token: string;
  readonly cookieName: string;
  private readonly hosts: ReadonlySet<string>;
  private readonly origins: ReadonlySet<string>;

  constructor(
    readonly port: number,
    token: string = newToken(),
  ) {
    this.token = token;
    this.cookieName = `claude_sessions_${port}`;
    const hosts = [`127.0.0.1:${port}`, `localhost:${port}`];
    this.hosts = new Set(hosts);
    this.origins = new Set(hosts.map((host) => `http://${host}`));
  }

  /** The URL that lets a browser in, printed once. */
  get url(): string {
    return `http://127.0.0.1:${this.port}/?token=${this.token}`;
  }

  /** Why a request whose address and page may be anyone's is refused, or undefined. */
  checkSource(request: IncomingMessage): Refusal | undefined {
    const host = request.headers.host?.toLowerCase();
    if (host === undefined || !this.hosts.has(host)) {
      return {
        status: 403,
        reason: `refused: Host ${host === undefined ? "is missing" : `'${host}' is not 127.0.0.1:${this.port}`}`,
      };
    }
    const origin = request.headers.origin;
    if (origin !== undefined && !this.origins.has(origin.toLowerCase())) {
      return { status: 403, reason: `refused: Origin '${origin}' is not this page's` };
    }
    // Sent by browsers with every request; a page of another site cannot forge it.
    const site = request.headers["sec-fetch-site"];
    if (site === "cross-site" || site === "same-site") {
      return { status: 403, reason: "refused: the request came from another site" };
    }
    return undefined;
  }

  /** Why a request without the cookie is refused, or undefined when it has it. */
  checkCookie(request: IncomingMessage): Refusal | undefined {
    const value = cookieValue(request.headers.cookie, this.cookieName);
    if (value === undefined) {
      return {
        status: 401,
        reason: "no access token: open the URL that `claude-sessions web` printed",
      };
    }
    if (!this.isToken(value)) {
      return {
        status: 401,
        reason:
          "the access token is not this web UI's (it changes with every start): open the URL that `claude-sessions web` printed",
      };
    }
    return undefined;
  }

  /** Whether `candidate` is the token, compared in constant time. */
  isToken(candidate: string): boolean {
    const given = Buffer.from(candidate);
    const token = Buffer.from(this.token);
    return given.length === token.length && timingSafeEqual(given, token);
  }

  /** The `Set-Cookie` value that holds the token for this page only. */
  cookie(): string {
    return `${this.cookieName}=${this.token}; Path=/; HttpOnly; SameSite=Strict`;
  }
}

/** 32 random bytes, URL-safe. */
export function newToken(): string {
  return randomBytes(32).toString("base64url");
}

/** The value of cookie `name` in a `Cookie` header, if it is there. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const pair of header.split(";")) {
    const equals = pair.indexOf("=");
    if (equals < 0) continue;
    if (pair.slice(0, equals).trim() === name) return pair.slice(equals + 1).trim();
  }
  return undefined;
}
