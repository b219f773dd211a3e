/**
 * Whether a daemon is the one a claude-sessions systemd unit runs (`service install`): such a
 * daemon is restarted with systemctl, or systemd would see its unit end and the new daemon would
 * run outside it.
 */
import { readFileSync } from "node:fs";

/** The names `service install` gives its units. */
const UNIT_NAME = /^claude-sessions(?:-[0-9a-f]+)?\.service$/;

/** The claude-sessions unit whose main process `pid` is, or undefined if it is none's. */
export function serviceUnitOf(pid: number): string | undefined {
  let unit: string | undefined;
  try {
    unit = unitOfCgroup(readFileSync(`/proc/${pid}/cgroup`, "utf8"));
  } catch {
    return undefined;
  }
  if (unit === undefined) return undefined;
  try {
    return isMainProcess(readFileSync(`/proc/${pid}/environ`, "utf8"), pid) ? unit : undefined;
  } catch {
    return unit;
  }
}

/**
 * The claude-sessions unit a process's cgroup (`/proc/<pid>/cgroup`) is that of: the last part
 * of its systemd cgroup's path (`0::/user.slice/.../app.slice/claude-sessions.service`).
 */
export function unitOfCgroup(cgroup: string): string | undefined {
  const paths = new Map<string, string>();
  for (const line of cgroup.split("\n")) {
    const match = /^\d+:([^:]*):(.*)$/.exec(line);
    if (match) paths.set(match[1] as string, match[2] as string);
  }
  // cgroup v2 (one hierarchy, no controllers named), or v1's hierarchy of systemd's own.
  const path = paths.get("") ?? paths.get("name=systemd") ?? "";
  const last = path.split("/").at(-1) ?? "";
  return UNIT_NAME.test(last) ? last : undefined;
}

/**
 * Whether a process in a unit's cgroup is the unit's main process rather than one started from
 * it (a daemon started by hand in a session the unit's daemon runs): systemd tells the process
 * it starts its own pid in `SYSTEMD_EXEC_PID` (since systemd 248; before, any is taken as it).
 */
export function isMainProcess(environ: string, pid: number): boolean {
  const entry = environ.split("\0").find((each) => each.startsWith("SYSTEMD_EXEC_PID="));
  return entry === undefined || entry === `SYSTEMD_EXEC_PID=${pid}`;
}
