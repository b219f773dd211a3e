/**
 * Opening a file of the home: a regular file opens; a FIFO, a socket, a directory or a symbolic
 * link is refused at once with a message saying how to fix it, for reading and for writing,
 * in the thread pool too; a missing file is ENOENT as ever.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  closeSync,
  constants,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  openRegularFile,
  openRegularFileHandle,
  readRegularFile,
  UnsafeFileError,
} from "../../daemon/common/regular-file.js";

describe("openRegularFile", () => {
  let dir: string;
  const server = createServer();

  before(async () => {
    dir = mkdtempSync("/tmp/cs-regular-");
    writeFileSync(join(dir, "file"), "content\n");
    assert.equal(spawnSync("mkfifo", [join(dir, "fifo")]).status, 0);
    mkdirSync(join(dir, "directory"));
    symlinkSync(join(dir, "file"), join(dir, "link"));
    await new Promise<void>((resolve) => server.listen(join(dir, "socket"), resolve));
  });

  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it("opens and reads a regular file", async () => {
    assert.equal(readRegularFile(join(dir, "file")).toString(), "content\n");
    closeSync(openRegularFile(join(dir, "file"), constants.O_WRONLY | constants.O_APPEND));
    await (await openRegularFileHandle(join(dir, "file"), constants.O_RDONLY)).close();
  });

  it("refuses anything else at once, saying what it is and how to fix it", async () => {
    const cases: Array<[string, RegExp]> = [
      ["fifo", /fifo is not a regular file \(a FIFO\); move it away \(mv .*fifo .*fifo\.old\)$/],
      ["socket", /socket is not a regular file \(a socket\); move it away/],
      ["directory", /directory is not a regular file \(a directory\); move it away/],
      [
        "link",
        /link is a symbolic link; the daemon does not (follow|write through) links: remove it \(rm .*link\)$/,
      ],
    ];
    for (const [name, message] of cases) {
      const path = join(dir, name);
      for (const flags of [
        constants.O_RDONLY,
        constants.O_WRONLY | constants.O_APPEND,
        constants.O_RDWR,
      ]) {
        const what = `${name} with flags ${flags}`;
        assert.throws(
          () => openRegularFile(path, flags),
          (error: unknown) => {
            assert.ok(error instanceof UnsafeFileError, `${what}: ${String(error)}`);
            assert.match(error.message, message, what);
            return true;
          },
        );
        await assert.rejects(
          openRegularFileHandle(path, flags, { label: "log " }),
          (error: unknown) => {
            assert.ok(error instanceof UnsafeFileError, `${what}: ${String(error)}`);
            assert.match(error.message, /^log /, what);
            assert.match(error.message, message, what);
            return true;
          },
        );
      }
    }
  });

  it("a missing file is ENOENT, or created with O_CREAT and its mode", () => {
    assert.throws(() => readRegularFile(join(dir, "absent")), { code: "ENOENT" });
    const fd = openRegularFile(join(dir, "new"), constants.O_WRONLY | constants.O_CREAT, {
      mode: 0o600,
    });
    closeSync(fd);
    assert.equal(readRegularFile(join(dir, "new")).length, 0);
  });
});
