#!/usr/bin/env node
// The CLI is one CommonJS bundle (see scripts/bundle-cli.js); require() loads it without the
// ES module loader's extra work on a file that exports nothing.
import { createRequire } from "node:module";

createRequire(import.meta.url)("../dist/cli.cjs");
