/**
 * The session host's entry (bundled as dist/session-host.cjs). The daemon starts it detached,
 * with a socket pair on descriptor 3: it reads one HostSpawn there, starts the program, answers
 * one HostStarted and closes it. From then on it is on its own (see {@link SessionHost}).
 */
import { Socket } from "node:net";
import { decodeSpawn, encodeStarted, FrameReader, HOST_PROTOCOL_VERSION } from "./host-wire.js";
import { SessionHost } from "./session-host.js";

/** How long the daemon has to send the spawn request. */
const SPAWN_TIMEOUT_MS = 10_000;

// Everything the host makes (its socket, the exit record) is private to the user.
process.umask(0o077);

const pipe = new Socket({ fd: 3, readable: true, writable: true });
const frames = new FrameReader();
const timer = setTimeout(() => process.exit(2), SPAWN_TIMEOUT_MS);
pipe.on("error", () => process.exit(2));
pipe.on("data", (chunk: Buffer) => {
  let frame: Buffer | undefined;
  try {
    frame = frames.push(chunk)[0];
  } catch {
    process.exit(2);
  }
  if (frame === undefined) return;
  clearTimeout(timer);
  pipe.removeAllListeners("data");
  void run(frame);
});

async function run(frame: Buffer): Promise<void> {
  const spawn = decodeSpawn(frame);
  if (spawn.protocolVersion !== HOST_PROTOCOL_VERSION) {
    answer({
      error: `this session host speaks protocol ${HOST_PROTOCOL_VERSION}, the daemon ${spawn.protocolVersion}: the daemon and the host must come from the same installation`,
    });
    return;
  }
  const host = new SessionHost(spawn);
  let pid: number;
  try {
    pid = await host.start();
  } catch (error) {
    answer({ error: (error as Error).message });
    return;
  }
  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const)
    process.on(signal, () => host.terminate(signal));
  answer({ pid });
}

/** Answers the daemon and closes the pipe; after an error, the host ends. */
function answer(started: { pid: number } | { error: string }): void {
  pipe.end(encodeStarted(started), () => {
    pipe.destroy();
    if ("error" in started) process.exit(1);
  });
}
