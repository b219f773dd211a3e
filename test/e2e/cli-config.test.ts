/**
 * The config file through the CLI and a real daemon: its defaults reach new sessions, its notify
 * command runs; a bad file stops a daemon from starting, and a bad edit leaves a running daemon
 * on the config it had, whether reloaded by `daemon reload` or SIGHUP.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { assertNoStackTrace, type CliHome, cliHome } from "../helpers/cli-home.js";
import { tempDir } from "../helpers/temp-home.js";
import { waitFor } from "../helpers/wait.js";

interface SessionJson {
  id: string;
  command: string[];
  state: string;
  limits: { max_memory_bytes: number; on_limit: string; nice: number; max_log_bytes: number };
}

const MiB = 1024 * 1024;

describe("e2e: the config file", () => {
  let home: CliHome;
  let work: ReturnType<typeof tempDir>;
  let configPath: string;
  const writeConfig = (value: unknown) =>
    writeFileSync(configPath, typeof value === "string" ? value : JSON.stringify(value));

  before(() => {
    home = cliHome();
    work = tempDir("csc-work-");
    configPath = join(home.path, "config.json");
  });

  after(async () => {
    await home.cleanup();
    work.remove();
  });

  /** A session started with no command or limits of its own: what the defaults give it. */
  const started = async () => {
    const session = await home.json<SessionJson>(["start", work.path]);
    await home.ok(["stop", "--timeout", "1s", session.id]);
    await home.ok(["rm", "--delete-log", session.id]);
    return session;
  };

  it("a bad key keeps the daemon from starting, in one line naming the file and the key", async () => {
    writeConfig({ nice: 5, max_memroy: "1G" });
    const result = await home.run(["daemon"]);
    assert.equal(result.code, 1, result.stdout);
    assert.equal(
      result.stderr,
      `error: ${configPath}: unknown key "max_memroy" (did you mean "max_memory"?); the keys are command, max_memory, on_limit, nice, max_log_size, notify_command, web_port\n`,
    );
    assertNoStackTrace(result.stderr);
    assert.equal(home.daemonPid(), undefined, "a daemon started");
    assert.notEqual((await home.run(["status"])).code, 0);
  });

  it("its defaults reach sessions started without their own; flags and the environment come first", async () => {
    writeConfig({
      command: ["sleep", "60"],
      max_memory: "512M",
      on_limit: "stop",
      nice: 4,
      max_log_size: "10M",
      notify_command: `echo "$CLAUDE_SESSIONS_EVENT $CLAUDE_SESSIONS_SESSION_ID" >> ${join(work.path, "notified")}`,
    });
    await home.ok(["daemon"]);
    const status = await home.ok(["status"]);
    assert.match(status, new RegExp(`^⚙️  Config: ${configPath}$`, "m"));
    assert.equal((await home.json<{ config: string }>(["status"])).config, configPath);

    const session = await started();
    assert.deepEqual(session.command, ["sleep", "60"]);
    assert.deepEqual(session.limits, {
      max_memory_bytes: 512 * MiB,
      on_limit: "stop",
      nice: 4,
      max_log_bytes: 10 * MiB,
    });
    // The notify command ran when it ended.
    await waitFor("the notify command", () =>
      readFileSync(join(work.path, "notified"), { encoding: "utf8", flag: "a+" }).includes(
        `ended ${session.id}`,
      ),
    );

    const own = await home.json<SessionJson>([
      "start",
      "--nice",
      "1",
      "--max-log-size",
      "0",
      work.path,
      "--",
      "sleep",
      "30",
    ]);
    assert.deepEqual(own.command, ["sleep", "30"]);
    assert.equal(own.limits.nice, 1);
    assert.equal(own.limits.max_log_bytes, 0);
    assert.equal(own.limits.max_memory_bytes, 512 * MiB, "what the flags leave out comes from it");
    await home.ok(["stop", "--timeout", "1s", own.id]);
    await home.ok(["rm", own.id]);

    // $CLAUDE_SESSIONS_COMMAND, set where start runs, comes before the file's command.
    const fromEnv = await home.json<SessionJson>(["start", work.path], {
      env: { ...process.env, CLAUDE_SESSIONS_COMMAND: "sleep 45" },
    });
    assert.deepEqual(fromEnv.command, ["sleep", "45"]);
    await home.ok(["stop", "--timeout", "1s", fromEnv.id]);
    await home.ok(["rm", fromEnv.id]);
  });

  it("daemon reload: a bad edit is one line and exit 1, and the daemon keeps its config", async () => {
    const pid = home.daemonPid();
    writeConfig({ command: ["sleep", "61"], nice: 99 });
    const bad = await home.run(["daemon", "reload"]);
    assert.equal(bad.code, 1);
    assert.equal(
      bad.stderr,
      `error: ${configPath}: "nice" must be an integer from -20 to 19, got 99\n`,
    );
    writeConfig('{"nice": 3,');
    const notJson = await home.run(["daemon", "reload"]);
    assert.equal(notJson.code, 1);
    assert.match(notJson.stderr, new RegExp(`^error: ${configPath}: not valid JSON: .*\n$`));
    for (const result of [bad, notJson]) assertNoStackTrace(result.stderr);
    // Still running, on the config it had.
    assert.equal(home.daemonPid(), pid);
    const session = await started();
    assert.deepEqual(session.command, ["sleep", "60"]);
    assert.equal(session.limits.nice, 4);
    assert.match(
      readFileSync(join(home.path, "daemon.log"), "utf8"),
      /config not reloaded, the one in effect is kept: .*"nice" must be/,
    );

    writeConfig({ command: ["sleep", "62"] });
    assert.equal(await home.ok(["daemon", "reload"]), `✅ Config reloaded from ${configPath}\n`);
    const effective = await home.json<Record<string, unknown>>(["daemon", "reload"]);
    assert.deepEqual(effective, {
      command: ["sleep", "62"],
      max_memory: "0",
      on_limit: "warn",
      nice: 0,
      max_log_size: "100M",
      notify_command: "",
      web_port: 7681,
    });
    const reloaded = await started();
    assert.deepEqual(reloaded.command, ["sleep", "62"]);
    assert.equal(reloaded.limits.nice, 0);
  });

  it("SIGHUP reloads it; with no file the built-in defaults apply", async () => {
    const pid = home.daemonPid() as number;
    writeConfig({ command: ["sleep", "63"], nice: 2 });
    process.kill(pid, "SIGHUP");
    const session = await waitFor("the reload", async () => {
      const now = await started();
      return now.command[1] === "63" && now;
    });
    assert.equal(session.limits.nice, 2);
    writeConfig({ nice: 40 });
    process.kill(pid, "SIGHUP");
    await waitFor("the refusal in the daemon's log", () =>
      /config not reloaded, the one in effect is kept: .*"nice" must be an integer from -20 to 19, got 40/.test(
        readFileSync(join(home.path, "daemon.log"), "utf8"),
      ),
    );
    assert.equal(home.daemonPid(), pid, "SIGHUP ended the daemon");
    assert.deepEqual((await started()).command, ["sleep", "63"]);

    writeFileSync(configPath, "");
    const empty = await home.run(["daemon", "reload"]);
    assert.equal(empty.code, 1, "an empty file is not JSON");
    rmSync(configPath);
    assert.equal(
      await home.ok(["daemon", "reload"]),
      `✅ Config reloaded: there is no ${configPath}, so the built-in defaults apply\n`,
    );
    assert.ok(!existsSync(configPath));
    assert.match(await home.ok(["status"]), /⚙️ {2}Config: .* \(none: the built-in defaults\)$/m);
  });
});
