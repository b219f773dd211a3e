/**
 * Who may use the web UI, checked with plain HTTP requests to a real `claude-sessions web`: the
 * token, the cookie it becomes, the Host (DNS rebinding), a foreign Origin (on API calls and on
 * WebSocket upgrades), GET never reaching a method, no CORS, and the token file's mode. The
 * WebSocket that is let in carries a real attach.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { after, before, describe, it } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { WebSocket } from "ws";
import {
  AttachSessionRequestSchema,
  AttachTerminalRequestSchema,
  AttachTerminalResponseSchema,
  SessionEventKind,
  WatchSessionsRequestSchema,
  WatchSessionsResponseSchema,
} from "../../gen/claude_sessions/v1/session_service_pb.js";
import { type CliHome, cliHome } from "../helpers/cli-home.js";
import { waitFor } from "../helpers/wait.js";
import { httpRequest, startWebUi, type WebUi } from "../helpers/web.js";

const LIST = "/claude_sessions.v1.SessionService/ListSessions";
const STOP = "/claude_sessions.v1.SessionService/StopSession";

/** A Connect unary call's headers (JSON), as connect-web sends them, plus `extra`. */
function connectHeaders(extra: Record<string, string>): Record<string, string> {
  return { "content-type": "application/json", "connect-protocol-version": "1", ...extra };
}

/** What a WebSocket upgrade with `headers` is answered: 101, or the status it was refused with. */
function upgradeStatus(
  web: WebUi,
  headers: Record<string, string>,
  path = "/terminal",
): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${web.port}${path}`, { headers });
    socket.on("open", () => {
      socket.close();
      resolve(101);
    });
    socket.on("unexpected-response", (_request, response) => {
      resolve(response.statusCode ?? 0);
      response.resume();
      socket.terminate();
    });
    socket.on("error", (error) => {
      if (!/Unexpected server response/.test(error.message)) reject(error);
    });
  });
}

/** A port nothing listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

describe("e2e: web UI access", () => {
  let home: CliHome;
  let web: WebUi;
  let sessionId: string;

  before(async () => {
    home = cliHome();
    await home.ok(["daemon"]);
    const shell = ["--", "bash", "--norc", "--noprofile", "-i"];
    sessionId = (await home.json<{ id: string }>(["start", "--name", "shell", home.path, ...shell]))
      .id;
    web = await startWebUi(home.path);
  });

  after(async () => {
    try {
      await web?.stop();
    } finally {
      await home?.cleanup();
    }
  });

  it("prints a URL on 127.0.0.1 whose token is kept 0600 in the home", () => {
    assert.match(web.url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{43}$/);
    const tokenFile = `${home.path}/web.token`;
    assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
    assert.equal(readFileSync(tokenFile, "utf8").trim(), web.token);
  });

  it("refuses every request without the cookie: the page, its script, the API (401)", async () => {
    for (const path of ["/", "/app.js", "/app.css"]) {
      const reply = await httpRequest(web.port, { path });
      assert.equal(reply.status, 401, path);
      assert.match(reply.body, /open the URL that `claude-sessions web` printed/);
    }
    const api = await httpRequest(web.port, {
      method: "POST",
      path: LIST,
      headers: connectHeaders({}),
      body: "{}",
    });
    assert.equal(api.status, 401);
    const wrong = await httpRequest(web.port, {
      path: "/",
      headers: { cookie: `claude_sessions_${web.port}=${"x".repeat(43)}` },
    });
    assert.equal(wrong.status, 401);
    assert.match(wrong.body, /not this web UI's/);
  });

  it("trades the URL's token for an HttpOnly SameSite=Strict cookie, and a wrong token for 403", async () => {
    const login = await httpRequest(web.port, { path: `/?token=${web.token}` });
    assert.equal(login.status, 303);
    assert.equal(login.headers.location, "/");
    assert.deepEqual(login.headers["set-cookie"], [
      `${web.cookie}; Path=/; HttpOnly; SameSite=Strict`,
    ]);
    const page = await httpRequest(web.port, { path: "/", headers: { cookie: web.cookie } });
    assert.equal(page.status, 200);
    assert.match(page.body, /<script type="module" src="\/app\.js">/);
    assert.match(String(page.headers["content-security-policy"]), /script-src 'self'/);
    const wrong = await httpRequest(web.port, { path: "/?token=not-the-token" });
    assert.equal(wrong.status, 403);
    assert.equal(wrong.headers["set-cookie"], undefined);
  });

  it("refuses a Host that is not 127.0.0.1 or localhost with its port (DNS rebinding)", async () => {
    for (const host of [`attacker.example:${web.port}`, "127.0.0.1", `127.0.0.1:${web.port + 1}`]) {
      const reply = await httpRequest(web.port, {
        path: `/?token=${web.token}`,
        headers: { host, cookie: web.cookie },
      });
      assert.equal(reply.status, 403, host);
      assert.match(reply.body, /refused: Host/);
    }
    const local = await httpRequest(web.port, {
      headers: { host: `localhost:${web.port}`, cookie: web.cookie },
    });
    assert.equal(local.status, 200);
  });

  it("refuses an API call from a foreign Origin, and answers with no CORS headers", async () => {
    const foreign = await httpRequest(web.port, {
      method: "POST",
      path: STOP,
      headers: connectHeaders({ cookie: web.cookie, origin: "http://attacker.example" }),
      body: JSON.stringify({ sessionId }),
    });
    assert.equal(foreign.status, 403);
    assert.match(foreign.body, /refused: Origin/);
    const crossSite = await httpRequest(web.port, {
      method: "POST",
      path: STOP,
      headers: connectHeaders({ cookie: web.cookie, "sec-fetch-site": "cross-site" }),
      body: JSON.stringify({ sessionId }),
    });
    assert.equal(crossSite.status, 403);
    // Nothing was stopped.
    const [session] = await home.json<Array<{ state: string }>>(["list"]);
    assert.equal(session?.state, "running");
    const preflight = await httpRequest(web.port, {
      method: "OPTIONS",
      path: LIST,
      headers: {
        cookie: web.cookie,
        origin: `http://127.0.0.1:${web.port}`,
        "access-control-request-method": "POST",
      },
    });
    const own = await httpRequest(web.port, {
      method: "POST",
      path: LIST,
      headers: connectHeaders({ cookie: web.cookie, origin: `http://127.0.0.1:${web.port}` }),
      body: "{}",
    });
    assert.equal(own.status, 200);
    assert.match(own.body, /"name":"shell"/);
    for (const reply of [foreign, preflight, own]) {
      const cors = Object.keys(reply.headers).filter((name) => name.startsWith("access-control-"));
      assert.deepEqual(cors, []);
    }
  });

  it("never runs a method for a GET, nor for a client that does not speak Connect", async () => {
    const get = await httpRequest(web.port, {
      path: `${STOP}?message=${encodeURIComponent(JSON.stringify({ sessionId }))}&encoding=json`,
      headers: { cookie: web.cookie },
    });
    assert.equal(get.status, 405);
    const plain = await httpRequest(web.port, {
      method: "POST",
      path: STOP,
      headers: { cookie: web.cookie, "content-type": "application/json" },
      body: JSON.stringify({ sessionId }),
    });
    assert.notEqual(plain.status, 200);
    const [session] = await home.json<Array<{ state: string }>>(["list"]);
    assert.equal(session?.state, "running");
  });

  it("refuses a WebSocket upgrade without the cookie, from a foreign Origin or for another Host", async () => {
    const origin = `http://127.0.0.1:${web.port}`;
    assert.equal(await upgradeStatus(web, { origin }), 401);
    assert.equal(
      await upgradeStatus(web, { origin: "http://attacker.example", cookie: web.cookie }),
      403,
    );
    assert.equal(
      await upgradeStatus(web, { origin, cookie: web.cookie, host: "attacker.example" }),
      403,
    );
    assert.equal(await upgradeStatus(web, { origin, cookie: web.cookie }), 101);
  });

  it("serves every server-streaming method, and only those, on a WebSocket of its own, with the same checks", async () => {
    const origin = `http://127.0.0.1:${web.port}`;
    const watch = `/stream/claude_sessions.v1.SessionService/WatchSessions`;
    assert.equal(await upgradeStatus(web, { origin }, watch), 401);
    assert.equal(
      await upgradeStatus(web, { origin: "http://attacker.example", cookie: web.cookie }, watch),
      403,
    );
    for (const path of [
      "/stream/claude_sessions.v1.SessionService/StopSession",
      "/stream/claude_sessions.v1.DaemonService/Shutdown",
      "/stream/nothing",
    ]) {
      assert.equal(await upgradeStatus(web, { origin, cookie: web.cookie }, path), 404, path);
    }

    const socket = new WebSocket(`ws://127.0.0.1:${web.port}${watch}`, {
      headers: { origin, cookie: web.cookie },
    });
    await once(socket, "open");
    const first = once(socket, "message") as Promise<[Buffer]>;
    socket.send(
      toBinary(
        WatchSessionsRequestSchema,
        create(WatchSessionsRequestSchema, { includeExisting: true }),
      ),
    );
    const event = fromBinary(WatchSessionsResponseSchema, (await first)[0]);
    assert.equal(event.kind, SessionEventKind.EXISTING);
    assert.equal(event.session?.name, "shell");
    const closed = once(socket, "close") as Promise<[number, Buffer]>;
    socket.close(1000);
    assert.equal((await closed)[0], 1000);
  });

  it("closes a stream that fails with 4000 + the status and the daemon's message", async () => {
    const socket = new WebSocket(
      `ws://127.0.0.1:${web.port}/stream/claude_sessions.v1.SessionService/AttachSession`,
      { headers: { origin: `http://127.0.0.1:${web.port}`, cookie: web.cookie } },
    );
    await once(socket, "open");
    const closed = once(socket, "close") as Promise<[number, Buffer]>;
    socket.send(
      toBinary(
        AttachSessionRequestSchema,
        create(AttachSessionRequestSchema, { sessionId: "no-such-session", follow: true }),
      ),
    );
    const [code, reason] = await closed;
    assert.equal(code, 4005);
    assert.match(reason.toString(), /no session matches 'no-such-session'/);
  });

  it("carries AttachTerminal's messages over the WebSocket it lets in", async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${web.port}/terminal`, {
      headers: { origin: `http://127.0.0.1:${web.port}`, cookie: web.cookie },
    });
    const received: Buffer[] = [];
    let text = "";
    const seen = new Promise<void>((resolve, reject) => {
      socket.on("message", (data: Buffer) => {
        received.push(data);
        const { message } = fromBinary(AttachTerminalResponseSchema, data);
        if (message.case === "screen") text += Buffer.from(message.value.data).toString();
        if (message.case === "output") text += Buffer.from(message.value).toString();
        if (text.includes("ws-42")) resolve();
      });
      socket.on("error", reject);
    });
    await once(socket, "open");
    const send = (message: Parameters<typeof create<typeof AttachTerminalRequestSchema>>[1]) =>
      socket.send(
        toBinary(AttachTerminalRequestSchema, create(AttachTerminalRequestSchema, message)),
      );
    send({ message: { case: "start", value: { sessionId, size: { cols: 80, rows: 24 } } } });
    send({ message: { case: "input", value: Buffer.from("echo ws-$((6*7))\r") } });
    await seen;
    assert.equal(
      fromBinary(AttachTerminalResponseSchema, received[0] as Buffer).message.case,
      "screen",
    );
    const closed = once(socket, "close") as Promise<[number, Buffer]>;
    send({ message: { case: "detach", value: {} } });
    const [code] = await closed;
    assert.equal(code, 1000);
  });

  it("closes a WebSocket whose attach fails with 4000 + the status and the daemon's message", async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${web.port}/terminal`, {
      headers: { origin: `http://127.0.0.1:${web.port}`, cookie: web.cookie },
    });
    await once(socket, "open");
    const closed = once(socket, "close") as Promise<[number, Buffer]>;
    socket.send(
      toBinary(
        AttachTerminalRequestSchema,
        create(AttachTerminalRequestSchema, {
          message: { case: "start", value: { sessionId: "no-such-session" } },
        }),
      ),
    );
    const [code, reason] = await closed;
    assert.equal(code, 4005);
    assert.match(reason.toString(), /no session matches 'no-such-session'/);
  });

  it("serves on the config file's web_port unless --port says otherwise", async () => {
    const port = await freePort();
    writeFileSync(`${home.path}/config.json`, JSON.stringify({ web_port: port }));
    await home.ok(["daemon", "reload"]);
    const configured = await startWebUi(home.path, []);
    try {
      assert.equal(configured.port, port);
      assert.equal(
        (await httpRequest(port, { headers: { cookie: configured.cookie } })).status,
        200,
      );
      // Taken now: a second web on it says so in one line, and which flag to use.
      const taken = await home.run(["web"]);
      assert.equal(taken.code, 1);
      assert.equal(
        taken.stderr,
        `error: port ${port} on 127.0.0.1 is in use (another \`claude-sessions web\`?): choose another with --port, or 0 for any free one\n`,
      );
    } finally {
      await configured.stop();
      writeFileSync(`${home.path}/config.json`, "{}");
      await home.ok(["daemon", "reload"]);
    }
  });

  it("refuses a --port that is not a port, as misuse (exit 2)", async () => {
    for (const bad of ["70000", "http", "-1", "8080x"]) {
      const result = await home.run(["web", `--port=${bad}`]);
      assert.equal(result.code, 2, bad);
      assert.match(
        result.stderr,
        /--port must be a port number from 1 to 65535 \(or 0 for any free one\), got/,
      );
      assert.equal(result.stderr.split("\n").length, 2, result.stderr);
    }
  });

  it("--open hands the URL to the desktop's opener (xdg-open)", async () => {
    const bin = `${home.path}/bin`;
    mkdirSync(bin);
    const opened = `${home.path}/opened`;
    writeFileSync(`${bin}/xdg-open`, `#!/bin/sh\nprintf '%s' "$1" > '${opened}'\n`, {
      mode: 0o755,
    });
    const opening = await startWebUi(home.path, ["--port", "0", "--open"], {
      PATH: `${bin}:${process.env.PATH}`,
    });
    try {
      const url = await waitFor("the opener to run", () => {
        try {
          return readFileSync(opened, "utf8") || undefined;
        } catch {
          return undefined;
        }
      });
      assert.equal(url, opening.url);
    } finally {
      await opening.stop();
    }
  });

  it("stops on ctrl-c with exit 0 and takes its token file with it", async () => {
    const second = await startWebUi(home.path);
    assert.equal(await second.stop(), 0);
    assert.throws(() => statSync(`${home.path}/web.token`), /ENOENT/);
  });
});
