/**
 * The Node versions a start-up figure is measured on: the one running the benchmarks, and
 * others named in `BENCH_NODES` (paths of node binaries, separated by ":"). Unless that says
 * otherwise, a Node 24 is installed from the npm registry into `.bench-results/node-24` on
 * first use (scripts/install-node.sh), since users run 22 and 24 while the project builds on 20.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../../test/helpers/paths.js";

export interface NodeBinary {
  path: string;
  /** "v24.21.0" */
  version: string;
  major: number;
}

function describe(path: string): NodeBinary {
  const version = execFileSync(path, ["--version"], { encoding: "utf8" }).trim();
  return { path, version, major: Number(/^v(\d+)/.exec(version)?.[1]) };
}

/** This Node first, then the others, each once. */
export function benchNodes(log: (line: string) => void): NodeBinary[] {
  const paths = [process.execPath];
  const named = process.env.BENCH_NODES;
  if (named !== undefined) {
    paths.push(...named.split(":").filter((path) => path !== ""));
  } else {
    const prefix = join(repoRoot, ".bench-results", "node-24");
    const script = join(repoRoot, "scripts", "install-node.sh");
    try {
      if (!existsSync(join(prefix, "node_modules", "node", "bin", "node"))) {
        log(`installing Node 24 into ${prefix} (BENCH_NODES= to skip)`);
      }
      const bin = execFileSync("bash", [script, "24", prefix], { encoding: "utf8" }).trim();
      paths.push(join(bin, "node"));
    } catch (error) {
      log(`no Node 24 to compare with: ${error instanceof Error ? error.message : error}`);
    }
  }
  const binaries = paths.map(describe);
  return binaries.filter(
    (binary, index) => binaries.findIndex((other) => other.version === binary.version) === index,
  );
}
