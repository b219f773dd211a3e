/** Session records as the daemon saves them in state.json, for tests that write their own. */

/** The record of a session that ran `true` in `workingDir` and exited 0; `fields` replace its own. */
export function savedRecord(
  id: string,
  workingDir: string,
  fields: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    id,
    name: "",
    workingDir,
    command: ["true"],
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    state: "exited",
    pid: 0,
    exitCode: 0,
    createdAt: "2026-01-01T00:00:00.000Z",
    startedAt: "2026-01-01T00:00:00.000Z",
    endedAt: "2026-01-01T00:00:01.000Z",
    cols: 80,
    rows: 24,
    claudeCode: false,
    ...fields,
  };
}
