// Fails if gen/ is not exactly what `buf generate` makes from proto/ (a hand edit, or a
// proto change without regenerating).
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

const scratch = mkdtempSync(join(tmpdir(), "claude-sessions-gen-"));
try {
  cpSync("proto", join(scratch, "proto"), { recursive: true });
  cpSync("buf.yaml", join(scratch, "buf.yaml"));
  const config = readFileSync("buf.gen.yaml", "utf8").replace(
    "local: node_modules/.bin/protoc-gen-es",
    `local: ${join(process.cwd(), "node_modules/.bin/protoc-gen-es")}`,
  );
  const buf = join(process.cwd(), "node_modules/.bin/buf");
  const run = (args) =>
    execFileSync(buf, args, { cwd: scratch, stdio: ["ignore", "inherit", "inherit"] });
  run(["generate", "--template", config]);
  // The documented descriptors that reflection serves (see package.json's generate script).
  run([
    "build",
    "--as-file-descriptor-set",
    "--exclude-imports",
    "--path",
    "proto/claude_sessions/v1",
    "-o",
    "gen/claude_sessions/v1/descriptor_set.binpb",
  ]);
  const fresh = join(scratch, "gen");
  const committed = new Set(files("gen").map((path) => relative("gen", path)));
  const generated = new Set(files(fresh).map((path) => relative(fresh, path)));
  const problems = [];
  for (const path of generated) {
    if (!committed.has(path)) problems.push(`missing: gen/${path}`);
    else if (!readFileSync(join("gen", path)).equals(readFileSync(join(fresh, path)))) {
      problems.push(`differs: gen/${path}`);
    }
  }
  for (const path of committed)
    if (!generated.has(path)) problems.push(`not generated: gen/${path}`);
  if (problems.length > 0) {
    console.error(
      `gen/ is not what 'npm run generate' makes from proto/:\n  ${problems.join("\n  ")}`,
    );
    console.error("Run 'npm run generate' and commit gen/ (never edit it by hand).");
    process.exit(1);
  }
  console.log(`gen/ is up to date (${generated.size} files)`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
