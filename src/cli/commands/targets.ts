/**
 * `pccxc targets list` and `pccxc targets show NAME|PATH [--explain] [--set path=value]`: thin
 * commands over src/target. Results go to stdout (`--json` for machine-readable output); errors
 * are PccxErrors that main() prints and turns into exit codes.
 */
import type { Command } from "commander";
import { isPccxError, type PccxError } from "../../diag/index.js";
import { formatPath, listBuiltinTargets, loadTarget, type Target } from "../../target/index.js";
import { leaves, type PathSeg } from "../../target/json-path.js";
import { schemaNodeAt } from "../../target/schema-walk.js";
import type { CliContext } from "../context.js";

const collect = (v: string, prev: string[]) => [...prev, v];

/** Hex-typed fields (addresses, register offsets) print as hex, like the file writes them. */
function display(segs: readonly PathSeg[], v: unknown): string {
  const pattern = schemaNodeAt(segs)?.pattern;
  if (typeof v === "number" && typeof pattern === "string" && pattern.startsWith("^0x"))
    return `0x${v.toString(16).toUpperCase().padStart(4, "0")}`;
  return JSON.stringify(v);
}

function valueLines(t: Target, explain: boolean): string[] {
  const lines: string[] = [];
  const add = (key: string, shown: string) => {
    lines.push(`  ${key} = ${shown}`);
    const p = explain ? t.provenance.get(key) : undefined;
    if (p) lines.push(`      ${p.kind}${p.file ? ` ${p.file}` : ""}${p.source ? `: ${p.source}` : ""}`);
  };
  lines.push("values:");
  for (const [segs, v] of leaves(t.file)) {
    if (segs[0] !== "sources" && segs[0] !== "$schema") add(formatPath(segs), display(segs, v));
  }
  lines.push("derived:");
  for (const [segs, v] of leaves(t.derived)) add(`derived${formatPath(segs).slice(1)}`, JSON.stringify(v));
  return lines;
}

function showJson(t: Target, explain: boolean) {
  const { sources, ...file } = t.file;
  return {
    name: t.file.name,
    fingerprint: t.fingerprint,
    hash: t.hash,
    file: t.label,
    target: file,
    sources,
    derived: t.derived,
    ...(explain ? { provenance: Object.fromEntries(t.provenance) } : {}),
  };
}

function showText(t: Target, explain: boolean): string {
  const head = [
    `${t.fingerprint}  (${t.label})`,
    ...(t.file.description ? [t.file.description] : []),
    ...(t.file.extends ? [`extends: ${t.file.extends}`] : []),
    `hash: ${t.hash}`,
    ...t.file.notes.map((n) => `note: ${n}`),
  ];
  return `${[...head, ...valueLines(t, explain)].join("\n")}\n`;
}

function listTargets(ctx: CliContext, json: boolean): void {
  const rows: Array<{ name: string; fingerprint: string; description: string }> = [];
  const failures: PccxError[] = [];
  for (const name of listBuiltinTargets()) {
    try {
      const t = loadTarget(name, [], { cwd: ctx.cwd });
      rows.push({ name, fingerprint: t.fingerprint, description: t.file.description });
    } catch (e) {
      if (!isPccxError(e)) throw e;
      failures.push(e);
      rows.push({ name, fingerprint: `INVALID (${e.code})`, description: e.message });
    }
  }
  if (json) ctx.json({ targets: rows });
  else {
    const w1 = Math.max(4, ...rows.map((r) => r.name.length));
    const w2 = Math.max(11, ...rows.map((r) => r.fingerprint.length));
    const line = (a: string, b: string, c: string) => `${a.padEnd(w1)}  ${b.padEnd(w2)}  ${c}`.trimEnd();
    const out = [
      line("NAME", "FINGERPRINT", "DESCRIPTION"),
      ...rows.map((r) => line(r.name, r.fingerprint, r.description)),
    ];
    ctx.io.stdout(`${out.join("\n")}\n`);
  }
  if (failures.length > 0) throw failures[0];
}

export function registerTargets(program: Command, ctx: CliContext): void {
  const targets = program.command("targets").description("target descriptions: list the built-ins, show one");

  targets
    .command("list")
    .description("list the built-in targets with their fingerprints")
    .option("--json", "print machine-readable JSON on stdout")
    .action((o: { json?: boolean }) => listTargets(ctx, o.json ?? false));

  targets
    .command("show")
    .description("show a target's values and derived values (a built-in name or a path to a .json file)")
    .argument("<target>", "built-in target name or path to a target file")
    .option("--explain", "show where each value comes from (target-file, schema-default, derived, override)")
    .option(
      "--set <path=value>",
      "override a value for this run, e.g. ddr.efficiency=0.85 (repeatable)",
      collect,
      [],
    )
    .option("--json", "print machine-readable JSON on stdout")
    .action((name: string, o: { explain?: boolean; set: string[]; json?: boolean }) => {
      const t = loadTarget(name, o.set, { cwd: ctx.cwd });
      const explain = o.explain ?? false;
      if (o.json) ctx.json(showJson(t, explain));
      else ctx.io.stdout(showText(t, explain));
    });
}
