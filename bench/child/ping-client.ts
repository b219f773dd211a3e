/**
 * Ping round trips from a process of its own, against two servers in turn: blocks of calls
 * alternate between them so that both see the same machine load. Usage:
 * `ping-client <socket A> <socket B> <calls> <warm-up calls> <block>`; prints
 * `{"a": [µs...], "b": [µs...]}`.
 */
import { DaemonClient } from "../../cli/client.js";

const [socketA, socketB, callsText, warmText, blockText] = process.argv.slice(2);
if (socketA === undefined || socketB === undefined) {
  process.stderr.write("usage: ping-client <socket A> <socket B> <calls> <warm-up> <block>\n");
  process.exit(2);
}
const calls = Number(callsText ?? 5000);
const warm = Number(warmText ?? 500);
const block = Number(blockText ?? 100);
const clients = [new DaemonClient(socketA), new DaemonClient(socketB)] as const;
const samples: [number[], number[]] = [[], []];

async function ping(which: 0 | 1, count: number, keep: boolean): Promise<void> {
  const client = clients[which];
  for (let i = 0; i < count; i++) {
    const start = process.hrtime.bigint();
    await client.daemon.ping({});
    const micros = Number(process.hrtime.bigint() - start) / 1000;
    if (keep) samples[which].push(micros);
  }
}

for (let done = 0; done < warm; done += block) {
  await ping(0, block, false);
  await ping(1, block, false);
}
for (let round = 0; samples[0].length < calls; round++) {
  // Alternate which goes first, so neither always follows the other.
  const first = (round % 2) as 0 | 1;
  const count = Math.min(block, calls - samples[0].length);
  await ping(first, count, true);
  await ping((1 - first) as 0 | 1, count, true);
}
for (const client of clients) client.close();
process.stdout.write(JSON.stringify({ a: samples[0], b: samples[1] }));
