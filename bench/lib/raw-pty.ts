/**
 * Programs in a pseudo-terminal straight from node-pty, with nothing of ours in between: the
 * baselines of the output and keystroke benchmarks. The only bench module that imports node-pty.
 */
import * as pty from "node-pty";

export interface RawPty {
  readonly pid: number;
  onData(listener: (data: Buffer) => void): void;
  /** Resolves when the program has exited and node-pty has closed the terminal. */
  readonly exited: Promise<void>;
  write(data: string | Buffer): void;
  kill(): void;
}

/** Spawns `argv` like the daemon does: raw bytes, xterm-256color, the given size. */
export function spawnRawPty(
  argv: readonly string[],
  options: { cwd: string; env: Record<string, string>; cols?: number; rows?: number },
): RawPty {
  const [file, ...args] = argv;
  if (file === undefined) throw new Error("no command");
  const handle = pty.spawn(file, args, {
    name: "xterm-256color",
    cwd: options.cwd,
    env: { ...options.env, TERM: "xterm-256color" },
    cols: options.cols ?? 120,
    rows: options.rows ?? 40,
    encoding: null,
  });
  const exited = new Promise<void>((resolve) => handle.onExit(() => resolve()));
  return {
    pid: handle.pid,
    onData: (listener) => handle.onData((data) => listener(data as unknown as Buffer)),
    exited,
    write: (data) => handle.write(data),
    kill: () => handle.kill("SIGKILL"),
  };
}
