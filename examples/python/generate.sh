#!/bin/sh
# Generates the Python modules for the claude-sessions API into examples/python/gen/.
#
#   examples/python/generate.sh            # uses the first python3 on PATH
#   PYTHON=/usr/bin/python3 examples/python/generate.sh
#
# Needs grpcio-tools for $PYTHON: Debian/Ubuntu `apt-get install python3-grpcio python3-grpc-tools`,
# elsewhere `pip install grpcio grpcio-tools`.
#
# The contract uses proto3 `optional` (Session.exit_code, StartSessionRequest.cols, ...), which
# protoc understands from 3.15 on. A current grpcio-tools bundles a newer protoc and compiles
# proto/ directly. Debian 12's python3-grpc-tools (1.14.1) bundles protoc 3.5.1, so for it the
# .proto files are first compiled into a descriptor set by the project's own buf, and protoc
# generates from that: the messages are the same on the wire, and each optional field keeps its
# presence through the one-field oneof (`_exit_code`) that proto3 `optional` is made of.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out="$here/gen"
python=${PYTHON:-python3}
protos="claude_sessions/v1/daemon.proto claude_sessions/v1/session.proto claude_sessions/v1/snapshot.proto claude_sessions/v1/session_service.proto"

if ! "$python" -c 'import grpc_tools.protoc' 2>/dev/null; then
  echo "generate.sh: $python cannot import grpc_tools; install python3-grpcio and python3-grpc-tools (Debian/Ubuntu) or run: $python -m pip install grpcio grpcio-tools" >&2
  exit 1
fi

# grpc_tools' own `python -m grpc_tools.protoc` adds its include path, and protoc refuses -I
# together with --descriptor_set_in, so protoc is run through grpc_tools.protoc.main.
protoc() {
  "$python" -c 'import sys
from grpc_tools import protoc
sys.exit(protoc.main(["protoc", *sys.argv[1:]]))' "$@"
}

# "libprotoc 3.5.1" -> 3005
protoc_version=$(protoc --version | awk '{ split($2, v, "."); print v[1] * 1000 + v[2] }')

rm -rf "$out"
mkdir -p "$out"

if [ "$protoc_version" -ge 3015 ]; then
  # shellcheck disable=SC2086 # $protos is a list of names without spaces
  protoc -I "$root/proto" -I "$("$python" -c 'import grpc_tools, os; print(os.path.join(os.path.dirname(grpc_tools.__file__), "_proto"))')" \
    --python_out="$out" --grpc_python_out="$out" $protos
else
  buf=${BUF:-}
  if [ -z "$buf" ]; then
    if [ -x "$root/node_modules/.bin/buf" ]; then buf="$root/node_modules/.bin/buf"; else buf=buf; fi
  fi
  if ! command -v "$buf" >/dev/null 2>&1; then
    echo "generate.sh: the protoc in $python's grpc_tools is older than 3.15 and cannot read proto3 optional fields; run npm install in $root (for buf), or install a newer grpcio-tools with pip" >&2
    exit 1
  fi
  "$buf" build "$root/proto" --path "$root/proto/claude_sessions" --as-file-descriptor-set \
    -o "$out/claude_sessions.binpb"
  # shellcheck disable=SC2086
  protoc --descriptor_set_in="$out/claude_sessions.binpb" \
    --python_out="$out" --grpc_python_out="$out" $protos
fi

echo "generated $(cd "$out" && find claude_sessions -name '*.py' | sort | tr '\n' ' ')"
