/**
 * Command-line option values turned into typed options, with usage errors (exit 1) that say what
 * is accepted. Shared by `compile`, `plan` and `batch`.
 */
import { isPccxError, usageError } from "../diag/index.js";
import { type LayoutOverride, parseLayoutOverride } from "../layout/index.js";
import { WEIGHT_ROLES } from "../resolver/graph/index.js";
import {
  type CompileChoices,
  GROUP_SIZES,
  type GroupSize,
  KV_DTYPES,
  type KvDtype,
  type ModelOptions,
  STAGE_NAMES,
  type StageName,
  type ValidateMode,
} from "./types.js";

/** Raw strings as commander hands them over. */
export interface RawChoiceOptions {
  readonly target?: string | readonly string[];
  readonly set?: readonly string[];
  readonly groupSize?: string;
  readonly context?: string;
  readonly kvDtype?: string;
  readonly plugin?: readonly string[];
  readonly layoutOverride?: readonly string[];
  readonly revision?: string;
  readonly cacheDir?: string;
  readonly token?: string;
  readonly offline?: boolean;
}

export function positiveInt(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v.trim()) || Number(v) < 1 || !Number.isSafeInteger(Number(v))) {
    throw usageError("pipeline/bad-option", `${flag} expects a positive integer, got "${v}"`);
  }
  return Number(v);
}

export function groupSizeOf(v: string | undefined): GroupSize | undefined {
  if (v === undefined) return undefined;
  const n = v === "per-row" || v === "row" ? 0 : Number(v);
  if (!GROUP_SIZES.includes(n as GroupSize)) {
    throw usageError("pipeline/bad-option", `--group-size ${v} is not supported`, {
      fix: "use 0 or per-row (one scale per row), 32, 64 or 128",
    });
  }
  return n as GroupSize;
}

export function kvDtypeOf(v: string | undefined): KvDtype | undefined {
  if (v === undefined) return undefined;
  if (!KV_DTYPES.includes(v as KvDtype)) {
    throw usageError("pipeline/bad-option", `--kv-dtype ${v} is not a KV cache dtype`, {
      fix: `use one of ${KV_DTYPES.join(", ")}`,
    });
  }
  return v as KvDtype;
}

export function stageOf(v: string | undefined): StageName | undefined {
  if (v === undefined) return undefined;
  if (!STAGE_NAMES.includes(v as StageName)) {
    throw usageError("pipeline/bad-option", `--stop-after ${v} is not a stage`, {
      fix: `use one of ${STAGE_NAMES.join(", ")}`,
    });
  }
  return v as StageName;
}

export function validateModeOf(v: string | undefined): ValidateMode | undefined {
  if (v === undefined) return undefined;
  if (v !== "auto" && v !== "on" && v !== "off") {
    throw usageError("pipeline/bad-option", `--validate ${v} is not auto, on or off`);
  }
  return v;
}

export function modelOptionsOf(o: RawChoiceOptions, cwd: string, env: ModelOptions["env"]): ModelOptions {
  return {
    cwd,
    ...(env ? { env } : {}),
    ...(o.revision !== undefined ? { revision: o.revision } : {}),
    ...(o.cacheDir !== undefined ? { cacheDir: o.cacheDir } : {}),
    ...(o.token !== undefined ? { token: o.token } : {}),
    ...(o.offline ? { offline: true } : {}),
  };
}

/** Compile choices; `--target` must be given at most once here (plan takes several). */
export function choicesOf(o: RawChoiceOptions): CompileChoices {
  const targets = o.target === undefined ? [] : typeof o.target === "string" ? [o.target] : o.target;
  if (targets.length > 1) {
    throw usageError("pipeline/bad-option", "--target was given more than once", {
      fix: "compile for one target at a time (pccxc plan compares several)",
    });
  }
  const groupSize = groupSizeOf(o.groupSize);
  const context = positiveInt("--context", o.context);
  const kvDtype = kvDtypeOf(o.kvDtype);
  const layoutOverrides = layoutOverridesOf(o.layoutOverride);
  return {
    ...(targets[0] !== undefined ? { target: targets[0] } : {}),
    ...(o.set?.length ? { targetOverrides: o.set } : {}),
    ...(groupSize !== undefined ? { groupSize } : {}),
    ...(context !== undefined ? { context } : {}),
    ...(kvDtype !== undefined ? { kvDtype } : {}),
    ...(o.plugin?.length ? { plugins: o.plugin } : {}),
    ...(layoutOverrides ? { layoutOverrides } : {}),
  };
}

/**
 * `--layout-override` (repeatable, applied in order): `<tensor-glob|role>=<format>[,group=N]
 * [,placement=P][,scale=S]`, or the planner's own `<glob|role:ROLE>=<key>:<value>,…`
 * (docs/layout.md §2.3). A selector that is a weight role name (`lm_head`, `embedding`, `norm` …)
 * selects by role; anything else is a glob over the HF tensor name.
 */
export function layoutOverridesOf(list: readonly string[] | undefined): LayoutOverride[] | undefined {
  if (!list?.length) return undefined;
  return list.map((text) => {
    const planner = plannerSyntax(text);
    try {
      return { ...parseLayoutOverride(planner), source: text };
    } catch (e) {
      if (!isPccxError(e) || planner === text) throw e;
      throw usageError(e.code, e.message.replace(`"${planner}"`, `"${text}"`), {
        fix: "write <tensor-glob|role>=<format>[,group=N][,placement=P], e.g. --layout-override 'role:embedding=bf16' or 'model.layers.*.mlp.down_proj.weight=int4,group=32'",
      });
    }
  });
}

const ROLES: readonly string[] = WEIGHT_ROLES;

/** `lm_head=bf16,placement=ddr` → `role:lm_head=format:bf16,placement:ddr`. */
function plannerSyntax(text: string): string {
  const eq = text.indexOf("=");
  if (eq <= 0) return text;
  const selector = text
    .slice(0, eq)
    .split("&")
    .map((part) => (ROLES.includes(part) ? `role:${part}` : part))
    .join("&");
  const settings = text
    .slice(eq + 1)
    .split(",")
    .map((item) => {
      const t = item.trim();
      if (t.includes(":")) return t;
      const kv = t.indexOf("=");
      return kv > 0 ? `${t.slice(0, kv)}:${t.slice(kv + 1)}` : `format:${t}`;
    });
  return `${selector}=${settings.join(",")}`;
}
