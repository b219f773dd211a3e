/**
 * The rules of the source tree that ARCHITECTURE.md states: which part may import which. Read
 * from the sources, so a change that breaks one fails here, naming the file and the import.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { describe, it } from "node:test";
import { repoRoot } from "../helpers/paths.js";

/** Every TypeScript source under `dir` (relative to the repository), with what it imports. */
function sources(dir: string): Array<{ file: string; imports: string[] }> {
  const found: Array<{ file: string; imports: string[] }> = [];
  const walk = (path: string) => {
    for (const name of readdirSync(join(repoRoot, path))) {
      const child = join(path, name);
      if (statSync(join(repoRoot, child)).isDirectory()) walk(child);
      else if (name.endsWith(".ts")) found.push({ file: child, imports: importsOf(child) });
    }
  };
  walk(dir);
  return found;
}

/** What a file imports, relative specifiers resolved against the repository's root. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(repoRoot, file), "utf8");
  const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*"([^"]+)"/g)].map(
    (match) => match[1] as string,
  );
  return specifiers.map((specifier) =>
    specifier.startsWith(".") ? relative(".", join(dirname(file), specifier)) : specifier,
  );
}

function violations(dir: string, broken: (file: string, imported: string) => boolean): string[] {
  return sources(dir).flatMap(({ file, imports }) =>
    imports
      .filter((imported) => broken(file, imported))
      .map((imported) => `${file} -> ${imported}`),
  );
}

describe("the source tree's rules", () => {
  it("only daemon/rpc/ imports grpc-js in the daemon", () => {
    assert.deepEqual(
      violations(
        "daemon",
        (file, imported) => imported.startsWith("@grpc/") && !file.startsWith("daemon/rpc/"),
      ),
      [],
    );
  });

  it("the daemon never imports the CLI", () => {
    assert.deepEqual(
      violations("daemon", (_, imported) => imported.startsWith("cli/")),
      [],
    );
  });

  it("daemon/common/ needs nothing but Node and itself, so that every client may load it", () => {
    assert.deepEqual(
      violations(
        "daemon/common",
        (_, imported) => !imported.startsWith("node:") && !imported.startsWith("daemon/common/"),
      ),
      [],
    );
  });

  it("daemon/host/ needs only common, log, terminal and Node, and never the protobuf runtime", () => {
    const allowed = ["node:", "node-pty", "daemon/common/", "daemon/log/", "daemon/terminal/"];
    assert.deepEqual(
      violations(
        "daemon/host",
        (_, imported) =>
          !imported.startsWith("daemon/host/") &&
          !allowed.some((prefix) => imported.startsWith(prefix)),
      ),
      [],
    );
  });

  it("the session host's bundle holds nothing from node_modules (a host stays small)", () => {
    const meta = JSON.parse(
      readFileSync(join(repoRoot, "dist/session-host.meta.json"), "utf8"),
    ) as { inputs: Record<string, unknown> };
    const inputs = Object.keys(meta.inputs);
    assert.ok(inputs.includes("daemon/host/host-main.ts"), inputs.join(", "));
    assert.deepEqual(
      inputs.filter((input) => input.includes("node_modules")),
      [],
    );
  });

  it("tests never import the benchmarks (both share test/helpers/)", () => {
    assert.deepEqual(
      violations("test", (_, imported) => imported.startsWith("bench/")),
      [],
    );
  });

  it("the web page imports only the generated API, cli/output.ts, cli/shell-quote.ts, itself and browser packages", () => {
    const browserPackages =
      /^@(connectrpc\/connect(-web)?|xterm\/(xterm|addon-fit)|bufbuild\/protobuf)(\/|$)/;
    assert.deepEqual(
      violations(
        "cli/web/page",
        (_, imported) =>
          !(
            imported.startsWith("gen/") ||
            imported === "cli/output.js" ||
            imported === "cli/shell-quote.js" ||
            imported.startsWith("cli/web/page/") ||
            browserPackages.test(imported)
          ),
      ),
      [],
    );
  });
});
