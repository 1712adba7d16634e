/**
 * compile(): the whole pipeline as one call. Consumes a model reference (directory, config.json or
 * repo id) and CompileOptions; produces an output directory with every artifact and manifest.json,
 * built in a temporary sibling and renamed at the end (an interrupted or failed compile leaves
 * nothing behind), and the summary.
 */

import { readFileSync } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { dirname, isAbsolute, resolve as resolvePath } from "node:path";
import { ioError, usageError } from "../diag/index.js";
import { silentLogger } from "../diag/log.js";
import { locateTarget } from "../target/index.js";
import { AtomicDir } from "../util/atomic.js";
import { prettyJson } from "../util/json.js";
import { VERSION } from "../version.js";
import { cleanupOnSignal } from "./interrupt.js";
import {
  digestFile,
  digestOutputs,
  displayPath,
  type InputDigest,
  MANIFEST_FILE,
  MANIFEST_FORMAT,
  MANIFEST_VERSION,
  type Manifest,
  roleOf,
} from "./manifest.js";
import { makeRunContext, runStages } from "./run.js";
import { NoteLog } from "./settings.js";
import { STAGES } from "./stages/index.js";
import type { PipelineState, RunContext } from "./state.js";
import { type CompileSummary, summarize } from "./summary.js";
import { type CompileOptions, STAGE_NAMES, type StageName } from "./types.js";

export interface CompileResult {
  /** The output directory (absolute). */
  readonly out: string;
  readonly summary: CompileSummary;
  readonly manifest: Manifest;
}

/** Refuses a non-empty output directory unless --force (exit 1 with the fix). */
async function checkOutput(out: string, force: boolean): Promise<void> {
  let entries: string[];
  try {
    const st = await stat(out);
    if (!st.isDirectory()) {
      throw usageError("pipeline/out-not-dir", `the output ${out} exists and is not a directory`, {
        fix: "choose another -o path",
      });
    }
    entries = await readdir(out);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
    throw e;
  }
  if (entries.length > 0 && !force) {
    throw usageError(
      "pipeline/out-not-empty",
      `the output directory ${out} is not empty (${entries.length} entries)`,
      {
        fix: "pass --force to replace it, or choose another -o directory",
      },
    );
  }
}

export async function compile(spec: string, opts: CompileOptions): Promise<CompileResult> {
  const cwd = opts.cwd ?? process.cwd();
  const logger = opts.logger ?? silentLogger;
  const out = resolvePath(cwd, opts.out);
  if (opts.stopAfter !== undefined && !STAGE_NAMES.includes(opts.stopAfter)) {
    throw usageError("pipeline/stop-after", `--stop-after ${opts.stopAfter} is not a stage`, {
      fix: `use one of ${STAGE_NAMES.join(", ")}`,
    });
  }
  await checkOutput(out, opts.force ?? false);
  const notes = new NoteLog(logger);
  const removeHandlers = cleanupOnSignal(out, logger);
  let dir: AtomicDir;
  try {
    dir = await AtomicDir.create(out);
  } catch (e) {
    removeHandlers();
    throw ioError(
      "pipeline/out-unwritable",
      `cannot create the output directory ${out}: ${(e as Error).message}`,
      {
        at: { file: out },
        fix: "check that the parent directory exists and is writable, or choose another -o",
      },
    );
  }
  const state: PipelineState = {};
  try {
    const ctx = await makeRunContext({
      mode: "compile",
      spec,
      model: { ...opts, cwd },
      choices: opts,
      logger,
      notes,
      out: dir,
      ...(opts.stopAfter ? { stopAfter: opts.stopAfter } : {}),
      ...(opts.validate ? { validate: opts.validate } : {}),
      ...(opts.tokens !== undefined ? { tokens: opts.tokens } : {}),
      ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
      ...(opts.quantSearch !== undefined ? { quantSearch: opts.quantSearch } : {}),
    });
    const ran = await runStages(state, ctx);
    if (opts.stopAfter) await writeDumps(state, ran, dir);
    const manifest = await buildManifest(state, ctx, ran, dir, cwd);
    await dir.write(MANIFEST_FILE, prettyJson(manifest));
    await dir.commit();
    return { out, summary: summarize(state, ctx, ran), manifest };
  } catch (e) {
    await dir.abort();
    throw e;
  } finally {
    removeHandlers();
    await state.source?.close();
  }
}

/** `--stop-after`: the JSON dump of every stage that ran, as dump/<stage>.json. */
async function writeDumps(s: PipelineState, ran: readonly StageName[], dir: AtomicDir): Promise<void> {
  for (const stage of STAGES) {
    if (!ran.includes(stage.name)) continue;
    const d = stage.dump(s);
    if (d !== undefined) await dir.write(`dump/${stage.name}.json`, prettyJson(d));
  }
}

/** A file label for outputs: as the target loader names it, unless that is an absolute path. */
function shownLabel(label: string, path: string, cwd: string): string {
  return isAbsolute(label) ? displayPath(path, cwd) : label;
}

/** The target file and the files it `extends`, in that order. */
function targetFiles(ctx: RunContext, cwd: string): { path: string; label: string }[] {
  const out: { path: string; label: string }[] = [];
  let loc = locateTarget(ctx.choices.target ?? ctx.target.file.name, cwd);
  for (;;) {
    out.push({ path: loc.path, label: shownLabel(loc.label, loc.path, cwd) });
    const ext = (JSON.parse(readFileSync(loc.path, "utf8")) as { extends?: unknown }).extends;
    if (typeof ext !== "string" || out.length > 8) return out;
    loc = locateTarget(ext, dirname(loc.path), cwd);
  }
}

async function inputDigests(s: PipelineState, ctx: RunContext, cwd: string): Promise<InputDigest[]> {
  const out: InputDigest[] = [];
  const files = s.source?.files ?? {};
  for (const name of Object.keys(files).sort()) {
    out.push({ role: roleOf(name), path: name, ...(await digestFile(files[name]!, ctx.logger)) });
  }
  for (const t of targetFiles(ctx, cwd))
    out.push({ role: "target", path: t.label, ...(await digestFile(t.path)) });
  for (const p of ctx.plugins.sources) {
    out.push({ role: "plugin", path: displayPath(p.file, cwd), ...(await digestFile(p.file)) });
  }
  return out;
}

async function buildManifest(
  s: PipelineState,
  ctx: RunContext,
  ran: readonly StageName[],
  dir: AtomicDir,
  cwd: string,
): Promise<Manifest> {
  const o = s.source?.origin;
  const settings: Record<string, string | number | boolean | null> = {
    context: s.context ?? null,
    groupSize: s.layout?.options.groupSize ?? null,
    kvDtype: s.layout?.options.kvDtype ?? null,
    validate: ctx.validate,
    tokens: ctx.tokens,
    quantSearch: ctx.quantSearch,
    stopAfter: ctx.stopAfter,
    targetOverrides: (ctx.choices.targetOverrides ?? []).join(" ") || null,
    layoutOverrides: (ctx.choices.layoutOverrides ?? []).map((o) => o.source ?? "").join(" ") || null,
  };
  return {
    format: MANIFEST_FORMAT,
    version: MANIFEST_VERSION,
    compiler: { name: "pccxc", version: VERSION },
    model: {
      label: s.label ?? ctx.spec,
      origin:
        o?.kind === "hf-cache"
          ? { kind: "hf-cache", repo: o.repo, revision: o.revision, sha: o.sha }
          : { kind: "dir" },
    },
    target: {
      name: ctx.target.file.name,
      fingerprint: ctx.target.fingerprint,
      hash: ctx.target.hash,
      file: targetFiles(ctx, cwd)[0]!.label,
    },
    settings,
    stages: ran,
    inputs: await inputDigests(s, ctx, cwd),
    outputs: await digestOutputs(dir.tempPath),
  };
}
