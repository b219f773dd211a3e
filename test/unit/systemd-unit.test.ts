/**
 * The systemd unit's text as systemd will read it: every path quoted and escaped by its rules
 * (white space quoted, `%` doubled, `$` doubled in arguments, C escapes in quotes), paths it
 * cannot hold refused.
 */
import assert from "node:assert/strict";
import { homedir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  DEFAULT_UNIT_NAME,
  UnitPathError,
  unitLocation,
  unitText,
} from "../../cli/systemd-unit.js";
import { unitFile } from "../helpers/unit-file.js";

describe("systemd unit", () => {
  it("the default home has the default name and sets no home", () => {
    const location = unitLocation({ XDG_CONFIG_HOME: "/cfg" });
    assert.deepEqual(location, {
      name: DEFAULT_UNIT_NAME,
      path: `/cfg/systemd/user/${DEFAULT_UNIT_NAME}`,
      home: join(homedir(), ".claude-sessions"),
      defaultHome: true,
    });
    // Named by hand, the default home is still the default one.
    assert.equal(
      unitLocation({ CLAUDE_SESSIONS_HOME: join(homedir(), ".claude-sessions/") }).name,
      DEFAULT_UNIT_NAME,
    );
    assert.equal(
      unitText(location, { node: "/usr/bin/node", cli: "/opt/cs/bin/claude-sessions.js" }),
      unitFile([
        "[Unit]",
        `Description=claude-sessions daemon (${location.home})`,
        "",
        "[Service]",
        "Type=simple",
        "ExecStart=/usr/bin/node /opt/cs/bin/claude-sessions.js daemon --foreground --resume",
        "# systemctl reload: the daemon reads its config file again, and a bad one fails the reload.",
        "ExecReload=/usr/bin/node /opt/cs/bin/claude-sessions.js daemon reload",
      ]),
    );
  });

  it("another home has a unit of its own, named by its path, that sets it", () => {
    const a = unitLocation({ CLAUDE_SESSIONS_HOME: "/srv/a", XDG_CONFIG_HOME: "/cfg" });
    const b = unitLocation({ CLAUDE_SESSIONS_HOME: "/srv/b", XDG_CONFIG_HOME: "/cfg" });
    assert.match(a.name, /^claude-sessions-[0-9a-f]{8}\.service$/);
    assert.notEqual(a.name, b.name);
    assert.equal(a.path, `/cfg/systemd/user/${a.name}`);
    assert.equal(a.defaultHome, false);
    assert.match(
      unitText(a, { node: "/usr/bin/node", cli: "/opt/cs/bin/claude-sessions.js" }),
      /^Environment="CLAUDE_SESSIONS_HOME=\/srv\/a"\nExecStart=\/usr\/bin\/node /m,
    );
  });

  it("XDG_CONFIG_HOME places it; unset or relative, ~/.config does", () => {
    const fallback = join(homedir(), ".config/systemd/user", DEFAULT_UNIT_NAME);
    assert.equal(unitLocation({}).path, fallback);
    assert.equal(unitLocation({ XDG_CONFIG_HOME: "relative/dir" }).path, fallback);
    assert.equal(unitLocation({ XDG_CONFIG_HOME: "" }).path, fallback);
  });

  it("quotes and escapes paths as systemd reads them", () => {
    const home = `/srv/my home/100%/$HOME/"q"/back\\slash`;
    const location = unitLocation({ CLAUDE_SESSIONS_HOME: home, XDG_CONFIG_HOME: "/cfg" });
    const text = unitText(location, {
      node: "/opt/node 20/50%$x/node",
      cli: `/opt/my cs/$v/"q"/a\\b/%n/claude-sessions.js`,
    });
    assert.equal(
      text,
      unitFile([
        "[Unit]",
        // No quoting here: the value is the rest of the line, with specifiers.
        `Description=claude-sessions daemon (/srv/my home/100%%/$HOME/"q"/back\\slash)`,
        "",
        "[Service]",
        "Type=simple",
        // C escapes in the quotes; no $ expansion in Environment=.
        `Environment="CLAUDE_SESSIONS_HOME=/srv/my home/100%%/$HOME/\\"q\\"/back\\\\slash"`,
        // The program's path is taken as written (no $ expansion); its arguments' $ are doubled.
        `ExecStart="/opt/node 20/50%%$x/node" "/opt/my cs/$$v/\\"q\\"/a\\\\b/%%n/claude-sessions.js" daemon --foreground --resume`,
        "# systemctl reload: the daemon reads its config file again, and a bad one fails the reload.",
        `ExecReload="/opt/node 20/50%%$x/node" "/opt/my cs/$$v/\\"q\\"/a\\\\b/%%n/claude-sessions.js" daemon reload`,
      ]),
    );
    // A plain argument with a $ or a % is not quoted, only escaped.
    assert.match(
      unitText(location, { node: "/usr/bin/node", cli: "/opt/$v/%n/cs.js" }),
      /^ExecStart=\/usr\/bin\/node \/opt\/\$\$v\/%%n\/cs\.js daemon/m,
    );
  });

  it("refuses what a unit cannot hold: a control character, a quote in the program's path", () => {
    const location = unitLocation({ CLAUDE_SESSIONS_HOME: "/srv/a", XDG_CONFIG_HOME: "/cfg" });
    const program = { node: "/usr/bin/node", cli: "/opt/cs.js" };
    assert.throws(
      () => unitText({ ...location, home: "/srv/new\nline" }, program),
      (error: unknown) => error instanceof UnitPathError && /control character/.test(error.message),
    );
    assert.throws(() => unitText(location, { ...program, cli: "/opt/tab\there" }), UnitPathError);
    for (const node of [`/opt/"node"/node`, "/opt/it's/node", "/opt/back\\slash/node"]) {
      assert.throws(
        () => unitText(location, { ...program, node }),
        (error: unknown) =>
          error instanceof UnitPathError && /quote or a backslash/.test(error.message),
        node,
      );
    }
  });
});
