/**
 * The terminal of a real program, through PtyProcess as a session host uses it. node-pty closes
 * the terminal when the program's side of it is gone, which may be before it tells of the exit:
 * in between, a resize (an attached client's window, arriving at that moment) must be dropped,
 * not thrown. It once was: "ioctl(2) failed, EBADF" ended the host, and the session was recorded
 * as interrupted instead of exited.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type PtyExit, PtyProcess } from "../../daemon/terminal/pty-process.js";

describe("PtyProcess", () => {
  it("a resize racing the program's exit is dropped; every exit and all output still arrive", async () => {
    const RUNS = 100;
    const failures: string[] = [];
    for (let run = 0; run < RUNS; run++) {
      const terminal = PtyProcess.spawn({
        file: "/bin/sh",
        args: ["-c", "printf done"],
        cwd: "/",
        env: { PATH: "/usr/bin:/bin" },
        cols: 80,
        rows: 24,
        sessionId: "00000000-0000-4000-8000-000000000000",
      });
      let output = "";
      terminal.onData((data) => {
        output += data.toString();
      });
      const exit = await new Promise<PtyExit | Error>((resolve) => {
        terminal.onExit(resolve);
        // A resize on every turn of the event loop, until the exit is told.
        let turn = 0;
        const resize = () => {
          try {
            terminal.resize(80 + (turn++ % 2), 24);
          } catch (error) {
            resolve(error as Error);
            return;
          }
          timer = setImmediate(resize);
        };
        let timer = setImmediate(resize);
        terminal.onExit(() => clearImmediate(timer));
      });
      if (exit instanceof Error) failures.push(`run ${run}: resize threw ${exit.message}`);
      else if (exit.exitCode !== 0) failures.push(`run ${run}: exit ${JSON.stringify(exit)}`);
      else if (output !== "done") failures.push(`run ${run}: output ${JSON.stringify(output)}`);
    }
    assert.deepEqual(failures, []);
  });
});
