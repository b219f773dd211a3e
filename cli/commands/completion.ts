import { Command, Option, UsageError } from "clipanion";
import { BaseCommand } from "../base-command.js";
import { completionScripts } from "../completion-scripts.js";

export class CompletionCommand extends BaseCommand {
  static override paths = [["completion"]];
  static override localOnly = true;
  static override usage = Command.Usage({
    description: "Print a shell completion script",
    details: `
      Prints the script that completes commands, options, states and session names and ids for \`bash\`, \`zsh\` or \`fish\`. Session names come from the running daemon; with none running, none are offered (completion never starts one).

      Install it where the shell looks for completions (the first lines of each script say where), or load it from the shell's startup file.
    `,
    examples: [
      ["bash", "$0 completion bash > ~/.local/share/bash-completion/completions/claude-sessions"],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: zsh's own ${fpath[1]}, shown as typed
      ["zsh (a directory of $fpath)", '$0 completion zsh > "${fpath[1]}/_claude-sessions"'],
      ["fish", "$0 completion fish > ~/.config/fish/completions/claude-sessions.fish"],
    ],
  });

  protected override readonly daemonNeed = "none";

  shell = Option.String({ name: "shell" });

  async run(): Promise<number> {
    if (!Object.hasOwn(completionScripts, this.shell)) {
      throw new UsageError(
        `no completion for '${this.shell}'; choose one of: ${Object.keys(completionScripts).join(", ")}`,
      );
    }
    this.context.stdout.write(completionScripts[this.shell] as string);
    return 0;
  }
}
