/**
 * `pccxc schema [NAME]`: print the JSON Schema of a pccxc input format (input mode: what a person
 * writes). `schemas/<name>.schema.json` is the committed copy of the same bytes.
 */
import type { Command } from "commander";
import { programJsonSchema } from "../../codegen/artifacts/index.js";
import { usageError } from "../../diag/index.js";
import { ledgerJsonSchema } from "../../features/index.js";
import { budgetJsonSchema } from "../../pipeline/index.js";
import { graphJsonSchema } from "../../resolver/graph/index.js";
import { targetJsonSchema } from "../../target/index.js";
import { prettyJson } from "../../util/json.js";
import { reportJsonSchema } from "../../validate/reports/index.js";
import type { CliContext } from "../context.js";

/** The schemas pccxc can print; other stages add theirs here. */
export const SCHEMAS: Readonly<Record<string, { describe: string; build: () => unknown }>> = {
  target: { describe: "target description files (targets/*.json)", build: targetJsonSchema },
  graph: { describe: "the ModelGraph JSON dump (graph.json)", build: graphJsonSchema },
  ledger: { describe: "the feature ledger (ledger.json)", build: ledgerJsonSchema },
  program: { describe: "the compiled program (program.json)", build: programJsonSchema },
  budget: { describe: "performance and size budgets (pccxc batch --budget)", build: budgetJsonSchema },
  report: { describe: "the compile/simulate report (report.json)", build: reportJsonSchema },
};

export function registerSchema(program: Command, ctx: CliContext): void {
  program
    .command("schema")
    .description("print the JSON Schema of an input format (e.g. pccxc schema target)")
    .argument("[name]", `schema to print: ${Object.keys(SCHEMAS).join(", ")}`)
    .option("--json", "accepted for uniformity: the schema is JSON anyway")
    .action((name: string | undefined, o: { json?: boolean }) => {
      if (name === undefined) {
        if (o.json) ctx.json({ schemas: Object.keys(SCHEMAS) });
        else for (const [k, s] of Object.entries(SCHEMAS)) ctx.io.stdout(`${k}  ${s.describe}\n`);
        return;
      }
      const s = SCHEMAS[name];
      if (!s)
        throw usageError(
          "schema/unknown",
          `unknown schema "${name}"; available: ${Object.keys(SCHEMAS).join(", ")}`,
          {
            fix: "run pccxc schema to list them",
          },
        );
      ctx.io.stdout(prettyJson(s.build()));
    });
}
