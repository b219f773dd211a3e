/**
 * What a program is doing, from the facts a session host gathers (daemon/host/activity.ts):
 * Claude Code's hook payloads as it sends them, its status file, and for any program the
 * terminal's foreground process and output. Pure functions, fed the facts directly.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type ActivityFact,
  type ClaudeStatus,
  claudeActivity,
  commName,
  ECHO_MS,
  type HookEvent,
  hookActivity,
  isFlow,
  parseClaudeStatus,
  parseHookEvent,
  SETTLE_MS,
  shortText,
  statusActivity,
  terminalActivity,
  toolDetail,
} from "../../daemon/host/activity.js";
import { ActivityState } from "../../daemon/host/host-wire.js";

const CONVERSATION = "3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b";
const CWD = "/home/dev/shop";

/** The fields every Claude Code hook payload starts with, then the event's own. */
function payload(name: string, fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    session_id: CONVERSATION,
    transcript_path: `/home/dev/.claude/projects/-home-dev-shop/${CONVERSATION}.jsonl`,
    cwd: CWD,
    permission_mode: "default",
    hook_event_name: name,
    ...fields,
  };
}

/** The event in a payload, which must name one. */
function parsed(fields: Record<string, unknown>): HookEvent {
  const event = parseHookEvent(JSON.stringify(fields));
  assert.ok(event !== undefined, "the payload names an event");
  return event;
}

/** A hook event with only the given fields set, as parseHookEvent leaves the others. */
function event(fields: Partial<HookEvent>): HookEvent {
  return {
    name: "",
    sessionId: "",
    source: "",
    cwd: "",
    toolName: "",
    toolInput: {},
    prompt: "",
    message: "",
    notificationType: "",
    ...fields,
  };
}

function status(fields: Partial<ClaudeStatus>): ClaudeStatus {
  return { status: "", waitingFor: "", sessionId: "", at: 0, ...fields };
}

const working = (detail: string, at: number): ActivityFact => ({
  state: ActivityState.working,
  detail,
  at,
});
const idle = (detail: string, at: number): ActivityFact => ({
  state: ActivityState.idle,
  detail,
  at,
});
const waiting = (detail: string, at: number): ActivityFact => ({
  state: ActivityState.waiting,
  detail,
  at,
});

describe("shortText", () => {
  it("keeps a short line as it is, without its surrounding blanks", () => {
    assert.equal(shortText("npm test"), "npm test");
    assert.equal(shortText("  \t npm test \t "), "npm test");
    assert.equal(shortText(""), "");
    assert.equal(shortText(" \n \n"), "");
  });

  it("keeps only the first line that has text, with no carriage return", () => {
    assert.equal(shortText("npm test\nnpm run lint"), "npm test");
    assert.equal(shortText("\n\n  first\nsecond"), "first");
    assert.equal(shortText("first\r\nsecond"), "first");
  });

  it("keeps a line of exactly 80 characters whole", () => {
    const line = "x".repeat(80);
    assert.equal(shortText(line), line);
  });

  it("cuts a longer line to 79 characters and an ellipsis, 80 in all", () => {
    const cut = shortText(`${"a".repeat(79)}bcdef`);
    assert.equal(cut, `${"a".repeat(79)}…`);
    assert.equal(cut.length, 80);
    assert.equal(shortText("y".repeat(81)), `${"y".repeat(79)}…`);
  });

  it("measures only the first line against the limit", () => {
    assert.equal(shortText(`short\n${"z".repeat(500)}`), "short");
  });

  it("counts and cuts whole characters: an emoji at the cut is not split in half", () => {
    const cut = shortText(`${"a".repeat(78)}😀😀tail`);
    assert.equal(cut, `${"a".repeat(78)}😀…`);
    assert.equal([...cut].length, 80);
    assert.doesNotMatch(cut, /[\ud800-\udbff](?![\udc00-\udfff])/, "no lone surrogate");
    assert.equal(shortText("😀".repeat(80)), "😀".repeat(80));
  });
});

describe("parseHookEvent", () => {
  it("reads a SessionStart as Claude Code sends it on startup", () => {
    assert.deepEqual(
      parseHookEvent(JSON.stringify(payload("SessionStart", { source: "startup" }))),
      {
        name: "SessionStart",
        sessionId: CONVERSATION,
        source: "startup",
        cwd: CWD,
        toolName: "",
        toolInput: {},
        prompt: "",
        message: "",
        notificationType: "",
      },
    );
  });

  it("reads the source of a SessionStart after a resume, a /clear and a compaction", () => {
    for (const source of ["resume", "clear", "compact"]) {
      const started = parsed(payload("SessionStart", { source, session_id: `new-${source}` }));
      assert.equal(started.name, "SessionStart");
      assert.equal(started.source, source);
      assert.equal(started.sessionId, `new-${source}`);
    }
  });

  it("reads the prompt of a UserPromptSubmit", () => {
    const prompt = parsed(payload("UserPromptSubmit", { prompt: "run the tests\nthen fix them" }));
    assert.equal(prompt.name, "UserPromptSubmit");
    assert.equal(prompt.prompt, "run the tests\nthen fix them");
    assert.equal(prompt.cwd, CWD);
  });

  it("reads the tool and its whole input from a PreToolUse for Bash and for Edit", () => {
    const bash = parsed(
      payload("PreToolUse", {
        tool_name: "Bash",
        tool_input: { command: "npm test", description: "Run the tests", timeout: 120000 },
        tool_use_id: "toolu_01ABC",
      }),
    );
    assert.equal(bash.toolName, "Bash");
    assert.deepEqual(bash.toolInput, {
      command: "npm test",
      description: "Run the tests",
      timeout: 120000,
    });
    const edit = parsed(
      payload("PreToolUse", {
        tool_name: "Edit",
        tool_input: { file_path: `${CWD}/src/app.ts`, old_string: "a", new_string: "b" },
      }),
    );
    assert.equal(edit.toolName, "Edit");
    assert.deepEqual(edit.toolInput, {
      file_path: `${CWD}/src/app.ts`,
      old_string: "a",
      new_string: "b",
    });
  });

  it("reads a PostToolUse with its tool's response", () => {
    const done = parsed(
      payload("PostToolUse", {
        tool_name: "Bash",
        tool_input: { command: "npm test" },
        tool_response: { stdout: "ok", stderr: "", interrupted: false },
      }),
    );
    assert.equal(done.name, "PostToolUse");
    assert.equal(done.toolName, "Bash");
    assert.deepEqual(done.toolInput, { command: "npm test" });
  });

  it("reads the message and kind of a Notification for a permission and for an idle prompt", () => {
    const permission = parsed(
      payload("Notification", {
        message: "Claude needs your permission to use Bash",
        notification_type: "permission_prompt",
      }),
    );
    assert.equal(permission.message, "Claude needs your permission to use Bash");
    assert.equal(permission.notificationType, "permission_prompt");
    const waitingForYou = parsed(
      payload("Notification", {
        message: "Claude is waiting for your input",
        notification_type: "idle_prompt",
      }),
    );
    assert.equal(waitingForYou.message, "Claude is waiting for your input");
    assert.equal(waitingForYou.notificationType, "idle_prompt");
  });

  it("reads Stop, SubagentStop and SessionEnd by their names", () => {
    assert.equal(parsed(payload("Stop", { stop_hook_active: false })).name, "Stop");
    assert.equal(parsed(payload("SubagentStop", { stop_hook_active: false })).name, "SubagentStop");
    const end = parsed(payload("SessionEnd", { reason: "clear" }));
    assert.equal(end.name, "SessionEnd");
    assert.equal(end.sessionId, CONVERSATION);
  });

  it("ignores fields of the wrong type, keeping empty ones", () => {
    const odd = parsed({
      hook_event_name: "PreToolUse",
      session_id: 42,
      cwd: null,
      tool_name: ["Bash"],
      tool_input: ["npm test"],
      prompt: { text: "hi" },
    });
    assert.deepEqual(odd, event({ name: "PreToolUse" }));
    assert.deepEqual(
      parsed({ hook_event_name: "PreToolUse", tool_input: "npm test" }).toolInput,
      {},
    );
    assert.deepEqual(parsed({ hook_event_name: "PreToolUse", tool_input: null }).toolInput, {});
  });

  it("says nothing of a payload that names no event", () => {
    const { hook_event_name: _, ...nameless } = payload("Stop");
    assert.equal(parseHookEvent(JSON.stringify(nameless)), undefined);
    assert.equal(parseHookEvent(JSON.stringify(payload(""))), undefined);
    assert.equal(
      parseHookEvent(JSON.stringify({ ...payload("Stop"), hook_event_name: 7 })),
      undefined,
    );
    assert.equal(parseHookEvent("{}"), undefined);
  });

  it("says nothing of garbage", () => {
    assert.equal(parseHookEvent(""), undefined);
    assert.equal(parseHookEvent("not json at all"), undefined);
    assert.equal(parseHookEvent("\u0000\u0001\u00ff"), undefined);
    assert.equal(parseHookEvent("null"), undefined);
    assert.equal(parseHookEvent("[]"), undefined);
    assert.equal(parseHookEvent("42"), undefined);
    assert.equal(parseHookEvent('"Stop"'), undefined);
    // A name that is cut before its closing quote is no name.
    assert.equal(parseHookEvent('{"session_id":"abc","hook_event_name":"Sto'), undefined);
  });

  it("reads a payload cut inside a huge tool response: the fields before the cut, tool_input whole", () => {
    const whole = JSON.stringify(
      payload("PostToolUse", {
        tool_name: "Bash",
        tool_input: { command: 'grep -r "}" src', description: "Find braces" },
        tool_response: { stdout: "x".repeat(300_000), stderr: "" },
      }),
    );
    // The host reads at most the start of a hook's file.
    const cut = whole.slice(0, 256 * 1024);
    assert.throws(() => JSON.parse(cut));
    assert.deepEqual(parseHookEvent(cut), {
      name: "PostToolUse",
      sessionId: CONVERSATION,
      source: "",
      cwd: CWD,
      toolName: "Bash",
      toolInput: { command: 'grep -r "}" src', description: "Find braces" },
      prompt: "",
      message: "",
      notificationType: "",
    });
  });

  it("reads a payload cut inside its tool_input with no input, but its tool", () => {
    const whole = JSON.stringify(
      payload("PreToolUse", {
        tool_name: "Write",
        tool_input: { file_path: `${CWD}/big.txt`, content: "y".repeat(300_000) },
      }),
    );
    const cut = parseHookEvent(whole.slice(0, 256 * 1024));
    assert.ok(cut !== undefined);
    assert.equal(cut.name, "PreToolUse");
    assert.equal(cut.toolName, "Write");
    assert.deepEqual(cut.toolInput, {});
    assert.equal(toolDetail(cut), "Write");
  });

  it("reads escaped quotes and backslashes in a cut payload's strings", () => {
    const cut = `{"hook_event_name":"UserPromptSubmit","cwd":"C:\\\\work","prompt":"say \\"hi\\"","transcript_path":"/tmp/unfinis`;
    const read = parseHookEvent(cut);
    assert.ok(read !== undefined);
    assert.equal(read.name, "UserPromptSubmit");
    assert.equal(read.cwd, "C:\\work");
    assert.equal(read.prompt, 'say "hi"');
  });
});

describe("toolDetail", () => {
  it("a path that is the directory itself is '.', a file named ..env is in it", () => {
    assert.equal(
      toolDetail(event({ toolName: "LS", cwd: CWD, toolInput: { path: CWD } })),
      "LS: .",
    );
    assert.equal(
      toolDetail(event({ toolName: "Grep", cwd: CWD, toolInput: { path: CWD, pattern: "TODO" } })),
      "Grep: TODO",
      "what is searched for, rather than where",
    );
    assert.equal(
      toolDetail(event({ toolName: "Read", cwd: CWD, toolInput: { file_path: `${CWD}/..env` } })),
      "Read: ..env",
    );
    assert.equal(
      toolDetail(event({ toolName: "Read", cwd: CWD, toolInput: { file_path: "/home/dev/x" } })),
      "Read: /home/dev/x",
    );
  });

  it("a command that starts with blank lines is shown from its first words", () => {
    assert.equal(
      toolDetail(
        event({ toolName: "Bash", toolInput: { command: "\n\ncd app && make\nmake test" } }),
      ),
      "Bash: cd app && make",
    );
  });

  it("names a Bash call by its command", () => {
    assert.equal(
      toolDetail(
        event({ toolName: "Bash", toolInput: { command: "npm test", description: "Run" } }),
      ),
      "Bash: npm test",
    );
  });

  it("names a file inside the conversation's directory by its relative path", () => {
    const edit = event({
      toolName: "Edit",
      cwd: CWD,
      toolInput: { file_path: `${CWD}/src/app.ts`, old_string: "a", new_string: "b" },
    });
    assert.equal(toolDetail(edit), "Edit: src/app.ts");
    const notebook = event({
      toolName: "NotebookEdit",
      cwd: `${CWD}/`,
      toolInput: { notebook_path: `${CWD}/nb/a.ipynb`, new_source: "x" },
    });
    assert.equal(toolDetail(notebook), "NotebookEdit: nb/a.ipynb");
  });

  it("keeps a file outside the directory, or with no directory known, absolute", () => {
    assert.equal(
      toolDetail(event({ toolName: "Read", cwd: CWD, toolInput: { file_path: "/etc/hosts" } })),
      "Read: /etc/hosts",
    );
    assert.equal(
      toolDetail(
        event({ toolName: "Read", cwd: CWD, toolInput: { file_path: "/home/dev/shopping/a" } }),
      ),
      "Read: /home/dev/shopping/a",
    );
    assert.equal(
      toolDetail(event({ toolName: "Read", toolInput: { file_path: `${CWD}/src/app.ts` } })),
      `Read: ${CWD}/src/app.ts`,
    );
    assert.equal(
      toolDetail(event({ toolName: "Read", cwd: CWD, toolInput: { file_path: "src/app.ts" } })),
      "Read: src/app.ts",
    );
  });

  it("only makes path fields relative, not a command that holds a path", () => {
    assert.equal(
      toolDetail(event({ toolName: "Bash", cwd: CWD, toolInput: { command: `${CWD}/run.sh` } })),
      `Bash: ${CWD}/run.sh`,
    );
  });

  it("takes the most telling input: a command over a description, a URL, a query", () => {
    assert.equal(
      toolDetail(
        event({ toolName: "WebFetch", toolInput: { prompt: "summary", url: "https://x.dev" } }),
      ),
      "WebFetch: https://x.dev",
    );
    assert.equal(
      toolDetail(event({ toolName: "WebSearch", toolInput: { query: "node pty" } })),
      "WebSearch: node pty",
    );
    assert.equal(
      toolDetail(
        event({
          toolName: "Task",
          toolInput: { description: "Find the bug", prompt: "Look at x", subagent_type: "general" },
        }),
      ),
      "Task: Find the bug",
    );
    assert.equal(
      toolDetail(event({ toolName: "Glob", toolInput: { pattern: "**/*.ts" } })),
      "Glob: **/*.ts",
    );
  });

  it("skips inputs that are empty, blank or not text", () => {
    assert.equal(
      toolDetail(
        event({
          toolName: "Bash",
          toolInput: { command: "  ", file_path: 7, description: "Run it" },
        }),
      ),
      "Bash: Run it",
    );
  });

  it("is the tool's bare name when no input tells its subject, 'a tool' with no name", () => {
    assert.equal(
      toolDetail(event({ toolName: "TodoWrite", toolInput: { todos: [] } })),
      "TodoWrite",
    );
    assert.equal(toolDetail(event({})), "a tool");
    assert.equal(toolDetail(event({ toolInput: { command: "ls" } })), "a tool: ls");
  });

  it("shows a long or many-line command as its first line, cut to 80 characters", () => {
    assert.equal(
      toolDetail(event({ toolName: "Bash", toolInput: { command: "npm test\nnpm run lint" } })),
      "Bash: npm test",
    );
    const long = toolDetail(event({ toolName: "Bash", toolInput: { command: "e".repeat(200) } }));
    assert.equal(long, `Bash: ${"e".repeat(73)}…`);
    assert.equal(long.length, 80);
  });
});

describe("hookActivity", () => {
  it("a new conversation on startup, resume or /clear is idle: nothing asked yet", () => {
    for (const source of ["startup", "resume", "clear", ""]) {
      assert.deepEqual(
        hookActivity(parsed(payload("SessionStart", { source }))),
        { state: ActivityState.idle, detail: "" },
        source,
      );
    }
  });

  it("a compaction says nothing new: the turn it happens in goes on", () => {
    assert.equal(hookActivity(parsed(payload("SessionStart", { source: "compact" }))), undefined);
  });

  it("a prompt submitted is working, with the prompt's first line as its detail", () => {
    assert.deepEqual(
      hookActivity(parsed(payload("UserPromptSubmit", { prompt: "run the tests\nand fix them" }))),
      { state: ActivityState.working, detail: "prompt: run the tests" },
    );
    const long = hookActivity(parsed(payload("UserPromptSubmit", { prompt: "p".repeat(300) })));
    assert.deepEqual(long, {
      state: ActivityState.working,
      detail: `prompt: ${"p".repeat(71)}…`,
    });
  });

  it("a tool about to run is working on it: 'Bash: npm test', 'Edit: src/app.ts'", () => {
    assert.deepEqual(
      hookActivity(
        parsed(
          payload("PreToolUse", {
            tool_name: "Bash",
            tool_input: { command: "npm test", description: "Run the tests" },
          }),
        ),
      ),
      { state: ActivityState.working, detail: "Bash: npm test" },
    );
    assert.deepEqual(
      hookActivity(
        parsed(
          payload("PreToolUse", {
            tool_name: "Edit",
            tool_input: { file_path: `${CWD}/src/app.ts`, old_string: "a", new_string: "b" },
          }),
        ),
      ),
      { state: ActivityState.working, detail: "Edit: src/app.ts" },
    );
  });

  it("a tool or subagent that has finished leaves it working, thinking", () => {
    assert.deepEqual(
      hookActivity(
        parsed(
          payload("PostToolUse", {
            tool_name: "Bash",
            tool_input: { command: "npm test" },
            tool_response: { stdout: "ok" },
          }),
        ),
      ),
      { state: ActivityState.working, detail: "thinking" },
    );
    assert.deepEqual(hookActivity(parsed(payload("SubagentStop", { stop_hook_active: false }))), {
      state: ActivityState.working,
      detail: "thinking",
    });
  });

  it("a permission prompt is waiting for input, its message the detail", () => {
    assert.deepEqual(
      hookActivity(
        parsed(
          payload("Notification", {
            message: "Claude needs your permission to use Edit",
            notification_type: "permission_prompt",
          }),
        ),
      ),
      { state: ActivityState.waiting, detail: "Claude needs your permission to use Edit" },
    );
  });

  it("a notification with no message still waits, for your attention", () => {
    assert.deepEqual(
      hookActivity(parsed(payload("Notification", { notification_type: "permission_prompt" }))),
      { state: ActivityState.waiting, detail: "needs your attention" },
    );
    assert.deepEqual(hookActivity(parsed(payload("Notification", { message: "   " }))), {
      state: ActivityState.waiting,
      detail: "needs your attention",
    });
  });

  it("a notification of older Claude Code, with no kind, waits with its message", () => {
    assert.deepEqual(
      hookActivity(
        parsed(payload("Notification", { message: "Claude needs your permission to use Bash" })),
      ),
      { state: ActivityState.waiting, detail: "Claude needs your permission to use Bash" },
    );
  });

  it("an idle prompt ('waiting for your input') is idle: its turn is over and it asks nothing", () => {
    assert.deepEqual(
      hookActivity(
        parsed(
          payload("Notification", {
            message: "Claude is waiting for your input",
            notification_type: "idle_prompt",
          }),
        ),
      ),
      { state: ActivityState.idle, detail: "" },
    );
  });

  it("a Stop is idle", () => {
    assert.deepEqual(hookActivity(parsed(payload("Stop", { stop_hook_active: false }))), {
      state: ActivityState.idle,
      detail: "",
    });
  });

  it("a prompt that starts with blank lines is shown from its first words; an empty one is 'prompt'", () => {
    assert.deepEqual(
      hookActivity(parsed(payload("UserPromptSubmit", { prompt: "\n\nfix the bug" }))),
      {
        state: ActivityState.working,
        detail: "prompt: fix the bug",
      },
    );
    assert.deepEqual(hookActivity(parsed(payload("UserPromptSubmit", { prompt: "" }))), {
      state: ActivityState.working,
      detail: "prompt",
    });
  });

  it("a notification that asks nothing (signed in, a question answered) changes nothing; a question waits", () => {
    for (const kind of ["auth_success", "elicitation_complete", "elicitation_response"])
      assert.equal(
        hookActivity(parsed(payload("Notification", { message: "done", notification_type: kind }))),
        undefined,
        kind,
      );
    assert.deepEqual(
      hookActivity(
        parsed(
          payload("Notification", {
            message: "Claude Code needs your input",
            notification_type: "elicitation_dialog",
          }),
        ),
      ),
      { state: ActivityState.waiting, detail: "Claude Code needs your input" },
    );
  });

  it("a session ending, or an event it does not know, says nothing new", () => {
    assert.equal(hookActivity(parsed(payload("SessionEnd", { reason: "clear" }))), undefined);
    assert.equal(hookActivity(parsed(payload("PreCompact", { trigger: "auto" }))), undefined);
    assert.equal(hookActivity(event({ name: "stop" })), undefined);
  });
});

describe("parseClaudeStatus", () => {
  it("reads the status, what it waits for, the conversation and when it changed", () => {
    assert.deepEqual(
      parseClaudeStatus(
        JSON.stringify({
          pid: 4242,
          sessionId: CONVERSATION,
          cwd: CWD,
          status: "waiting",
          waitingFor: "permission: Bash",
          statusUpdatedAt: 1_767_000_000_123,
          updatedAt: 1_767_000_000_999,
        }),
      ),
      {
        status: "waiting",
        waitingFor: "permission: Bash",
        sessionId: CONVERSATION,
        at: 1_767_000_000_123,
      },
    );
  });

  it("takes updatedAt when the status has no time of its own, and 0 with neither", () => {
    assert.equal(parseClaudeStatus('{"status":"busy","updatedAt":1500}')?.at, 1500);
    assert.equal(
      parseClaudeStatus('{"status":"busy","statusUpdatedAt":"soon","updatedAt":1500}')?.at,
      1500,
    );
    assert.deepEqual(parseClaudeStatus('{"status":"idle"}'), {
      status: "idle",
      waitingFor: "",
      sessionId: "",
      at: 0,
    });
    assert.equal(parseClaudeStatus('{"status":"idle","updatedAt":"yesterday"}')?.at, 0);
  });

  it("leaves out fields of the wrong type", () => {
    assert.deepEqual(parseClaudeStatus('{"status":"waiting","waitingFor":3,"sessionId":{}}'), {
      status: "waiting",
      waitingFor: "",
      sessionId: "",
      at: 0,
    });
  });

  it("says nothing of a file half-written, not an object, or with no status", () => {
    assert.equal(parseClaudeStatus(""), undefined);
    assert.equal(parseClaudeStatus('{"status":"bu'), undefined);
    assert.equal(parseClaudeStatus("null"), undefined);
    assert.equal(parseClaudeStatus('"busy"'), undefined);
    assert.equal(parseClaudeStatus('["busy"]'), undefined);
    assert.equal(parseClaudeStatus('{"sessionId":"abc"}'), undefined);
    assert.equal(parseClaudeStatus('{"status":1}'), undefined);
  });
});

describe("statusActivity", () => {
  it("busy is working, idle is idle", () => {
    assert.deepEqual(statusActivity(status({ status: "busy" })), {
      state: ActivityState.working,
      detail: "",
    });
    assert.deepEqual(statusActivity(status({ status: "idle" })), {
      state: ActivityState.idle,
      detail: "",
    });
  });

  it("shell is idle, with a background shell running", () => {
    assert.deepEqual(statusActivity(status({ status: "shell" })), {
      state: ActivityState.idle,
      detail: "a background shell runs",
    });
  });

  it("waiting is waiting for input, with what it waits for, cut to a line", () => {
    assert.deepEqual(
      statusActivity(status({ status: "waiting", waitingFor: "permission: Bash" })),
      {
        state: ActivityState.waiting,
        detail: "permission: Bash",
      },
    );
    assert.deepEqual(statusActivity(status({ status: "waiting", waitingFor: "a\nb" })), {
      state: ActivityState.waiting,
      detail: "a",
    });
    assert.deepEqual(statusActivity(status({ status: "waiting" })), {
      state: ActivityState.waiting,
      detail: "input needed",
    });
  });

  it("a status it does not know says nothing", () => {
    assert.equal(statusActivity(status({ status: "sleeping" })), undefined);
    assert.equal(statusActivity(status({ status: "" })), undefined);
    assert.equal(statusActivity(status({ status: "Busy" })), undefined);
  });
});

describe("claudeActivity: hooks and the status file", () => {
  it("knows nothing with neither", () => {
    assert.equal(claudeActivity(undefined, undefined), undefined);
  });

  it("takes the one that has spoken", () => {
    assert.deepEqual(claudeActivity(working("Bash: npm test", 10), undefined), {
      fact: working("Bash: npm test", 10),
      from: "hook",
    });
    assert.deepEqual(claudeActivity(undefined, idle("", 10)), {
      fact: idle("", 10),
      from: "status",
    });
  });

  it("a newer hook wins over an older status", () => {
    assert.deepEqual(claudeActivity(idle("", 20), working("", 10)), {
      fact: idle("", 20),
      from: "hook",
    });
  });

  it("a hook at the same moment as the status wins", () => {
    assert.deepEqual(claudeActivity(waiting("permission: Edit", 10), working("", 10)), {
      fact: waiting("permission: Edit", 10),
      from: "hook",
    });
  });

  it("a newer status that disagrees wins: a turn that failed before its Stop hook is idle", () => {
    assert.deepEqual(claudeActivity(working("Bash: npm test", 10), idle("", 20)), {
      fact: idle("", 20),
      from: "status",
    });
    assert.deepEqual(claudeActivity(working("thinking", 10), waiting("input needed", 20)), {
      fact: waiting("input needed", 20),
      from: "status",
    });
  });

  it("a newer status that agrees keeps the hook's fuller detail, at the status's time", () => {
    assert.deepEqual(claudeActivity(working("Bash: npm test", 10), working("", 20)), {
      fact: working("Bash: npm test", 20),
      from: "status",
    });
    assert.deepEqual(
      claudeActivity(
        waiting("Claude needs your permission to use Bash", 10),
        waiting("permission: Bash", 20),
      ),
      { fact: waiting("Claude needs your permission to use Bash", 20), from: "status" },
    );
  });

  it("a newer status that agrees keeps its own detail when the hook has none", () => {
    assert.deepEqual(claudeActivity(idle("", 10), idle("a background shell runs", 20)), {
      fact: idle("a background shell runs", 20),
      from: "status",
    });
  });
});

describe("terminalActivity: any program", () => {
  const NOW = 1_000_000;

  it("is working, named by its command line, while a command runs in the foreground", () => {
    assert.deepEqual(
      terminalActivity(
        { foregroundIsProgram: false, foregroundCommandLine: "npm test --watch", lastFlowAt: 0 },
        NOW,
      ),
      { state: ActivityState.working, detail: "npm test --watch" },
    );
  });

  it("a foreground command is working even when its output has long stopped", () => {
    assert.deepEqual(
      terminalActivity(
        {
          foregroundIsProgram: false,
          foregroundCommandLine: "sleep 600",
          lastFlowAt: NOW - 60_000,
        },
        NOW,
      ),
      { state: ActivityState.working, detail: "sleep 600" },
    );
  });

  it("cuts a foreground command line to 80 characters", () => {
    const line = `node ${"a".repeat(200)}`;
    assert.deepEqual(
      terminalActivity(
        { foregroundIsProgram: false, foregroundCommandLine: line, lastFlowAt: 0 },
        NOW,
      ),
      { state: ActivityState.working, detail: `node ${"a".repeat(74)}…` },
    );
  });

  it("is idle with the program itself in the foreground and no output since", () => {
    assert.deepEqual(
      terminalActivity(
        { foregroundIsProgram: true, foregroundCommandLine: "bash", lastFlowAt: 0 },
        NOW,
      ),
      { state: ActivityState.idle, detail: "" },
    );
  });

  it("is working while the program's output flows, until a second after it stops", () => {
    const at = (lastFlowAt: number) =>
      terminalActivity(
        { foregroundIsProgram: true, foregroundCommandLine: "bash", lastFlowAt },
        NOW,
      );
    assert.deepEqual(at(NOW), { state: ActivityState.working, detail: "" });
    assert.deepEqual(at(NOW - 999), { state: ActivityState.working, detail: "" });
    assert.deepEqual(at(NOW - 1000), { state: ActivityState.idle, detail: "" });
    assert.deepEqual(at(NOW - 5000), { state: ActivityState.idle, detail: "" });
  });
});

describe("isFlow: which output is the program at work", () => {
  const NOW = 1_000_000;

  it("is not the echo of input written just before", () => {
    assert.equal(isFlow(NOW, NOW - ECHO_MS + 1, 0), false);
    assert.equal(isFlow(NOW, NOW - ECHO_MS, 0), true);
  });

  it("is not the prompt a shell prints when a command gives the terminal back", () => {
    assert.equal(isFlow(NOW, 0, NOW - 10), false);
    assert.equal(isFlow(NOW, 0, NOW - SETTLE_MS + 1), false);
    assert.equal(isFlow(NOW, 0, NOW - SETTLE_MS), true);
  });

  it("is work when neither input nor a change of foreground came just before", () => {
    assert.equal(isFlow(NOW, 0, 0), true);
    assert.equal(isFlow(NOW, NOW - 60_000, NOW - 60_000), true);
  });
});

describe("commName: a program's name before it has exec'd, as the kernel will give it", () => {
  it("is the file's basename, cut to 15 bytes", () => {
    assert.equal(commName("sleep"), "sleep");
    assert.equal(commName("/usr/bin/python3"), "python3");
    assert.equal(commName("/opt/tools/a-very-long-program-name"), "a-very-long-pro");
  });

  it("cuts a name only between whole characters", () => {
    // 14 ASCII bytes, then a 2-byte character that would end past byte 15.
    assert.equal(commName("abcdefghijklmné"), "abcdefghijklmn");
    assert.equal(commName("/bin/café"), "café");
  });
});
