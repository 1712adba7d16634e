import { chmod, mkdir, open, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DiagnosticSink } from "../../../src/diag/index.js";
import { readSafetensorsHeader } from "../../../src/parser/safetensors/file.js";
import { fsError } from "../../../src/parser/safetensors/io.js";
import { openTensorIndex } from "../../../src/parser/safetensors/load.js";
import {
  checkShardName,
  findWeights,
  noWeightsError,
  weightSetFromFile,
} from "../../../src/parser/safetensors/weights.js";
import { encodeF32, writeSafetensors } from "../../../src/parser/safetensors/writer.js";
import { rejected } from "../../helpers/errors.js";
import { safetensorsBytes, useTempDirs } from "./fixtures.js";

const tempDir = useTempDirs();

const S1 = "model-00001-of-00002.safetensors";
const S2 = "model-00002-of-00002.safetensors";

/** A two-shard checkpoint with an index, plus a stray consolidated.safetensors. */
async function sharded(map?: Record<string, string>, extra?: { name: string; shard: string }) {
  const dir = await tempDir();
  const t = (name: string, v: number) => ({
    name,
    dtype: "F32" as const,
    shape: [2],
    data: encodeF32([v, v + 1]),
  });
  await writeSafetensors(join(dir, S1), [
    t("a.weight", 1),
    t("b.weight", 3),
    ...(extra?.shard === S1 ? [t(extra.name, 9)] : []),
  ]);
  await writeSafetensors(join(dir, S2), [t("c.weight", 5)]);
  await writeSafetensors(join(dir, "consolidated.safetensors"), [t("everything", 0)]);
  const weight_map = map ?? { "a.weight": S1, "b.weight": S1, "c.weight": S2 };
  await writeFile(
    join(dir, "model.safetensors.index.json"),
    JSON.stringify({ metadata: { total_size: 24 }, weight_map }),
  );
  return dir;
}

async function openDir(dir: string, diag?: DiagnosticSink) {
  const w = await findWeights(dir);
  if (!w.found) throw noWeightsError(w.dir, w.seen);
  return openTensorIndex(w.set, diag ? { diag } : {});
}

describe("choosing the safetensors set", () => {
  it("prefers the index, reads all shards, and ignores consolidated.safetensors", async () => {
    const dir = await sharded();
    const index = await openDir(dir);
    expect(index.names()).toEqual(["a.weight", "b.weight", "c.weight"]);
    expect(index.files).toEqual([join(dir, S1), join(dir, S2)]);
    expect(index.require("c.weight").file).toBe(join(dir, S2));
    expect([...(await index.readRows("c.weight", 0, 1))]).toEqual([5, 6]);
    await index.close();
  });

  it("falls back to model.safetensors, and otherwise lists what the directory holds", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "config.json"), "{}");
    await writeFile(join(dir, "pytorch_model.bin"), "x");
    await writeFile(
      join(dir, "consolidated.safetensors"),
      safetensorsBytes([{ name: "x", dtype: "U8", shape: [1] }]),
    );
    const none = await findWeights(dir);
    expect(none.found).toBe(false);
    if (none.found) return;
    const e = noWeightsError(none.dir, none.seen);
    expect([e.code, e.exitCode]).toEqual(["weights/not-found", 2]);
    expect(e.message).toContain("consolidated.safetensors, pytorch_model.bin");
    expect(e.fix).toContain("--weights consolidated.safetensors");
    await writeFile(
      join(dir, "model.safetensors"),
      safetensorsBytes([{ name: "m", dtype: "U8", shape: [3] }]),
    );
    const single = await findWeights(dir);
    expect(single.found && single.set.kind).toBe("single");
    expect((await openDir(dir)).names()).toEqual(["m"]);
  });

  it("--weights selects a file or an index explicitly", async () => {
    const dir = await sharded();
    const file = await openTensorIndex(await weightSetFromFile(join(dir, "consolidated.safetensors")));
    expect(file.names()).toEqual(["everything"]);
    const idx = await weightSetFromFile(join(dir, "model.safetensors.index.json"));
    expect(idx.kind).toBe("index");
    const e = await rejected(weightSetFromFile(join(dir, "weights.bin")));
    expect([e.code, e.exitCode]).toEqual(["weights/override-kind", 1]);
  });
});

describe("index and shard consistency", () => {
  it("fails when a shard is missing, naming it", async () => {
    const dir = await sharded();
    await rm(join(dir, S2));
    const e = await rejected(openDir(dir));
    expect([e.code, e.exitCode]).toEqual(["weights/shard-missing", 2]);
    expect(e.message).toContain(S2);
    expect(e.message).toContain("1 of 2");
  });

  it("fails when a weight_map entry is not in its shard", async () => {
    const dir = await sharded({ "a.weight": S1, "b.weight": S1, "c.weight": S2, "d.weight": S2 });
    const e = await rejected(openDir(dir));
    expect(e.code).toBe("weights/missing-tensor");
    expect(e.message).toContain(`d.weight (→ ${S2})`);
    const moved = await sharded({ "a.weight": S2, "b.weight": S1, "c.weight": S2 });
    expect((await rejected(openDir(moved))).message).toContain("a.weight");
  });

  it("warns about a tensor in a shard but not in the map, and still indexes it", async () => {
    const dir = await sharded(undefined, { name: "extra.bias", shard: S1 });
    const diag = new DiagnosticSink();
    const index = await openDir(dir, diag);
    expect(index.has("extra.bias")).toBe(true);
    const codes = diag.sorted().map((d) => d.code);
    expect(codes).toContain("weights/unmapped-tensor");
    expect(codes).toContain("weights/total-size"); // 24 declared, 32 present
    expect(diag.hasErrors).toBe(false);
  });

  it.each([
    ["/etc/passwd", "absolute"],
    ["../outside.safetensors", "'..'"],
    ["sub/../../x.safetensors", "'..'"],
    ["sub\\x.safetensors", "backslash"],
    ["C:x.safetensors", "absolute"],
    ["", "non-empty"],
  ])("rejects the shard name %j", async (name, why) => {
    const dir = await sharded({ "a.weight": name });
    const e = await rejected(openDir(dir));
    expect([e.code, e.exitCode]).toEqual(["weights/bad-shard-name", 2]);
    expect(e.message).toContain(why);
    expect(e.at?.jsonPath).toBe('$.weight_map["a.weight"]');
  });

  it("accepts shards in a subdirectory", async () => {
    expect(() =>
      checkShardName("sub/model.safetensors", "/m/model.safetensors.index.json", "$"),
    ).not.toThrow();
  });

  it("rejects an index that is not JSON or has no weight_map", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "model.safetensors.index.json"), "{oops");
    expect((await rejected(openDir(dir))).code).toBe("weights/index-json");
    await writeFile(join(dir, "model.safetensors.index.json"), '{"weight_map": []}');
    expect((await rejected(openDir(dir))).code).toBe("weights/index-json");
    await writeFile(join(dir, "model.safetensors.index.json"), '{"weight_map": {}}');
    expect((await rejected(openDir(dir))).code).toBe("weights/index-empty");
  });
});

describe("safetensors files on disk", () => {
  it("rejects an empty file and a truncated file", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "empty.safetensors"), "");
    const empty = await rejected(readSafetensorsHeader(join(dir, "empty.safetensors")));
    expect([empty.code, empty.exitCode]).toEqual(["safetensors/empty-file", 2]);
    const whole = safetensorsBytes([{ name: "w", dtype: "F32", shape: [8] }]);
    await writeFile(join(dir, "cut.safetensors"), whole.subarray(0, whole.length - 1));
    const cut = await rejected(readSafetensorsHeader(join(dir, "cut.safetensors")));
    expect([cut.code, cut.exitCode]).toEqual(["safetensors/truncated", 2]);
    await writeFile(join(dir, "head.safetensors"), whole.subarray(0, 20));
    expect((await rejected(readSafetensorsHeader(join(dir, "head.safetensors")))).code).toBe(
      "safetensors/truncated",
    );
  });

  it("rejects wrong offsets in a file on disk", async () => {
    const dir = await tempDir();
    const bytes = safetensorsBytes([{ name: "w", dtype: "F32", shape: [2] }]);
    const text = Buffer.from(bytes).toString("latin1").replace("[0,8]", "[0,9]");
    await writeFile(join(dir, "bad.safetensors"), Buffer.from(text, "latin1"));
    const e = await rejected(readSafetensorsHeader(join(dir, "bad.safetensors")));
    expect(e.code).toBe("safetensors/span");
    expect(e.at?.file).toBe(join(dir, "bad.safetensors"));
  });

  it("reports a missing file and a directory", async () => {
    const dir = await tempDir();
    expect((await rejected(readSafetensorsHeader(join(dir, "nope.safetensors")))).code).toBe(
      "safetensors/file-missing",
    );
    await mkdir(join(dir, "d.safetensors"));
    expect((await rejected(readSafetensorsHeader(join(dir, "d.safetensors")))).exitCode).toBe(2);
  });

  it("maps permission errors to exit code 4 and other fs errors to typed errors", () => {
    const eacces = Object.assign(new Error("EACCES: permission denied"), { code: "EACCES" });
    expect(fsError(eacces, "/m/x.safetensors", "opening it")).toMatchObject({
      code: "safetensors/unreadable",
      exitCode: 4,
    });
    const eio = Object.assign(new Error("EIO: i/o error"), { code: "EIO" });
    expect(fsError(eio, "/m/x.safetensors", "reading")).toMatchObject({
      code: "safetensors/io",
      exitCode: 4,
    });
  });

  it("reports an unreadable file with exit code 4 (skipped when chmod cannot deny access)", async (ctx) => {
    const dir = await tempDir();
    const file = join(dir, "locked.safetensors");
    await writeFile(file, safetensorsBytes([{ name: "w", dtype: "U8", shape: [1] }]));
    await chmod(file, 0o000);
    const denied = await open(file, "r").then(
      (fh) => fh.close().then(() => false),
      () => true,
    );
    if (!denied) {
      console.warn("skipped: unreadable-file test (running as root, chmod 000 does not deny reads)");
      await chmod(file, 0o644);
      ctx.skip();
      return;
    }
    const e = await rejected(readSafetensorsHeader(file));
    expect([e.code, e.exitCode]).toEqual(["safetensors/unreadable", 4]);
    expect(e.message).toContain("permission denied");
    await chmod(file, 0o644);
  });
});
