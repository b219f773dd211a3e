/**
 * Clients that stop reading, like clients whose process or network stalls: their streams fill,
 * and the daemon must neither wait for them nor buffer for them. A log follower and a read-only
 * terminal paused in this process, or CLIs in processes of their own stopped with SIGSTOP.
 */
import { spawn } from "node:child_process";
import type { DaemonClient } from "../../cli/client.js";
import type { AttachSessionResponse } from "../../gen/claude_sessions/v1/session_service_pb.js";
import { cliBin } from "./paths.js";
import { attachTerminalClient, type TerminalClient } from "./terminal-client.js";
import { waitFor } from "./wait.js";

export interface StalledClients {
  /** What the follower has been sent so far (nothing arrives while it is paused). */
  received: AttachSessionResponse[];
  /** Resolves when the follower's stream ends, rejects if it fails. */
  followerEnded: Promise<void>;
  terminal: TerminalClient;
  /** Both read again. */
  resume(): void;
  /** Cancels the follower and detaches the terminal. */
  close(): void;
}

/** Attaches both to `sessionId`, paused; resolves once the terminal is attached. */
export async function stallClients(
  client: DaemonClient,
  sessionId: string,
): Promise<StalledClients> {
  const follower = client.sessions.attachSession({ sessionId, follow: true });
  const received: AttachSessionResponse[] = [];
  follower.on("data", (response: AttachSessionResponse) => received.push(response));
  const followerEnded = new Promise<void>((resolve, reject) => {
    follower.on("end", resolve);
    follower.on("error", reject);
  });
  // Awaited by the caller; a cancel after a failed step must not be an unhandled rejection.
  followerEnded.catch(() => undefined);
  follower.pause();
  const terminal = attachTerminalClient(client, sessionId, { readOnly: true });
  terminal.pause();
  const close = () => {
    follower.cancel();
    terminal.detach();
  };
  try {
    await waitFor("the terminal to be attached", async () => {
      const { session } = await client.sessions.getSession({ sessionId });
      return session?.attachedClients === 1;
    });
  } catch (error) {
    close();
    throw error;
  }
  return {
    received,
    followerEnded,
    terminal,
    resume: () => {
      follower.resume();
      terminal.resume();
    },
    close,
  };
}

/**
 * Clients in processes of their own, the built CLI as a user runs it, then stopped with SIGSTOP:
 * the daemon sees their sockets stop being read, and, once they are killed, their connections go.
 */
export interface StoppedClients {
  pids: number[];
  /** What client `index` has printed so far (nothing while it is stopped). */
  output(index: number): string;
  /** SIGCONT to all of them. */
  resume(): void;
  /** Resolves when client `index` has exited, with its exit code. */
  exited(index: number): Promise<number | null>;
  /** SIGKILL to those still running; resolves once all have exited. */
  kill(): Promise<void>;
}

/**
 * Runs `count` CLIs with `args` against `home`, waits until `ready` holds, then stops them. If
 * `ready` never holds they are killed before this rejects.
 */
export async function stoppedClients(
  home: string,
  args: readonly string[],
  count: number,
  ready: (clients: StoppedClients) => Promise<boolean> | boolean,
): Promise<StoppedClients> {
  const children = Array.from({ length: count }, () =>
    spawn(process.execPath, [cliBin, ...args], {
      env: { ...process.env, NO_COLOR: "1", CLAUDE_SESSIONS_HOME: home },
      stdio: ["ignore", "pipe", "pipe"],
    }),
  );
  const outputs = children.map(() => "");
  const exits = children.map(
    (child, index) =>
      new Promise<number | null>((resolve) => {
        child.stdout.on("data", (chunk: Buffer) => {
          outputs[index] += chunk.toString();
        });
        child.stderr.on("data", (chunk: Buffer) => {
          outputs[index] += chunk.toString();
        });
        child.once("exit", (code) => resolve(code));
      }),
  );
  const clients: StoppedClients = {
    pids: children.map((child) => child.pid as number),
    output: (index) => outputs[index] ?? "",
    resume: () => {
      for (const child of children) if (child.exitCode === null) child.kill("SIGCONT");
    },
    exited: (index) => exits[index] ?? Promise.resolve(null),
    kill: async () => {
      for (const child of children)
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await Promise.all(exits);
    },
  };
  try {
    await waitFor(`${count} clients to be ready`, () => ready(clients));
  } catch (error) {
    await clients.kill();
    throw error;
  }
  for (const child of children) child.kill("SIGSTOP");
  return clients;
}
