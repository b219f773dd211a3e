/**
 * `claude-sessions web` as a user runs it, for tests: the built CLI on a free port, its URL read
 * from its first line of output; and a real browser (Debian's Chromium, driven by Playwright)
 * to open it with.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { request } from "node:http";
import { cliBin } from "./paths.js";

export interface WebUi {
  url: string;
  port: number;
  token: string;
  /** The `Cookie` header a browser gets for the URL. */
  cookie: string;
  /** What the process wrote to stderr so far. */
  stderr(): string;
  /** Interrupts it (ctrl-c) and waits for its exit code. */
  stop(): Promise<number | null>;
}

/**
 * Runs `claude-sessions web` with `args` (by default on any free port) on `home`; resolves once
 * it prints its URL.
 */
export async function startWebUi(
  home: string,
  args: readonly string[] = ["--port", "0"],
  env: NodeJS.ProcessEnv = {},
): Promise<WebUi> {
  const child = spawn(process.execPath, [cliBin, "web", ...args], {
    env: { ...process.env, NO_COLOR: "1", ...env, CLAUDE_SESSIONS_HOME: home },
    stdio: ["ignore", "pipe", "pipe"],
  });
  // Whatever becomes of the test, the web UI does not outlive its process.
  const reap = () => child.kill("SIGKILL");
  process.once("exit", reap);
  child.once("exit", () => process.off("exit", reap));
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`web printed no URL in 20 s; stderr: ${stderr}`));
    }, 20_000);
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split("\n", 2);
      if (line.length === 2) {
        clearTimeout(timer);
        resolve(line[0] as string);
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`web exited ${code} before printing its URL; stderr: ${stderr}`));
    });
  });
  const { port, searchParams } = new URL(url);
  const token = searchParams.get("token") ?? "";
  return {
    url,
    port: Number(port),
    token,
    cookie: `claude_sessions_${port}=${token}`,
    stderr: () => stderr,
    stop: () => stopChild(child),
  };
}

async function stopChild(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = once(child, "exit") as Promise<[number | null]>;
  child.kill("SIGINT");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  const [code] = await exited;
  clearTimeout(timer);
  return code;
}

export interface HttpReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * A plain HTTP request to 127.0.0.1:`port` with exactly `headers` (Host included: node's
 * fetch would not send a Host of the caller's choosing).
 */
export function httpRequest(
  port: number,
  options: { method?: string; path?: string; headers?: Record<string, string>; body?: string },
): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        host: "127.0.0.1",
        port,
        method: options.method ?? "GET",
        path: options.path ?? "/",
        headers: { host: `127.0.0.1:${port}`, ...options.headers },
      },
      (incoming) => {
        let body = "";
        incoming.setEncoding("utf8");
        incoming.on("data", (chunk: string) => {
          body += chunk;
        });
        incoming.on("end", () =>
          resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, body }),
        );
      },
    );
    outgoing.on("error", reject);
    outgoing.end(options.body);
  });
}

/** Debian's Chromium, which `.ci/run` installs; a clear failure when it is not there. */
export const CHROMIUM = "/usr/bin/chromium";

export function chromiumOptions() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `the web UI's browser tests need Chromium at ${CHROMIUM}: apt-get install chromium`,
    );
  }
  return {
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  };
}
