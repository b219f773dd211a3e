/**
 * `service install` and `service uninstall` through the built CLI: the unit's exact text, as
 * `systemd-analyze verify` accepts it; the file written whole with mode 0644 whatever the umask;
 * `systemctl --user` run when a user service manager answers, and the commands printed instead
 * when none does (no systemctl, no user bus); uninstall undoing it all; no daemon ever started.
 *
 * No test reaches the machine's own service manager: the CLI runs with a PATH that has no
 * systemctl, or a stand-in that records its calls and answers as a manager would, or as
 * systemctl does with no user bus.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { after, before, describe, it, type TestContext } from "node:test";
import { type CliResult, runProgram } from "../helpers/cli.js";
import { assertNoStackTrace, type CliHome, cliHome } from "../helpers/cli-home.js";
import { cliBin } from "../helpers/paths.js";
import { type TempHome, tempDir } from "../helpers/temp-home.js";
import { unitFile } from "../helpers/unit-file.js";

/** What the stand-in systemctl does: answer as a user manager, or as systemctl with no bus. */
const FAKE_SYSTEMCTL = `#!/bin/sh
echo "$*" >> "$SYSTEMCTL_CALLS"
if [ "$SYSTEMCTL_REACHABLE" != yes ]; then
  echo "Failed to connect to bus: No medium found" >&2
  exit 1
fi
if [ "$2" = "$SYSTEMCTL_FAILS" ]; then
  echo "Failed to $2 unit: Access denied" >&2
  exit 1
fi
exit 0
`;

const unitText = (home: string, environment: boolean) =>
  unitFile([
    "[Unit]",
    `Description=claude-sessions daemon (${home})`,
    "",
    "[Service]",
    "Type=simple",
    ...(environment ? [`Environment="CLAUDE_SESSIONS_HOME=${home}"`] : []),
    `ExecStart=${process.execPath} ${cliBin} daemon --foreground --resume`,
    "# systemctl reload: the daemon reads its config file again, and a bad one fails the reload.",
    `ExecReload=${process.execPath} ${cliBin} daemon reload`,
  ]);

/**
 * `systemd-analyze verify` finds nothing wrong with the unit at `path`. Where it cannot run (not
 * installed, or not even a minimal unit verifies here), only this step is skipped, and says why.
 */
function verifyUnit(t: TestContext, dir: string, path: string): void {
  const probe = join(dir, "probe-verify.service");
  writeFileSync(probe, "[Service]\nExecStart=/bin/true\n");
  const ready = spawnSync("systemd-analyze", ["verify", probe], { encoding: "utf8" });
  rmSync(probe);
  if (ready.error !== undefined || ready.status !== 0) {
    const why = ready.error?.message ?? ready.stderr.trim();
    t.diagnostic(`skipped systemd-analyze verify of ${path}: it cannot run here (${why})`);
    return;
  }
  const name = path.replace(/^.*\//, "");
  const result = spawnSync("systemd-analyze", ["verify", path], { encoding: "utf8" });
  assert.equal(result.status, 0, result.stderr);
  // It warns of settings it ignores, naming the unit, without failing.
  const about = result.stderr.split("\n").filter((line) => line.includes(name));
  assert.deepEqual(about, [], result.stderr);
}

const regexpEscape = (text: string) => text.replace(/[\\^$.*+?()[\]{}|]/g, "\\$&");

describe("e2e: service install and uninstall", () => {
  let home: CliHome;
  let config: TempHome;
  let bins: TempHome;
  let noSystemctl: string;
  let withSystemctl: string;
  let calls: string;
  let unitName: string;
  let unitPath: string;

  before(() => {
    home = cliHome();
    config = tempDir("csv-");
    bins = tempDir("csb-");
    noSystemctl = join(bins.path, "none");
    withSystemctl = join(bins.path, "fake");
    mkdirSync(noSystemctl);
    mkdirSync(withSystemctl);
    writeFileSync(join(withSystemctl, "systemctl"), FAKE_SYSTEMCTL);
    chmodSync(join(withSystemctl, "systemctl"), 0o755);
    calls = join(bins.path, "calls");
    unitName = `claude-sessions-${createHash("sha256").update(home.path).digest("hex").slice(0, 8)}.service`;
    unitPath = join(config.path, "systemd", "user", unitName);
  });

  after(async () => {
    // No command of these ever starts a daemon.
    assert.equal(existsSync(join(home.path, "daemon.pid")), false, "a daemon was started");
    await home.cleanup();
    config.remove();
    bins.remove();
  });

  /**
   * Runs `claude-sessions service args` under umask 077, with `path` as its PATH, for `forHome`;
   * the stand-in systemctl records its calls.
   */
  const service = (
    args: readonly string[],
    options: { path?: string; env?: NodeJS.ProcessEnv; home?: string } = {},
  ): Promise<CliResult> =>
    runProgram(
      "/bin/sh",
      ["-c", 'umask 077 && exec "$@"', "sh", process.execPath, cliBin, "service", ...args],
      {
        cwd: bins.path,
        env: {
          ...process.env,
          NO_COLOR: "1",
          CLAUDE_SESSIONS_HOME: options.home ?? home.path,
          XDG_CONFIG_HOME: config.path,
          PATH: options.path ?? noSystemctl,
          SYSTEMCTL_CALLS: calls,
          ...options.env,
        },
        timeoutMs: 30_000,
      },
    );
  const ok = async (...args: Parameters<typeof service>) => {
    const result = await service(...args);
    assert.equal(result.code, 0, `stdout: ${result.stdout}\nstderr: ${result.stderr}`);
    assertNoStackTrace(result.stderr);
    return result;
  };
  /** The stand-in's calls since the last time, one line each. */
  const takeCalls = () => {
    const text = existsSync(calls) ? readFileSync(calls, "utf8") : "";
    rmSync(calls, { force: true });
    return text.split("\n").filter((line) => line !== "");
  };

  it("install --print prints the unit for the home, and writes nothing", async () => {
    const printed = await ok(["install", "--print"]);
    assert.equal(printed.stdout, unitText(home.path, true));
    assert.equal(printed.stderr, "");
    assert.deepEqual(readdirSync(config.path), []);

    // The default home: the default name, and no CLAUDE_SESSIONS_HOME to set.
    const user = tempDir("csh-");
    try {
      const own = join(user.path, ".claude-sessions");
      const plain = await ok(["install", "--print"], { home: own, env: { HOME: user.path } });
      assert.equal(plain.stdout, unitText(own, false));
      const installed = await ok(["install"], { home: own, env: { HOME: user.path } });
      assert.match(installed.stdout, /\/systemd\/user\/claude-sessions\.service /);
    } finally {
      user.remove();
      rmSync(join(config.path, "systemd"), { recursive: true, force: true });
    }
  });

  it("install with no systemctl writes the unit (mode 0644) and prints what to run", async (t) => {
    const result = await ok(["install"]);
    assert.equal(
      result.stdout,
      [
        `✅ Wrote ${unitPath} (the daemon of ${home.path})`,
        "Not enabled: no user service manager answers here (systemctl is not installed). Where one does, run:",
        "  systemctl --user daemon-reload",
        `  systemctl --user enable ${unitName}`,
        "",
      ].join("\n"),
    );
    assert.equal(readFileSync(unitPath, "utf8"), unitText(home.path, true));
    // Written under umask 077, still readable by the service manager.
    assert.equal(statSync(unitPath).mode & 0o777, 0o644);
    // Nothing left beside it.
    assert.deepEqual(readdirSync(join(config.path, "systemd", "user")), [unitName]);
    verifyUnit(t, bins.path, unitPath);
  });

  it("install where systemctl has no user bus prints what to run, --now included", async () => {
    const result = await ok(["install", "--now"], { path: withSystemctl });
    assert.match(
      result.stdout,
      /\(systemctl --user show-environment: Failed to connect to bus: No medium found\)/,
    );
    assert.match(
      result.stdout,
      new RegExp(
        `run:\\n  systemctl --user daemon-reload\\n  systemctl --user enable --now ${unitName}\\n$`,
      ),
    );
    assert.deepEqual(takeCalls(), ["--user show-environment"]);
  });

  it("install with a user manager runs daemon-reload and enable; --now also starts it", async () => {
    const env = { SYSTEMCTL_REACHABLE: "yes" };
    const enabled = await ok(["install"], { path: withSystemctl, env });
    assert.deepEqual(takeCalls(), [
      "--user show-environment",
      "--user daemon-reload",
      `--user enable ${unitName}`,
    ]);
    assert.match(
      enabled.stdout,
      new RegExp(`^✅ Enabled ${unitName}: the daemon starts at login`, "m"),
    );

    const started = await ok(["install", "--now"], { path: withSystemctl, env });
    assert.deepEqual(takeCalls(), [
      "--user show-environment",
      "--user daemon-reload",
      `--user enable --now ${unitName}`,
    ]);
    assert.match(started.stdout, new RegExp(`^✅ Enabled and started ${unitName}:`, "m"));
    assert.equal(readFileSync(unitPath, "utf8"), unitText(home.path, true));
  });

  it("install --now with a daemon already running for the home enables the unit only, and says why", async () => {
    await home.ok(["daemon"]);
    const pid = home.daemonPid();
    try {
      const env = { SYSTEMCTL_REACHABLE: "yes" };
      const result = await ok(["install", "--now"], { path: withSystemctl, env });
      assert.deepEqual(takeCalls(), [
        "--user show-environment",
        "--user daemon-reload",
        `--user enable ${unitName}`,
      ]);
      assert.match(
        result.stdout,
        new RegExp(
          `^Not started now: a daemon already runs for ${home.path} \\(pid ${pid}\\)\\. To hand it to systemd: claude-sessions stop-daemon && systemctl --user start ${unitName}$`,
          "m",
        ),
      );
    } finally {
      await home.ok(["stop-daemon"]);
    }
  });

  it("install exits 1 with systemctl's own words when enable fails", async () => {
    const env = { SYSTEMCTL_REACHABLE: "yes", SYSTEMCTL_FAILS: "enable" };
    const result = await service(["install"], { path: withSystemctl, env });
    takeCalls();
    assert.equal(result.code, 1, result.stdout);
    assert.equal(
      result.stderr,
      `error: systemctl --user enable ${unitName}: Failed to enable unit: Access denied\n`,
    );
  });

  it("uninstall disables and stops the unit, removes it, reloads; then says it is not there", async () => {
    await ok(["install"]);
    const env = { SYSTEMCTL_REACHABLE: "yes" };
    const removed = await ok(["uninstall"], { path: withSystemctl, env });
    assert.deepEqual(takeCalls(), [
      "--user show-environment",
      `--user disable --now ${unitName}`,
      "--user daemon-reload",
    ]);
    assert.match(removed.stdout, new RegExp(`^✅ Removed ${unitPath}$`, "m"));
    assert.match(removed.stdout, new RegExp(`^✅ Disabled and stopped ${unitName}; `, "m"));
    assert.equal(existsSync(unitPath), false);

    const again = await ok(["uninstall"], { path: withSystemctl, env });
    assert.equal(again.stdout, `Not installed: there is no ${unitPath}\n`);
    assert.deepEqual(takeCalls(), []);
  });

  it("uninstall with no manager removes the unit and its enablement link, and says what to run", async () => {
    await ok(["install"]);
    // What `systemctl --user enable` makes.
    const wants = join(config.path, "systemd", "user", "default.target.wants");
    mkdirSync(wants);
    symlinkSync(unitPath, join(wants, unitName));
    const result = await ok(["uninstall"]);
    assert.equal(
      result.stdout,
      [
        `✅ Removed ${unitPath}`,
        "No user service manager answers here (systemctl is not installed). Where one runs the unit, run:",
        `  systemctl --user stop ${unitName}`,
        "  systemctl --user daemon-reload",
        "",
      ].join("\n"),
    );
    assert.deepEqual(readdirSync(wants), []);
    assert.equal(existsSync(unitPath), false);
  });

  it("a home whose path needs quoting gets a unit that systemd reads back", async (t) => {
    const odd = mkdtempSync(join(bins.path, `my home 100%$HOME "q" back\\slash-`));
    const result = await ok(["install"], { home: odd });
    const path = /^✅ Wrote (.+) \(the daemon of /m.exec(result.stdout)?.[1] ?? "";
    const text = readFileSync(path, "utf8");
    const escaped = odd.replaceAll("%", "%%");
    assert.match(
      text,
      new RegExp(`^Description=claude-sessions daemon \\(${regexpEscape(escaped)}\\)$`, "m"),
    );
    const quoted = escaped.replace(/[\\"]/g, (char) => `\\${char}`);
    assert.ok(
      text.includes(`\nEnvironment="CLAUDE_SESSIONS_HOME=${quoted}"\n`),
      `no quoted Environment= in:\n${text}`,
    );
    verifyUnit(t, bins.path, path);
    await ok(["uninstall"], { home: odd });
  });

  it("takes no --socket, and --print with --now is misuse", async () => {
    for (const args of [
      ["install", "--socket", "/tmp/x.sock"],
      ["uninstall", "--socket", "/tmp/x.sock"],
      ["install", "--print", "--now"],
    ]) {
      const result = await service(args);
      assert.equal(result.code, 2, args.join(" "));
      assert.match(result.stderr, /^error: [^\n]+\n$/);
    }
  });
});
