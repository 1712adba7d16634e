/**
 * `pccxc export <out-dir> --format pccx-program [-o file] [--segments a,b]`: convert a compile's
 * program.json into the program JSON the pccx bring-up tools read, plus its .memh beside it
 * (docs/artifacts.md). The work is in src/codegen/artifacts; this only parses arguments and prints.
 */
import { resolve } from "node:path";
import type { Command } from "commander";
import { exportPccxProgramFiles } from "../../codegen/artifacts/index.js";
import { usageError } from "../../diag/index.js";
import type { CliContext } from "../context.js";

/** Export formats: name → what it writes. */
const FORMATS: Readonly<Record<string, string>> = {
  "pccx-program": "pccx bring-up program JSON (pccx_v002_runtime_smoke_program) and its .memh",
};

interface ExportOpts {
  format?: string;
  output?: string;
  segments?: string;
  json?: boolean;
  quiet?: boolean;
}

export function registerExport(program: Command, ctx: CliContext): void {
  program
    .command("export")
    .description("convert a compiled program for other tools (e.g. --format pccx-program)")
    .argument("<out-dir>", "output directory of pccxc compile (holds program.json)")
    .option("--format <name>", `export format: ${Object.keys(FORMATS).join(", ")}`)
    .option(
      "-o, --output <file>",
      "program JSON to write (default <out-dir>/pccx-program.json); the .memh goes beside it",
    )
    .option(
      "--segments <names>",
      "comma-separated segments whose NPU words to export (default: load segments, then decode)",
    )
    .option("--json", "print what was written as JSON on stdout")
    .option("-q, --quiet", "print nothing on stderr")
    .action(async (outDir: string, o: ExportOpts) => {
      if (o.format === undefined || !(o.format in FORMATS)) {
        const list = Object.entries(FORMATS).map(([k, v]) => `${k} (${v})`);
        throw usageError(
          "export/bad-format",
          o.format === undefined ? "--format is required" : `unknown export format "${o.format}"`,
          { fix: `use --format ${Object.keys(FORMATS)[0]}; formats: ${list.join("; ")}` },
        );
      }
      const segments = o.segments
        ?.split(",")
        .map((s) => s.trim())
        .filter(Boolean);
      const r = await exportPccxProgramFiles(resolve(ctx.cwd, outDir), {
        ...(o.output ? { file: resolve(ctx.cwd, o.output) } : {}),
        ...(segments ? { segments } : {}),
      });
      const log = ctx.logger({ quiet: o.quiet });
      log.info(
        `wrote ${r.json} (${r.instructions} instructions from ${r.segments.join(", ")}) and ${r.memh}`,
      );
      if (o.json)
        ctx.json({
          format: o.format,
          program_json: r.json,
          memh: r.memh,
          instructions: r.instructions,
          segments: r.segments,
        });
    });
}
