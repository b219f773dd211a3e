import { constants } from "node:os";

const signalNames = new Map<number, string>(
  Object.entries(constants.signals).map(([name, number]) => [number, name]),
);

/** The name of a signal number ("SIGTERM"), or "SIG<n>" for one Node does not know. */
export function signalName(signal: number): string {
  return signalNames.get(signal) ?? `SIG${signal}`;
}
