/**
 * The CLI's own reader of embedded file descriptors gives the same descriptors as
 * protobuf-es's `fileDesc`, for every file the CLI embeds; what it cannot read it refuses.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { create, type DescFile, toBinary } from "@bufbuild/protobuf";
import { fileDesc as protobufFileDesc } from "@bufbuild/protobuf/codegenv2";
import {
  FileDescriptorProtoSchema,
  file_google_protobuf_duration,
  file_google_protobuf_timestamp,
} from "@bufbuild/protobuf/wkt";
import { fileDesc } from "../../cli/rpc/file-descriptor.js";
import { repoRoot } from "../helpers/paths.js";

/** The embedded descriptor in a generated file, and the files it imports, by proto name. */
function embedded(source: string): { b64: string; imports: string[] } {
  const match = /fileDesc\("([^"]+)"(?:, \[([^\]]*)\])?\)/.exec(source);
  assert.ok(match, "the generated file embeds a descriptor");
  return {
    b64: match[1] as string,
    imports: (match[2] ?? "")
      .split(",")
      .map((name) => name.trim())
      .filter(Boolean),
  };
}

/**
 * A descriptor as plain data: every property reached from it, with each descriptor met again
 * (a field's message, a method's input) named by its type name instead of repeated, and the
 * raw `proto` left out (it is how the descriptor was read, not what it says).
 */
function dump(value: unknown, seen = new Set<unknown>()): unknown {
  if (typeof value === "function") return "function";
  if (value === null || typeof value !== "object")
    return typeof value === "bigint" ? `${value}n` : value;
  if (value instanceof Uint8Array) return [...value];
  if (Array.isArray(value)) return value.map((item) => dump(item, seen));
  const record = value as Record<string, unknown>;
  if (seen.has(value)) return `-> ${String(record.typeName ?? record.name ?? record.kind)}`;
  seen.add(value);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(record).sort()) {
    if (key === "proto") continue;
    out[key] = dump(record[key], seen);
  }
  if (typeof (record as { getDefaultValue?: unknown }).getDefaultValue === "function") {
    out.defaultValue = dump((record as { getDefaultValue(): unknown }).getDefaultValue(), seen);
  }
  return out;
}

const genDir = join(repoRoot, "gen/claude_sessions/v1");
const wkt: Record<string, DescFile> = {
  file_google_protobuf_timestamp,
  file_google_protobuf_duration,
};

describe("embedded file descriptors", () => {
  const ours: Record<string, DescFile> = {};
  const theirs: Record<string, DescFile> = { ...wkt };
  // Files in dependency order: each one's imports are read before it.
  const files = readdirSync(genDir)
    .filter((name) => name.endsWith("_pb.ts"))
    .map((name) => ({ name, ...embedded(readFileSync(join(genDir, name), "utf8")) }))
    .sort((a, b) => a.imports.length - b.imports.length);

  for (const name of Object.keys(wkt)) {
    it(`${name}: the well-known type reads the same`, () => {
      const source = readFileSync(
        join(
          repoRoot,
          "node_modules/@bufbuild/protobuf/dist/esm/wkt/google/protobuf",
          `${name.replace("file_google_protobuf_", "")}_pb.js`,
        ),
        "utf8",
      );
      ours[name] = fileDesc(embedded(source).b64);
      assert.deepEqual(dump(ours[name]), dump(wkt[name]));
    });
  }

  for (const file of files) {
    it(`${file.name}: every message, field, enum and method reads the same`, () => {
      const importsOf = (from: Record<string, DescFile>) =>
        file.imports.map((name) => {
          const found = from[name];
          assert.ok(found, `${name} was read first`);
          return found;
        });
      const mine = fileDesc(file.b64, importsOf(ours));
      const reference = protobufFileDesc(file.b64, importsOf(theirs));
      assert.deepEqual(dump(mine), dump(reference));
      assert.ok(mine.messages.length > 0 || mine.services.length > 0);
      const variable = `file_${mine.proto.name.replace(/\.proto$/, "").replace(/\//g, "_")}`;
      ours[variable] = mine;
      theirs[variable] = reference;
    });
  }

  it("refuses a file with an extension or an editions feature, naming it", () => {
    const withExtension = create(FileDescriptorProtoSchema, {
      name: "custom/ext.proto",
      syntax: "proto2",
      extension: [{ name: "x", number: 1000, extendee: ".a.B", label: 1, type: 5 }],
    });
    const b64 = Buffer.from(toBinary(FileDescriptorProtoSchema, withExtension)).toString("base64");
    assert.throws(() => fileDesc(b64), /custom\/ext\.proto: an extension is not supported/);
    const withFeatures = create(FileDescriptorProtoSchema, {
      name: "custom/editions.proto",
      syntax: "editions",
      edition: 1000,
      options: { features: { fieldPresence: 2 } },
    });
    const b64b = Buffer.from(toBinary(FileDescriptorProtoSchema, withFeatures)).toString("base64");
    assert.throws(() => fileDesc(b64b), /custom\/editions\.proto: an editions feature/);
  });
});
