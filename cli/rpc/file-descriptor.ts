/**
 * `fileDesc` for the CLI bundle: hydrates the file descriptors that protoc-gen-es embeds in
 * `gen/` (and in the well-known types) without first booting `google/protobuf/descriptor.proto`.
 *
 * protobuf-es decodes an embedded descriptor with `fromBinary(FileDescriptorProtoSchema, ...)`,
 * and to have that schema it first builds the whole of descriptor.proto's registry: about 6 ms
 * of every command's start on Node 20, a quarter of what `list` costs above bare Node. This
 * reads the few descriptor messages by hand into plain objects shaped as protobuf-es's own
 * boot code shapes them (defaults on a prototype, present fields as own properties), then
 * hands them to the same `createFileRegistry`. The bundle build puts it in place of
 * protobuf-es's `codegenv2/file.js` (scripts/bundle-cli.js); the daemon and programs using
 * the library keep protobuf-es's own. A unit test checks that both give the same descriptors
 * for every file the CLI embeds.
 *
 * It reads what proto3 and proto2 files use. A file with editions features, extensions or custom
 * options is refused with an error naming it, rather than read wrongly: the unit test would
 * fail first.
 */
import { createFileRegistry, type DescFile } from "@bufbuild/protobuf";
import { protoCamelCase } from "@bufbuild/protobuf/reflect";
import { BinaryReader } from "@bufbuild/protobuf/wire";
import type { FileDescriptorProto } from "@bufbuild/protobuf/wkt";

type Proto = Record<string, unknown>;

/** How one field of a descriptor message is read. */
type FieldSpec =
  | { name: string; read: "string" | "int32" | "bool"; repeated?: true }
  | { name: string; read: MessageSpec; repeated?: true }
  /** Something this reader cannot represent: the file is refused, naming it. */
  | { refuse: string };

interface MessageSpec {
  /** The message's name in google.protobuf. */
  typeName: string;
  /** proto2's defaults for the fields read, kept on the prototype as protobuf-es does. */
  defaults: Proto;
  fields: Record<number, FieldSpec>;
  /** The repeated fields protobuf-es gives the message, empty or not (the registry walks them). */
  lists?: string[];
  /** In options messages: custom options (extensions, from field 1000) are refused too. */
  options?: true;
}

// Function declarations, not constants: see `fileSpec` below.
function string(name: string): FieldSpec {
  return { name, read: "string" };
}
function int32(name: string): FieldSpec {
  return { name, read: "int32" };
}
function bool(name: string): FieldSpec {
  return { name, read: "bool" };
}
function repeated(name: string, read: "string" | MessageSpec): FieldSpec {
  return { name, read, repeated: true };
}

/** Options messages keep only what the registry reads; editions features are refused. */
function options(typeName: string, fields: Record<number, FieldSpec>): MessageSpec {
  return {
    typeName,
    defaults: { deprecated: false, mapEntry: false, packed: false, jstype: 0, idempotencyLevel: 0 },
    fields,
    options: true,
  };
}

/**
 * descriptor.proto's messages as far as embedded descriptors use them, by field number.
 * Made on first use: protobuf-es's index imports the well-known types, whose descriptors come
 * through here, so in the bundle this module's body may not have run yet when they are read.
 */
let fileSpec: MessageSpec | undefined;

function descriptorSpec(): MessageSpec {
  if (fileSpec !== undefined) return fileSpec;
  const EXTENSION: FieldSpec = { refuse: "an extension" };
  const FEATURES: FieldSpec = { refuse: "an editions feature" };
  const field: MessageSpec = {
    typeName: "FieldDescriptorProto",
    defaults: {
      name: "",
      number: 0,
      label: 1,
      type: 1,
      typeName: "",
      extendee: "",
      defaultValue: "",
      oneofIndex: 0,
      jsonName: "",
      proto3Optional: false,
    },
    fields: {
      1: string("name"),
      2: EXTENSION,
      3: int32("number"),
      4: int32("label"),
      5: int32("type"),
      6: string("typeName"),
      7: string("defaultValue"),
      8: {
        name: "options",
        read: options("FieldOptions", {
          2: bool("packed"),
          3: bool("deprecated"),
          6: int32("jstype"),
          21: FEATURES,
        }),
      },
      9: int32("oneofIndex"),
      10: string("jsonName"),
      17: bool("proto3Optional"),
    },
  };
  const enumValue: MessageSpec = {
    typeName: "EnumValueDescriptorProto",
    defaults: { name: "", number: 0 },
    fields: {
      1: string("name"),
      2: int32("number"),
      3: {
        name: "options",
        read: options("EnumValueOptions", { 1: bool("deprecated"), 2: FEATURES }),
      },
    },
  };
  const enumType: MessageSpec = {
    typeName: "EnumDescriptorProto",
    defaults: { name: "", visibility: 0 },
    lists: ["value", "reservedRange", "reservedName"],
    fields: {
      1: string("name"),
      2: repeated("value", enumValue),
      3: { name: "options", read: options("EnumOptions", { 3: bool("deprecated"), 7: FEATURES }) },
      5: repeated("reservedName", "string"),
    },
  };
  const oneof: MessageSpec = {
    typeName: "OneofDescriptorProto",
    defaults: { name: "" },
    fields: {
      1: string("name"),
      2: { name: "options", read: options("OneofOptions", { 1: FEATURES }) },
    },
  };
  const message: MessageSpec = {
    typeName: "DescriptorProto",
    defaults: { name: "", visibility: 0 },
    lists: [
      "field",
      "nestedType",
      "enumType",
      "extensionRange",
      "extension",
      "oneofDecl",
      "reservedRange",
      "reservedName",
    ],
    fields: {},
  };
  Object.assign(message.fields, {
    1: string("name"),
    2: repeated("field", field),
    3: repeated("nestedType", message),
    4: repeated("enumType", enumType),
    5: EXTENSION,
    6: EXTENSION,
    7: {
      name: "options",
      read: options("MessageOptions", { 3: bool("deprecated"), 7: bool("mapEntry"), 12: FEATURES }),
    },
    8: repeated("oneofDecl", oneof),
    10: repeated("reservedName", "string"),
  });
  const method: MessageSpec = {
    typeName: "MethodDescriptorProto",
    defaults: {
      name: "",
      inputType: "",
      outputType: "",
      clientStreaming: false,
      serverStreaming: false,
    },
    fields: {
      1: string("name"),
      2: string("inputType"),
      3: string("outputType"),
      4: {
        name: "options",
        read: options("MethodOptions", {
          33: bool("deprecated"),
          34: int32("idempotencyLevel"),
          35: FEATURES,
        }),
      },
      5: bool("clientStreaming"),
      6: bool("serverStreaming"),
    },
  };
  const service: MessageSpec = {
    typeName: "ServiceDescriptorProto",
    defaults: { name: "" },
    lists: ["method"],
    fields: {
      1: string("name"),
      2: repeated("method", method),
      3: {
        name: "options",
        read: options("ServiceOptions", { 33: bool("deprecated"), 34: FEATURES }),
      },
    },
  };
  fileSpec = {
    typeName: "FileDescriptorProto",
    defaults: { name: "", package: "", syntax: "", edition: 0 },
    lists: [
      "dependency",
      "publicDependency",
      "weakDependency",
      "optionDependency",
      "messageType",
      "enumType",
      "service",
      "extension",
    ],
    fields: {
      1: string("name"),
      2: string("package"),
      3: repeated("dependency", "string"),
      4: repeated("messageType", message),
      5: repeated("enumType", enumType),
      6: repeated("service", service),
      7: EXTENSION,
      8: {
        name: "options",
        read: options("FileOptions", { 23: bool("deprecated"), 50: FEATURES }),
      },
      12: string("syntax"),
      14: int32("edition"),
    },
  };
  return fileSpec;
}

/** Reads one message of `spec` into a plain object over a prototype of its defaults. */
function read(spec: MessageSpec, bytes: Uint8Array, file: { name: string }): Proto {
  const message = Object.create(spec.defaults) as Proto;
  message.$typeName = `google.protobuf.${spec.typeName}`;
  for (const list of spec.lists ?? []) message[list] = [];
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [number, wireType] = reader.tag();
    const field = spec.fields[number];
    if (field === undefined) {
      // Custom options are extensions of the options messages, numbered from 1000.
      if (spec.options && number >= 1000) throw unsupported(file.name, "a custom option");
      reader.skip(wireType, number);
      continue;
    }
    if ("refuse" in field) throw unsupported(file.name, field.refuse);
    const value =
      typeof field.read === "string"
        ? reader[field.read]()
        : read(field.read, reader.bytes(), file);
    if (field.repeated) (message[field.name] as unknown[]).push(value);
    else message[field.name] = value;
    // The file's name comes first in what protoc writes: errors name the file from then on.
    if (spec === fileSpec && field.name === "name") file.name = value as string;
  }
  // protoc-gen-es leaves out JSON names that follow from the field's name.
  if (spec.typeName === "FieldDescriptorProto" && !Object.hasOwn(message, "jsonName")) {
    message.jsonName = protoCamelCase(message.name as string);
  }
  return message;
}

function unsupported(file: string, what: string): Error {
  return new Error(`${file}: ${what} is not supported by the CLI's descriptor reader`);
}

/** Reads a serialized FileDescriptorProto into the shape `createFileRegistry` takes. */
export function readFileDescriptor(bytes: Uint8Array): Proto {
  return read(descriptorSpec(), bytes, { name: "a file descriptor" });
}

/**
 * Hydrates a file descriptor embedded by protoc-gen-es: the same signature and result as
 * protobuf-es's `fileDesc`.
 */
export function fileDesc(b64: string, imports?: DescFile[]): DescFile {
  // Node's own base64 decoder: several times faster than protobuf-es's portable one.
  const root = readFileDescriptor(Buffer.from(b64, "base64"));
  // Generated code passes the imported files themselves; their names are the dependencies.
  root.dependency = imports?.map((file) => file.proto.name) ?? [];
  const registry = createFileRegistry(
    root as unknown as FileDescriptorProto,
    (protoFileName: string) => imports?.find((file) => file.proto.name === protoFileName),
  );
  return registry.getFile(root.name as string) as DescFile;
}
