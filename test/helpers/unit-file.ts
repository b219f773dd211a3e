/** The text `service install` writes, spelled out for the tests that check it to the letter. */

/** A unit file: the comment naming who wrote it, `lines`, then what every unit has. */
export function unitFile(lines: readonly string[]): string {
  return [
    "# Written by `claude-sessions service install`; `claude-sessions service uninstall` removes it.",
    ...lines,
    "# Stopping the unit ends the daemon alone: the session hosts it started are in the unit's",
    "# cgroup, and any other KillMode would end every session with it.",
    "KillMode=process",
    "Restart=on-failure",
    "",
    "[Install]",
    "WantedBy=default.target",
    "",
  ].join("\n");
}
