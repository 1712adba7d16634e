#!/usr/bin/env node
// The npm bin entry: always runs main() (an import.meta.url guard would do nothing through the
// bin symlink). Uses the compiled dist/ (built by `npm ci` through the prepare script).
import { main } from "../dist/cli/main.js";

process.exitCode = await main(process.argv.slice(2));
