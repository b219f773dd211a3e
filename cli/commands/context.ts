import { Command, Option } from "clipanion";
import { resolveHome } from "../../daemon/common/paths.js";
import { BaseCommand } from "../base-command.js";
import { ClientError } from "../client-error.js";
import { jsonText, printable } from "../output.js";
import {
  addContext,
  checkContextName,
  DEFAULT_CONTEXT,
  findContext,
  readContexts,
  writeContexts,
} from "../remote/contexts.js";
import { Status } from "../rpc/call-error.js";

/** What every `context` command shares: it edits this machine's contexts, and no daemon. */
abstract class ContextCommand extends BaseCommand {
  static override localOnly = true;
  protected override readonly daemonNeed = "none";
}

/** The context in use here: `CLAUDE_SESSIONS_CONTEXT`, else the one `context use` chose. */
function currentContext(home: string): string {
  const fromEnv = process.env.CLAUDE_SESSIONS_CONTEXT;
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  return readContexts(home).current ?? DEFAULT_CONTEXT;
}

export class ContextAddCommand extends ContextCommand {
  static override paths = [["context", "add"]];
  static override usage = Command.Usage({
    description: "Name a daemon on another machine",
    details: `
      Saves \`ssh://[user@]host[:port]\` under NAME, so \`--context NAME\` (or \`context use NAME\`) reaches that machine's daemon through ssh. \`--program\` is the command that runs claude-sessions there, for a machine where it is not on the PATH that ssh commands get (such as an npm prefix set up in an interactive shell's profile). Contexts live in the home's contexts.json (0600).
    `,
    examples: [
      ["A build box", "$0 context add build ssh://ann@build.example.com"],
      [
        "Where claude-sessions is not on the PATH",
        "$0 context add vm ssh://vm:2222 --program ~/.npm-global/bin/claude-sessions",
      ],
    ],
  });

  name = Option.String({ name: "name" });
  url = Option.String({ name: "ssh://[user@]host[:port]" });
  program = Option.String("--program", {
    description: "The command that runs claude-sessions on that machine (default: claude-sessions)",
  });
  description = Option.String("--description", { description: "What the machine is, for ls" });
  force = Option.Boolean("-f,--force", false, { description: "Replace a context of that name" });

  async run(): Promise<number> {
    addContext(
      resolveHome(),
      this.name,
      { host: this.url, program: this.program, description: this.description },
      this.force,
    );
    this.context.stdout.write(
      `✅ Context ${printable(this.name)} added; use it with: claude-sessions context use ${printable(this.name)} (or --context ${printable(this.name)})\n`,
    );
    return 0;
  }
}

export class ContextListCommand extends ContextCommand {
  static override paths = [
    ["context", "ls"],
    ["context", "list"],
  ];
  static override usage = Command.Usage({
    description: "List the contexts",
    details: `
      Lists \`default\` (this machine's daemon) and every context added, the one in use marked with \`*\`: its name, its host, and its description. \`--json\` prints them as a JSON array.
    `,
    examples: [["The contexts", "$0 context ls"]],
  });

  json = Option.Boolean("--json", false, { description: "Print JSON" });

  async run(): Promise<number> {
    const home = resolveHome();
    const store = readContexts(home);
    const current = currentContext(home);
    const rows = [
      { name: DEFAULT_CONTEXT, host: "this machine", program: "", description: "" },
      ...Object.keys(store.contexts)
        .sort()
        .map((name) => {
          const context = store.contexts[name];
          return {
            name,
            host: context?.host ?? "",
            program: context?.program ?? "",
            description: context?.description ?? "",
          };
        }),
    ];
    if (this.json) {
      this.context.stdout.write(
        `${jsonText(
          rows.map((row) => ({
            name: row.name,
            current: row.name === current,
            host: row.name === DEFAULT_CONTEXT ? null : row.host,
            program: row.program || null,
            description: row.description || null,
          })),
          2,
        )}\n`,
      );
      return 0;
    }
    const nameWidth = Math.max(4, ...rows.map((row) => row.name.length + 2));
    const hostWidth = Math.max(4, ...rows.map((row) => row.host.length));
    const lines = [
      `${"NAME".padEnd(nameWidth)}  ${"HOST".padEnd(hostWidth)}  DESCRIPTION`,
      ...rows.map((row) =>
        `${`${row.name}${row.name === current ? " *" : ""}`.padEnd(nameWidth)}  ${row.host.padEnd(hostWidth)}  ${row.description}`.trimEnd(),
      ),
    ];
    this.context.stdout.write(`${lines.map(printable).join("\n")}\n`);
    return 0;
  }
}

export class ContextUseCommand extends ContextCommand {
  static override paths = [["context", "use"]];
  static override usage = Command.Usage({
    description: "Choose the context commands use",
    details: `
      Commands given neither \`--host\` nor \`--context\` (and no CLAUDE_SESSIONS_HOST or CLAUDE_SESSIONS_CONTEXT) reach NAME's daemon from now on. \`context use default\` goes back to this machine's.
    `,
    examples: [
      ["Work on the build box", "$0 context use build"],
      ["Back to this machine", "$0 context use default"],
    ],
  });

  name = Option.String({ name: "name" });

  async run(): Promise<number> {
    const home = resolveHome();
    const store = readContexts(home);
    if (this.name !== DEFAULT_CONTEXT) findContext(store, this.name);
    store.current = this.name === DEFAULT_CONTEXT ? undefined : this.name;
    writeContexts(home, store);
    this.context.stdout.write(`✅ Using context ${printable(this.name)}\n`);
    return 0;
  }
}

export class ContextRemoveCommand extends ContextCommand {
  static override paths = [
    ["context", "rm"],
    ["context", "remove"],
  ];
  static override usage = Command.Usage({
    description: "Forget a context",
    details: `
      Removes NAME from the contexts; its machine and its sessions are not touched. The context in use cannot be removed without \`--force\`, which goes back to \`default\`.
    `,
    examples: [["Forget the build box", "$0 context rm build"]],
  });

  name = Option.String({ name: "name" });
  force = Option.Boolean("-f,--force", false, {
    description: "Remove it even if it is in use (commands go back to default)",
  });

  async run(): Promise<number> {
    checkContextName(this.name);
    if (this.name === DEFAULT_CONTEXT) {
      throw new ClientError(
        "the default context is this machine's own daemon; it cannot be removed",
        Status.INVALID_ARGUMENT,
      );
    }
    const home = resolveHome();
    const store = readContexts(home);
    findContext(store, this.name);
    if (store.current === this.name) {
      if (!this.force) {
        throw new ClientError(
          `context '${this.name}' is in use; switch first (claude-sessions context use default), or remove it with --force`,
          Status.FAILED_PRECONDITION,
        );
      }
      store.current = undefined;
    }
    delete store.contexts[this.name];
    writeContexts(home, store);
    this.context.stdout.write(`✅ Context ${printable(this.name)} removed\n`);
    return 0;
  }
}

export class ContextShowCommand extends ContextCommand {
  static override paths = [["context", "show"]];
  static override usage = Command.Usage({
    description: "Print the context in use",
    details: "Prints the name of the context commands use (`default`: this machine's daemon).",
    examples: [["Which context", "$0 context show"]],
  });

  async run(): Promise<number> {
    this.context.stdout.write(`${printable(currentContext(resolveHome()))}\n`);
    return 0;
  }
}
