import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BUILTIN_FEATURES } from "../../src/features/index.js";
import { collect, featureList, isPathSpec, loadPlugins, resolvePluginSpec } from "../../src/plugins/index.js";
import { catchPccx, catchPccxAsync, ROOT } from "../features/helpers.js";

const tmp = mkdtempSync(join(tmpdir(), "pccxc-plugins-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function write(rel: string, text: string): string {
  const p = join(tmp, rel);
  mkdirSync(join(p, ".."), { recursive: true });
  writeFileSync(p, text);
  return p;
}

const FEATURE = `{ id: "demo", summary: "demo", keys: ["demo_key"], detect: () => false, apply: (g) => ({ graph: g, entries: [] }) }`;

describe("loadPlugins: modules and their shape", () => {
  it("loads the shipped examples (.ts under a TypeScript loader, .mjs anywhere), relative to cwd", async () => {
    const r = await loadPlugins(["examples/plugins/ntk-rope.ts", "./examples/plugins/llama-arch.mjs"], ROOT);
    expect(r.features.map((f) => f.id)).toEqual(["ntk-alpha-rope"]);
    expect(r.architectures.map((a) => a.id)).toEqual(["example-llama"]);
    expect(r.sources.map((s) => [s.spec, s.file])).toEqual([
      ["examples/plugins/ntk-rope.ts", join(ROOT, "examples/plugins/ntk-rope.ts")],
      ["./examples/plugins/llama-arch.mjs", join(ROOT, "examples/plugins/llama-arch.mjs")],
    ]);
  });

  it("takes the named export pccxcPlugin, else the default export", async () => {
    write("named.mjs", `export const pccxcPlugin = { features: [${FEATURE}] }; export default 42;`);
    write("default.mjs", `export default { features: [${FEATURE.replace('"demo"', '"demo2"')}] };`);
    const r = await loadPlugins(["./named.mjs", "./default.mjs"], tmp);
    expect(r.features.map((f) => f.id)).toEqual(["demo", "demo2"]);
  });

  it("resolves packages from cwd upwards (exports with conditions, main, scoped names, subpaths)", async () => {
    write(
      "node_modules/pccxc-demo/package.json",
      JSON.stringify({
        name: "pccxc-demo",
        exports: { ".": { import: "./esm/index.mjs", require: "./cjs.js" }, "./extra": "./extra.mjs" },
      }),
    );
    write(
      "node_modules/pccxc-demo/esm/index.mjs",
      `export default { features: [${FEATURE.replace('"demo"', '"pkg"')}] };`,
    );
    write(
      "node_modules/pccxc-demo/extra.mjs",
      `export default { features: [${FEATURE.replace('"demo"', '"pkg-extra"')}] };`,
    );
    write("node_modules/@acme/feat/package.json", JSON.stringify({ name: "@acme/feat", main: "lib.mjs" }));
    write(
      "node_modules/@acme/feat/lib.mjs",
      `export default { features: [${FEATURE.replace('"demo"', '"acme"')}] };`,
    );
    mkdirSync(join(tmp, "deep/er"), { recursive: true });
    const r = await loadPlugins(["pccxc-demo", "pccxc-demo/extra", "@acme/feat"], join(tmp, "deep/er"));
    expect(r.features.map((f) => f.id)).toEqual(["pkg", "pkg-extra", "acme"]);
    expect(resolvePluginSpec("pccxc-demo", tmp)).toBe(join(tmp, "node_modules/pccxc-demo/esm/index.mjs"));
  });

  it("a directory spec uses its package.json main", async () => {
    write("dirplug/package.json", JSON.stringify({ main: "entry.mjs" }));
    write("dirplug/entry.mjs", `export default { features: [${FEATURE.replace('"demo"', '"dir"')}] };`);
    expect((await loadPlugins(["./dirplug"], tmp)).features[0]!.id).toBe("dir");
  });

  it("classifies specs as paths or packages", () => {
    expect(["./a", "../a", "/abs/p.mjs", "p.mjs", "x.ts", "~/p"].map(isPathSpec)).toEqual([
      true,
      true,
      true,
      true,
      true,
      true,
    ]);
    expect(["pkg", "@scope/pkg", "pkg/sub"].map(isPathSpec)).toEqual([false, false, false]);
    expect(collect("b", collect("a"))).toEqual(["a", "b"]);
  });
});

describe("loadPlugins: errors", () => {
  it("a missing file is exit 4 naming the resolved path", async () => {
    const err = await catchPccxAsync(() => loadPlugins(["./nope.mjs"], tmp));
    expect(err.code).toBe("plugins/not-found");
    expect(err.exitCode).toBe(4);
    expect(err.message).toBe(
      `plugin file not found: ${join(tmp, "nope.mjs")} (--plugin ./nope.mjs, relative to ${tmp})`,
    );
  });

  it("a missing package is exit 4 with the install fix", async () => {
    const err = await catchPccxAsync(() => loadPlugins(["no-such-pccxc-plugin"], tmp));
    expect(err.exitCode).toBe(4);
    expect(err.fix).toContain("npm install no-such-pccxc-plugin");
  });

  it.each([
    [
      "no export",
      "export const other = 1;",
      "neither a default export nor a named export `pccxcPlugin` (exports: other)",
    ],
    ["not an object", "export default [1];", "the exported plugin is an array"],
    ["empty", "export default {};", "it has neither `architectures` nor `features`"],
    ["a typo'd member", `export default { feature: [${FEATURE}] };`, "unknown member `feature`"],
    ["a non-array member", `export default { features: ${FEATURE} };`, "`features` must be an array"],
    [
      "a feature without apply",
      `export default { features: [{ id: "half", summary: "s", keys: [], detect: () => true }] };`,
      'features[0] ("half") is missing `apply` (expected a function)',
    ],
    [
      "a feature with bad keys",
      `export default { features: [{ id: "k", summary: "s", keys: "all", detect() {}, apply() {} }] };`,
      'features[0] ("k") has a wrong `keys` (expected an array of strings)',
    ],
    [
      "an architecture without build",
      `export default { architectures: [{ id: "a", families: ["llama"], summary: "", reads: [] }] };`,
      'architectures[0] ("a") is missing `build`',
    ],
    [
      "an architecture without id",
      `export default { architectures: [{ families: ["llama"], summary: "s", reads: [], build() {} }] };`,
      "architectures[0] is missing `id`",
    ],
  ])("wrong shape is exit 2 naming the member: %s", async (_name, text, msg) => {
    const file = write(`bad-${Math.random().toString(36).slice(2)}.mjs`, text);
    const err = await catchPccxAsync(() => loadPlugins([file], tmp));
    expect(err.code).toBe("plugins/bad-shape");
    expect(err.exitCode).toBe(2);
    expect([err.message, ...err.notes].join("\n")).toContain(msg);
    expect(err.at?.file).toBe(file);
  });

  it("a module that throws or does not parse is exit 2 with the cause", async () => {
    const throws = write("throws.mjs", `throw new Error("plugin init failed");`);
    const err = await catchPccxAsync(() => loadPlugins([throws], tmp));
    expect(err.code).toBe("plugins/load-failed");
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain("plugin init failed");
    const syntax = write("syntax.mjs", `export default {`);
    expect((await catchPccxAsync(() => loadPlugins([syntax], tmp))).code).toBe("plugins/load-failed");
  });

  it("the same id from two modules is exit 2 naming both", async () => {
    const a = write("dup-a.mjs", `export default { features: [${FEATURE.replace('"demo"', '"twin"')}] };`);
    const b = write("dup-b.mjs", `export default { features: [${FEATURE.replace('"demo"', '"twin"')}] };`);
    const err = await catchPccxAsync(() => loadPlugins([a, b], tmp));
    expect(err.code).toBe("plugins/duplicate-id");
    expect(err.message).toBe(`feature plugin id "twin" is defined by both ${a} and ${b}`);
  });

  it("an empty spec is a usage-level error", () => {
    expect(catchPccx(() => resolvePluginSpec(" ", tmp)).code).toBe("plugins/empty-spec");
  });
});

describe("featureList", () => {
  it("a loaded plugin with a built-in id replaces it in place; others come after", () => {
    const mine = { ...BUILTIN_FEATURES[5]!, summary: "my norm rules" };
    const extra = { ...BUILTIN_FEATURES[0]!, id: "extra" };
    const list = featureList([extra, mine]);
    expect(list).toHaveLength(BUILTIN_FEATURES.length + 1);
    expect(list[5]).toBe(mine);
    expect(list.at(-1)).toBe(extra);
  });
});
