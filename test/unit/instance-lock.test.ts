/** The single-daemon lock: its private key, made once and checked, and the lock itself. */
import assert from "node:assert/strict";
import {
  chmodSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import {
  acquireInstanceLock,
  homeLockKey,
  LOCK_KEY_FILE,
  LockBusyError,
  LockKeyError,
  lockName,
} from "../../daemon/server/instance-lock.js";
import { type TempHome, tempHome } from "../helpers/temp-home.js";

describe("instance lock", () => {
  let home: TempHome;
  let keyPath: string;

  beforeEach(() => {
    home = tempHome("cslk-");
    keyPath = join(home.path, LOCK_KEY_FILE);
  });

  afterEach(() => home.remove());

  it("makes a random private key once and reads the same one after, leaving nothing else", () => {
    const key = homeLockKey(home.path);
    assert.match(key, /^[0-9a-f]{64}$/);
    assert.equal(statSync(keyPath).mode & 0o777, 0o600);
    assert.equal(homeLockKey(home.path), key);
    assert.deepEqual(readdirSync(home.path), [LOCK_KEY_FILE]);
    const other = tempHome("cslk-");
    try {
      assert.notEqual(homeLockKey(other.path), key, "each home gets its own key");
    } finally {
      other.remove();
    }
  });

  it("names the lock after the home and its key: another key, another name", () => {
    const key = homeLockKey(home.path);
    assert.ok(lockName(home.path, key).startsWith("\0claude-sessions/"));
    assert.notEqual(lockName(home.path, key), lockName(home.path, "0".repeat(64)));
  });

  it("refuses a damaged key, a key others can read and a link, saying how to fix it", () => {
    writeFileSync(keyPath, "not a key\n", { mode: 0o600 });
    assert.throws(() => homeLockKey(home.path), LockKeyError);
    assert.throws(() => homeLockKey(home.path), /is damaged; remove it \(rm .*lock\.key\)/);

    writeFileSync(keyPath, `${"a".repeat(64)}\n`);
    chmodSync(keyPath, 0o644);
    assert.throws(() => homeLockKey(home.path), /only you can read/);
    chmodSync(keyPath, 0o600);
    assert.equal(homeLockKey(home.path), "a".repeat(64));

    const target = join(home.path, "elsewhere");
    writeFileSync(target, `${"b".repeat(64)}\n`, { mode: 0o600 });
    const linked = tempHome("cslk-");
    try {
      symlinkSync(target, join(linked.path, LOCK_KEY_FILE));
      assert.throws(
        () => homeLockKey(linked.path),
        /is a symbolic link; the daemon does not follow links: remove it/,
      );
      assert.equal(readFileSync(target, "utf8"), `${"b".repeat(64)}\n`);
    } finally {
      linked.remove();
    }
  });

  it("is held by one holder at a time and free again once released", async () => {
    const lock = await acquireInstanceLock(home.path);
    await assert.rejects(acquireInstanceLock(home.path), LockBusyError);
    await lock.release();
    const again = await acquireInstanceLock(home.path);
    await again.release();
  });

  it("is the same address on every Node: a lock held as Node 20 binds it is busy", async () => {
    // Node 20 pads an abstract name with NULs to the whole of sun_path (108 bytes); Node 24
    // binds exactly what it is given, so this is the address a Node 20 daemon holds on both.
    const name = lockName(home.path, homeLockKey(home.path));
    const held = createServer();
    await new Promise<void>((resolve) => held.listen(name.padEnd(108, "\0"), resolve));
    try {
      await assert.rejects(acquireInstanceLock(home.path), LockBusyError);
    } finally {
      await new Promise((resolve) => held.close(resolve));
    }
  });
});
