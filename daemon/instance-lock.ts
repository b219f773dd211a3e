/**
 * One daemon per home. The lock is a listening socket in Linux's abstract namespace, named after
 * the home: binding it is atomic, and the kernel releases it the moment its holder dies, so a
 * crashed daemon never leaves a stale lock behind and two racing starts can never both win.
 */
import { createHash } from "node:crypto";
import { createServer, type Server } from "node:net";

/** The lock is held by another process. */
export class LockBusyError extends Error {
  override readonly name = "LockBusyError";
}

export interface InstanceLock {
  release(): void;
}

function lockName(home: string): string {
  const digest = createHash("sha256").update(home).digest("hex").slice(0, 32);
  return `\0claude-sessions/${process.getuid?.() ?? 0}/${digest}`;
}

/** Takes the lock for `home`, or rejects with {@link LockBusyError} if a live process holds it. */
export function acquireInstanceLock(home: string): Promise<InstanceLock> {
  return new Promise((resolve, reject) => {
    const server: Server = createServer((connection) => connection.destroy());
    server.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE")
        reject(new LockBusyError(`another daemon holds the lock for ${home}`));
      else reject(error);
    });
    server.listen(lockName(home), () => {
      // The lock must not keep the process alive by itself.
      server.unref();
      resolve({ release: () => server.close() });
    });
  });
}
