/**
 * gRPC server reflection (`grpc.reflection.v1` and `v1alpha`), answered from the descriptors that
 * protoc-gen-es embedded in `gen/`, so grpcurl can list, describe and call every method with no
 * .proto file at hand.
 */

import { readFileSync } from "node:fs";
import type { DescFile, DescMessage, MessageInitShape } from "@bufbuild/protobuf";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { GenService } from "@bufbuild/protobuf/codegenv2";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { status } from "@grpc/grpc-js";
import * as v1 from "../../gen/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import type { ServiceImpl } from "./service-binding.js";

/** The request as both protocol versions shape it. */
interface ReflectionRequest {
  messageRequest:
    | {
        case:
          | "fileByFilename"
          | "fileContainingSymbol"
          | "allExtensionNumbersOfType"
          | "listServices";
        value: string;
      }
    | {
        case: "fileContainingExtension";
        value: { containingType: string; extensionNumber: number };
      }
    | { case: undefined; value?: undefined };
}

type ReflectionAnswer = Omit<
  MessageInitShape<typeof v1.ServerReflectionResponseSchema>,
  "originalRequest" | "$typeName"
>;

/**
 * Our own files as `buf build` describes them, comments included (protoc-gen-es leaves the
 * comments out of the descriptors it embeds), so that `grpcurl describe` shows the documentation.
 * Keyed by file name; empty if the file is missing.
 */
export function loadDocumentedFiles(
  url = new URL("../../../gen/claude_sessions/v1/descriptor_set.binpb", import.meta.url),
): Map<string, Uint8Array> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(url);
  } catch {
    return new Map();
  }
  const set = fromBinary(FileDescriptorSetSchema, bytes);
  return new Map(set.file.map((file) => [file.name, toBinary(FileDescriptorProtoSchema, file)]));
}

/** The files and symbols that reflection can describe. */
export class DescriptorIndex {
  private readonly files = new Map<string, DescFile>();
  private readonly symbols = new Map<string, DescFile>();
  private readonly extensions = new Map<string, Map<number, DescFile>>();

  constructor(
    readonly serviceNames: readonly string[],
    files: readonly DescFile[],
    private readonly documented: ReadonlyMap<string, Uint8Array> = new Map(),
  ) {
    for (const file of files) this.addFile(file);
  }

  static forServices(
    services: readonly GenService<never>[],
    documented?: ReadonlyMap<string, Uint8Array>,
  ): DescriptorIndex {
    return new DescriptorIndex(
      services.map((service) => service.typeName),
      services.map((service) => service.file),
      documented,
    );
  }

  private addFile(file: DescFile): void {
    const fileName = file.proto.name;
    if (this.files.has(fileName)) return;
    this.files.set(fileName, file);
    for (const dependency of file.dependencies) this.addFile(dependency);
    const addMessage = (message: DescMessage): void => {
      this.symbols.set(message.typeName, file);
      for (const field of message.fields)
        this.symbols.set(`${message.typeName}.${field.name}`, file);
      for (const nested of message.nestedMessages) addMessage(nested);
      for (const nested of message.nestedEnums) this.symbols.set(nested.typeName, file);
    };
    for (const message of file.messages) addMessage(message);
    for (const enumeration of file.enums) {
      this.symbols.set(enumeration.typeName, file);
      for (const value of enumeration.values) {
        // Enum values are scoped like their enum's siblings, per protobuf's C++ scoping rules.
        const scope = enumeration.typeName.slice(0, enumeration.typeName.lastIndexOf(".") + 1);
        this.symbols.set(`${scope}${value.name}`, file);
      }
    }
    for (const service of file.services) {
      this.symbols.set(service.typeName, file);
      for (const method of service.methods)
        this.symbols.set(`${service.typeName}.${method.name}`, file);
    }
    for (const extension of file.extensions) {
      this.symbols.set(extension.typeName, file);
      const extendee = extension.extendee.typeName;
      const numbers = this.extensions.get(extendee) ?? new Map<number, DescFile>();
      this.extensions.set(extendee, numbers);
      numbers.set(extension.number, file);
    }
  }

  fileByName(name: string): DescFile | undefined {
    return this.files.get(name);
  }

  fileContainingSymbol(symbol: string): DescFile | undefined {
    return this.symbols.get(symbol.startsWith(".") ? symbol.slice(1) : symbol);
  }

  fileContainingExtension(typeName: string, number: number): DescFile | undefined {
    return this.extensions.get(typeName)?.get(number);
  }

  extensionNumbers(typeName: string): number[] | undefined {
    if (!this.symbols.has(typeName)) return undefined;
    return [...(this.extensions.get(typeName)?.keys() ?? [])];
  }

  /** The file and everything it imports, transitively, each once, the file first. */
  serializedWithDependencies(file: DescFile): Uint8Array[] {
    const seen = new Set<string>();
    const out: Uint8Array[] = [];
    const visit = (current: DescFile): void => {
      if (seen.has(current.proto.name)) return;
      seen.add(current.proto.name);
      out.push(
        this.documented.get(current.proto.name) ??
          toBinary(FileDescriptorProtoSchema, current.proto),
      );
      for (const dependency of current.dependencies) visit(dependency);
    };
    visit(file);
    return out;
  }
}

function notFound(what: string): ReflectionAnswer {
  return {
    messageResponse: {
      case: "errorResponse",
      value: { errorCode: status.NOT_FOUND, errorMessage: `${what} not found` },
    },
  };
}

/** Answers one reflection request; shared by both protocol versions. */
export function answerReflection(
  index: DescriptorIndex,
  request: ReflectionRequest,
): ReflectionAnswer {
  const files = (file: DescFile | undefined, what: string): ReflectionAnswer =>
    file === undefined
      ? notFound(what)
      : {
          messageResponse: {
            case: "fileDescriptorResponse",
            value: { fileDescriptorProto: index.serializedWithDependencies(file) },
          },
        };
  const message = request.messageRequest;
  switch (message.case) {
    case "listServices":
      return {
        messageResponse: {
          case: "listServicesResponse",
          value: { service: index.serviceNames.map((name) => ({ name })) },
        },
      };
    case "fileByFilename":
      return files(index.fileByName(message.value), `file ${message.value}`);
    case "fileContainingSymbol":
      return files(index.fileContainingSymbol(message.value), `symbol ${message.value}`);
    case "fileContainingExtension": {
      const { containingType, extensionNumber } = message.value;
      return files(
        index.fileContainingExtension(containingType, extensionNumber),
        `extension ${extensionNumber} of ${containingType}`,
      );
    }
    case "allExtensionNumbersOfType": {
      const numbers = index.extensionNumbers(message.value);
      if (numbers === undefined) return notFound(`type ${message.value}`);
      return {
        messageResponse: {
          case: "allExtensionNumbersResponse",
          value: { baseTypeName: message.value, extensionNumber: numbers },
        },
      };
    }
    case undefined:
      return {
        messageResponse: {
          case: "errorResponse",
          value: { errorCode: status.INVALID_ARGUMENT, errorMessage: "empty reflection request" },
        },
      };
  }
}

/** The v1 reflection service. */
export function reflectionV1(
  index: DescriptorIndex,
): ServiceImpl<(typeof v1.ServerReflection)["method"]> {
  return {
    async serverReflectionInfo(call) {
      for await (const request of call as AsyncIterable<v1.ServerReflectionRequest>) {
        call.write({
          ...answerReflection(index, request),
          validHost: request.host,
          originalRequest: request,
        });
      }
    },
  };
}

/**
 * The v1alpha reflection service, still the one many clients ask first. Its messages are
 * wire-identical to v1's, so requests and answers are converted through their bytes.
 */
export function reflectionV1alpha(
  index: DescriptorIndex,
): ServiceImpl<(typeof v1alpha.ServerReflection)["method"]> {
  return {
    async serverReflectionInfo(call) {
      for await (const request of call as AsyncIterable<v1alpha.ServerReflectionRequest>) {
        const asV1 = fromBinary(
          v1.ServerReflectionRequestSchema,
          toBinary(v1alpha.ServerReflectionRequestSchema, request),
        );
        const answer = create(v1.ServerReflectionResponseSchema, {
          ...answerReflection(index, asV1),
          validHost: request.host,
          originalRequest: asV1,
        });
        call.write(
          fromBinary(
            v1alpha.ServerReflectionResponseSchema,
            toBinary(v1.ServerReflectionResponseSchema, answer),
          ),
        );
      }
    },
  };
}

export const ReflectionV1Service = v1.ServerReflection;
export const ReflectionV1alphaService = v1alpha.ServerReflection;
