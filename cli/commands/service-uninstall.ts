import { lstatSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { Command, UsageError } from "clipanion";
import { BaseCommand } from "../base-command.js";
import { printable } from "../output.js";

export class ServiceUninstallCommand extends BaseCommand {
  static override paths = [["service", "uninstall"]];
  static override localOnly = true;
  static override usage = Command.Usage({
    description: "Remove the systemd user unit of `service install`",
    details: `
      Undoes \`service install\` for the state home ($CLAUDE_SESSIONS_HOME, default ~/.claude-sessions): if \`systemctl --user\` reaches your service manager, runs \`systemctl --user disable --now <unit>\`, which stops the unit's daemon (its sessions keep running in their session hosts: the unit has \`KillMode=process\`; the next daemon reconnects to them); then removes the unit file and runs \`systemctl --user daemon-reload\`. Without a service manager here it removes the file and its enablement link, and prints what to run where one is.

      With no unit installed it says so and exits 0. Never starts a daemon.
    `,
    examples: [["Remove the unit", "$0 service uninstall"]],
  });

  protected override readonly daemonNeed = "none";

  async run(): Promise<number> {
    if (this.socket !== undefined) {
      throw new UsageError(
        "the unit runs the daemon of a home: set CLAUDE_SESSIONS_HOME, not --socket",
      );
    }
    const { unitLocation } = await import("../systemd-unit.js");
    const { manualSteps, systemctl, userManagerProblem } = await import("../systemctl.js");
    const unit = unitLocation();
    if (!exists(unit.path)) {
      this.context.stdout.write(`Not installed: there is no ${printable(unit.path)}\n`);
      return 0;
    }
    const problem = userManagerProblem();
    let stopped = false;
    if (problem === undefined) {
      const disabled = systemctl(["disable", "--now", unit.name]);
      if (disabled.ok) stopped = true;
      else this.context.stderr.write(`warning: ${printable(disabled.problem)}\n`);
    }
    rmSync(unit.path, { force: true });
    // What `systemctl disable` removes; left by hand when it could not run.
    const wanted = join(dirname(unit.path), "default.target.wants", unit.name);
    if (exists(wanted) && lstatSync(wanted).isSymbolicLink()) rmSync(wanted);
    if (problem === undefined) {
      const reloaded = systemctl(["daemon-reload"]);
      if (!reloaded.ok) this.context.stderr.write(`warning: ${printable(reloaded.problem)}\n`);
    }
    this.context.stdout.write(`✅ Removed ${printable(unit.path)}\n`);
    if (stopped) {
      this.context.stdout.write(
        `✅ Disabled and stopped ${unit.name}; its sessions keep running, for the next daemon\n`,
      );
    }
    if (problem !== undefined) {
      const steps = [["stop", unit.name], ["daemon-reload"]];
      this.context.stdout.write(
        `No user service manager answers here (${printable(problem)}). Where one runs the unit, run:\n${manualSteps(steps)}`,
      );
    }
    return 0;
  }
}

/** Whether anything is at `path`, a dangling link included. */
function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
