/**
 * A real terminal for end-to-end tests: a tmux server of its own (its own socket), one pane
 * running a shell, driven with send-keys and read with capture-pane.
 */
import { execFileSync } from "node:child_process";
import { waitFor } from "./wait.js";

export class TmuxPane {
  private readonly socket = `cs-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

  constructor(
    readonly cols = 100,
    readonly rows = 30,
  ) {}

  private tmux(...args: string[]): string {
    return execFileSync("tmux", ["-L", this.socket, ...args], { encoding: "utf8" });
  }

  /** Starts the tmux server with one pane running `bash` with a known prompt and environment. */
  start(env: Record<string, string>): void {
    const exports = Object.entries({ ...env, PS1: "outer$ " })
      .map(([key, value]) => `${key}='${value.replaceAll("'", "'\\''")}'`)
      .join(" ");
    this.tmux(
      "new-session",
      "-d",
      "-s",
      "t",
      "-x",
      String(this.cols),
      "-y",
      String(this.rows),
      `env -i PATH='${process.env.PATH}' HOME='${process.env.HOME}' TERM=xterm-256color ${exports} bash --norc --noprofile -i`,
    );
  }

  /** Types literal text (no key names interpreted). */
  type(text: string): void {
    this.tmux("send-keys", "-t", "t", "-l", text);
  }

  /** Presses keys by tmux name: Enter, C-c, 'C-\\'. */
  press(...keys: string[]): void {
    this.tmux("send-keys", "-t", "t", ...keys);
  }

  /** The pane's visible text, one string per row. */
  capture(): string[] {
    return this.tmux("capture-pane", "-p", "-t", "t").split("\n");
  }

  /** `capture-pane -e -p`: the visible rows with their colours and attributes, each ending LF. */
  captureEscapes(): string {
    return this.tmux("capture-pane", "-e", "-p", "-t", "t");
  }

  text(): string {
    return this.capture().join("\n");
  }

  async waitForText(what: string | RegExp, timeoutMs = 10_000): Promise<string> {
    return waitFor(
      `pane to show ${what}`,
      () => {
        const text = this.text();
        return (typeof what === "string" ? text.includes(what) : what.test(text))
          ? text
          : undefined;
      },
      timeoutMs,
      50,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n--- pane ---\n${this.text()}`);
    });
  }

  kill(): void {
    try {
      this.tmux("kill-server");
    } catch {
      // Already gone.
    }
  }
}
