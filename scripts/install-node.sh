#!/usr/bin/env bash
# Usage: scripts/install-node.sh <major> <prefix>
# Installs the newest Node.js <major> from the npm registry's `node` package into <prefix> (a
# scratch directory, never the project's dependencies) and prints the directory holding its
# `node` binary, to put first on PATH. The registry is the one place CI is sure to reach, and the
# package's install script fetches the real binary for this platform from it.
set -euo pipefail
if [ $# -ne 2 ] || ! [[ $1 =~ ^[0-9]+$ ]]; then
  echo "usage: $0 <major> <prefix>" >&2
  exit 2
fi
major=$1
prefix=$2
bin="$prefix/node_modules/node/bin"
if ! [ -x "$bin/node" ] || [ "$("$bin/node" -p 'process.versions.node.split(".")[0]')" != "$major" ]; then
  mkdir -p "$prefix"
  # --ignore-scripts=false: the binary comes from the package's preinstall script.
  npm install --prefix "$prefix" --no-save --no-package-lock --no-audit --no-fund \
    --ignore-scripts=false --loglevel=error "node@$major" >&2
fi
version=$("$bin/node" --version)
[[ $version == "v$major."* ]] || {
  echo "$0: $bin/node is $version, not Node $major" >&2
  exit 1
}
echo "$bin"
