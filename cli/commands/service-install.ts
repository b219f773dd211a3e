import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { Command, Option, UsageError } from "clipanion";
import { BaseCommand } from "../base-command.js";
import { printable } from "../output.js";

export class ServiceInstallCommand extends BaseCommand {
  static override paths = [["service", "install"]];
  static override localOnly = true;
  static override usage = Command.Usage({
    description: "Run the daemon at login, from a systemd user unit",
    details: `
      Writes a systemd user unit that runs \`claude-sessions daemon --foreground --resume\` for the state home ($CLAUDE_SESSIONS_HOME, default ~/.claude-sessions), with this Node and this claude-sessions, to $XDG_CONFIG_HOME/systemd/user (default ~/.config/systemd/user). The default home's unit is \`claude-sessions.service\`; another home's is \`claude-sessions-<hash>.service\` and sets CLAUDE_SESSIONS_HOME, so each home can have its own.

      The unit has \`KillMode=process\`: stopping it (\`systemctl --user stop\`) stops the daemon and never the sessions, which keep running in their session hosts. \`Restart=on-failure\` brings back a daemon that crashed.

      Then, if \`systemctl --user\` reaches your service manager, it runs \`systemctl --user daemon-reload\` and \`systemctl --user enable <unit>\` (\`enable --now\` with \`--now\`, which also starts it); if not (no systemd, no user bus, as under \`su\`), it prints those commands for you to run where it does. An enabled unit starts at login; \`loginctl enable-linger\` starts it at boot and keeps it running after you log out. Run it again after moving Node or claude-sessions. Never starts a daemon itself.
    `,
    examples: [
      ["Install and enable the unit", "$0 service install"],
      ["Install, enable and start it now", "$0 service install --now"],
      ["Show the unit without writing it", "$0 service install --print"],
    ],
  });

  protected override readonly daemonNeed = "none";

  now = Option.Boolean("--now", false, { description: "Also start the unit now" });
  print = Option.Boolean("--print", false, {
    description: "Print the unit to stdout; write and enable nothing",
  });

  async run(): Promise<number> {
    if (this.socket !== undefined) {
      throw new UsageError(
        "the unit runs the daemon of a home: set CLAUDE_SESSIONS_HOME, not --socket",
      );
    }
    if (this.print && this.now)
      throw new UsageError("--print writes nothing to start: not with --now");
    const { thisProgram, unitLocation, unitText } = await import("../systemd-unit.js");
    const unit = unitLocation();
    const text = unitText(unit, thisProgram());
    if (this.print) {
      this.context.stdout.write(text);
      return 0;
    }
    const { writeFileAtomically } = await import("../atomic-write.js");
    const { manualSteps, systemctl, userManagerProblem } = await import("../systemctl.js");
    mkdirSync(dirname(unit.path), { recursive: true });
    // Readable by the service manager; it holds no secret.
    writeFileAtomically(unit.path, text, 0o644);
    this.context.stdout.write(
      `✅ Wrote ${printable(unit.path)} (the daemon of ${printable(unit.home)})\n`,
    );

    // A daemon that runs for the home outside the unit holds it: the unit's could not start.
    const { pingDaemon } = await import("../daemon-shutdown.js");
    const { serviceUnitOf } = await import("../service-daemon.js");
    const ping = this.now ? await pingDaemon(this.client()) : undefined;
    const holder =
      ping !== undefined && serviceUnitOf(ping.pid) !== unit.name ? ping.pid : undefined;
    const enable = ["enable", ...(this.now && holder === undefined ? ["--now"] : []), unit.name];
    const steps = [["daemon-reload"], enable];

    const problem = userManagerProblem();
    if (problem !== undefined) {
      this.context.stdout.write(
        `Not enabled: no user service manager answers here (${printable(problem)}). Where one does, run:\n${manualSteps(steps)}`,
      );
    } else {
      for (const args of steps) {
        const result = systemctl(args);
        if (!result.ok) throw new Error(result.problem);
      }
      const started = enable.includes("--now");
      this.context.stdout.write(
        `✅ ${started ? "Enabled and started" : "Enabled"} ${unit.name}: the daemon starts at login (systemctl --user status ${unit.name})\n`,
      );
    }
    if (holder !== undefined) {
      this.context.stdout.write(
        `Not started now: a daemon already runs for ${printable(unit.home)} (pid ${holder}). To hand it to systemd: claude-sessions stop-daemon && systemctl --user start ${unit.name}\n`,
      );
    }
    return 0;
  }
}
