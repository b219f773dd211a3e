/** How a daemon run by a `service install` unit is told from one started by hand. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isMainProcess, unitOfCgroup } from "../../cli/service-daemon.js";

describe("a daemon run by a unit", () => {
  it("is told by its cgroup: the last part of systemd's path, one of our unit names", () => {
    const user = "0::/user.slice/user-1000.slice/user@1000.service/app.slice";
    assert.equal(unitOfCgroup(`${user}/claude-sessions.service\n`), "claude-sessions.service");
    assert.equal(
      unitOfCgroup(`${user}/claude-sessions-0a1b2c3d.service\n`),
      "claude-sessions-0a1b2c3d.service",
    );
    // cgroup v1: systemd's own hierarchy, beside the controllers'.
    assert.equal(
      unitOfCgroup(
        "4:memory:/user.slice\n1:name=systemd:/user.slice/user@1000.service/claude-sessions.service\n",
      ),
      "claude-sessions.service",
    );
    for (const other of [
      `${user}/app-gnome-terminal.scope\n`,
      `${user}/other.service\n`,
      `${user}/claude-sessions.service/child\n`,
      "0::/\n",
      "",
    ]) {
      assert.equal(unitOfCgroup(other), undefined, other);
    }
  });

  it("is its main process when systemd's SYSTEMD_EXEC_PID says so, or says nothing", () => {
    assert.equal(isMainProcess("HOME=/h\0SYSTEMD_EXEC_PID=42\0", 42), true);
    // A daemon started by hand from a session of the unit's daemon inherits the variable.
    assert.equal(isMainProcess("SYSTEMD_EXEC_PID=42\0HOME=/h\0", 43), false);
    assert.equal(isMainProcess("HOME=/h\0", 43), true);
  });
});
