/**
 * The daemon's config file (daemon/server/config.ts): every key read, sizes as people write
 * them, and each mistake refused in one line that names the file, the key and what is allowed.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  BUILT_IN_CONFIG,
  CONFIG_KEYS,
  ConfigError,
  configChanges,
  configJson,
  loadConfig,
  parseConfig,
} from "../../daemon/server/config.js";
import { BUILT_IN_LIMITS } from "../../daemon/session/limits.js";
import { tempDir } from "../helpers/temp-home.js";

const PATH = "/home/me/.claude-sessions/config.json";
const MiB = 1024 * 1024;

/** The one-line error parsing `value` (as JSON) gives. */
function refusal(value: unknown): string {
  try {
    parseConfig(JSON.stringify(value), PATH);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    assert.ok(!error.message.includes("\n"), `more than one line: ${error.message}`);
    return error.message;
  }
  assert.fail(`accepted ${JSON.stringify(value)}`);
}

describe("config file", () => {
  it("reads every key", () => {
    const config = parseConfig(
      JSON.stringify({
        command: ["claude", "--model", "opus"],
        max_memory: "2G",
        on_limit: "restart",
        nice: 10,
        max_log_size: "50M",
        notify_command: "notify-send claude-sessions $CLAUDE_SESSIONS_EVENT",
        web_port: 8080,
      }),
      PATH,
    );
    assert.deepEqual(config, {
      command: ["claude", "--model", "opus"],
      limits: {
        maxMemoryBytes: 2 * 1024 * MiB,
        onLimit: "restart",
        nice: 10,
        maxLogBytes: 50 * MiB,
      },
      notifyCommand: "notify-send claude-sessions $CLAUDE_SESSIONS_EVENT",
      webPort: 8080,
    });
  });

  it("leaves out keys at their defaults; an empty object is the built-in config", () => {
    assert.deepEqual(parseConfig("{}", PATH), BUILT_IN_CONFIG);
    const config = parseConfig('{"nice": 5, "max_log_size": 0, "max_memory": 104857600}', PATH);
    assert.deepEqual(config.limits, {
      ...BUILT_IN_LIMITS,
      nice: 5,
      maxLogBytes: 0,
      maxMemoryBytes: 100 * MiB,
    });
    assert.deepEqual(config.command, []);
  });

  it("names the file, the key and what is allowed, in one line", () => {
    assert.equal(
      refusal({ comand: ["bash"] }),
      `${PATH}: unknown key "comand" (did you mean "command"?); the keys are ${Object.keys(CONFIG_KEYS).join(", ")}`,
    );
    assert.equal(
      refusal({ colour: true }),
      `${PATH}: unknown key "colour"; the keys are ${Object.keys(CONFIG_KEYS).join(", ")}`,
    );
    assert.equal(
      refusal({ nice: 99 }),
      `${PATH}: "nice" must be an integer from -20 to 19, got 99`,
    );
    assert.equal(
      refusal({ nice: "5" }),
      `${PATH}: "nice" must be an integer from -20 to 19, got "5"`,
    );
    assert.equal(
      refusal({ on_limit: "kill" }),
      `${PATH}: "on_limit" must be one of warn, stop, restart, got "kill"`,
    );
    assert.equal(
      refusal({ max_memory: "lots" }),
      `${PATH}: "max_memory" must be 0 (no limit) or a size such as 100M, 1.5G, 512K or a number of bytes, got "lots"`,
    );
    assert.equal(
      refusal({ max_memory: "10K" }),
      `${PATH}: "max_memory" must be 0 (no limit) or at least 1.00 MiB, got "10K"`,
    );
    assert.equal(
      refusal({ max_log_size: 1000 }),
      `${PATH}: "max_log_size" must be 0 (no limit) or at least 64.0 KiB, got 1000`,
    );
    assert.match(refusal({ command: "bash -l" }), /: "command" must be an array of strings, /);
    assert.match(refusal({ command: ["", "x"] }), /: "command" must be an array of strings, /);
    assert.match(refusal({ command: [1] }), /: "command" must be an array of strings, /);
    assert.match(refusal({ notify_command: ["x"] }), /: "notify_command" must be a shell command/);
    assert.equal(
      refusal({ web_port: 70000 }),
      `${PATH}: "web_port" must be a port number from 1 to 65535, got 70000`,
    );
    assert.equal(
      refusal(["nice", 5]),
      `${PATH}: must hold a JSON object of settings, e.g. {"nice": 10}`,
    );
  });

  it("refuses text that is not JSON, saying where", () => {
    assert.throws(
      () => parseConfig('{"nice": 5,}', PATH),
      (error: Error) =>
        error instanceof ConfigError &&
        error.message.startsWith(`${PATH}: not valid JSON: `) &&
        !error.message.includes("\n"),
    );
  });

  it("a missing file is the built-in config; an unreadable one is an error", () => {
    const dir = tempDir("csc-");
    try {
      assert.deepEqual(loadConfig(join(dir.path, "config.json")), {
        config: BUILT_IN_CONFIG,
        found: false,
      });
      // A directory where the file should be.
      assert.throws(() => loadConfig(dir.path), /: cannot be read: /);
      const path = join(dir.path, "config.json");
      writeFileSync(path, '{"nice": 7}');
      assert.equal(loadConfig(path).config.limits.nice, 7);
      assert.equal(loadConfig(path).found, true);
    } finally {
      dir.remove();
    }
  });

  it("shows every key of the config in effect, sizes as a file takes them back", () => {
    const config = parseConfig('{"max_memory": "1536M", "max_log_size": 100000}', PATH);
    const shown = configJson(config);
    assert.deepEqual(Object.keys(shown), Object.keys(CONFIG_KEYS));
    assert.equal(shown.max_memory, "1536M");
    assert.equal(shown.max_log_size, "100000");
    assert.deepEqual(parseConfig(JSON.stringify(shown), PATH), config);
    assert.deepEqual(configJson(BUILT_IN_CONFIG), {
      command: [],
      max_memory: "0",
      on_limit: "warn",
      nice: 0,
      max_log_size: "100M",
      notify_command: "",
      web_port: 7681,
    });
  });

  it("says what a reload changed", () => {
    const after = parseConfig('{"nice": 10, "on_limit": "stop"}', PATH);
    assert.deepEqual(configChanges(BUILT_IN_CONFIG, after), [
      'on_limit "warn" → "stop"',
      "nice 0 → 10",
    ]);
    assert.deepEqual(configChanges(after, after), []);
  });
});
