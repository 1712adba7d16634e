import { afterAll, describe, expect, it } from "vitest";
import { ExitCode } from "../../src/diag/index.js";
import { loadTarget, targetFromJson, targetFromText } from "../../src/target/index.js";
import { builtinJson, builtinText, type EditableJson, expectPccx, tempDir } from "./helpers.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

/** Load a modified copy of kv260-v002 written to a temporary file named `file`. */
function loadModified(file: string, edit: (d: EditableJson) => void) {
  const d = builtinJson("kv260-v002");
  d.name = "x";
  edit(d);
  const path = tmp.write(file, JSON.stringify(d, null, 2));
  return () => loadTarget(path, [], { cwd: tmp.dir });
}

describe("schema errors name the file, the JSON path, the expectation and the value", () => {
  it("a negative port width", () => {
    const e = expectPccx(
      loadModified("x.json", (d) => {
        d.ports[2].width_bits = -1;
      }),
      "target/invalid",
      ExitCode.INVALID_INPUT,
    );
    expect(e.message).toBe("x.json at $.ports[2].width_bits: expected a positive integer, got -1");
    expect(e.at).toMatchObject({ file: "x.json", jsonPath: "$.ports[2].width_bits" });
    // the line of the value in the written file
    const lines = JSON.stringify({ ...builtinJson("kv260-v002"), name: "x" }, null, 2).split("\n");
    const hp2 = lines.findIndex((l) => l.includes('"name": "hp2"'));
    expect(lines[e.at!.line! - 1]).toContain('"width_bits"');
    expect(e.at!.line!).toBeGreaterThan(hp2);
  });

  it("a misspelt key, with a suggestion, and the missing field it left behind", () => {
    const e = expectPccx(
      loadModified("typo.json", (d) => {
        d.ddr.effciency = d.ddr.efficiency;
        delete d.ddr.efficiency;
      }),
      "target/invalid",
      2,
    );
    const all = [e.message, ...e.notes].join("\n");
    expect(all).toContain(
      'typo.json at $.ddr.effciency: unknown field "effciency" (did you mean "efficiency"?)',
    );
    expect(all).toContain(
      "typo.json at $.ddr.efficiency: required field is missing (expected a number in (0, 1])",
    );
  });

  it("a value outside an enum lists the allowed values", () => {
    const e = expectPccx(
      loadModified("enum.json", (d) => {
        d.ports[1].feeds = ["gpu"];
      }),
      "target/invalid",
      2,
    );
    expect(e.message).toBe(
      'enum.json at $.ports[1].feeds[0]: expected one of "gemm", "gemv", "l2", got "gpu"',
    );
  });

  it("an efficiency above 1 and a malformed hex address, all reported", () => {
    const e = expectPccx(
      loadModified("multi.json", (d) => {
        d.ddr.efficiency = 1.5;
        d.mmio.npu_page = "A0000000";
      }),
      "target/invalid",
      2,
    );
    const all = [e.message, ...e.notes];
    expect(all).toContain(
      'multi.json at $.mmio.npu_page: expected a hex string such as "0xA000_1000", got "A0000000"',
    );
    expect(all).toContain("multi.json at $.ddr.efficiency: expected a number in (0, 1], got 1.5");
  });

  it("a wrong type and a wrong ISA version", () => {
    const e = expectPccx(
      () =>
        targetFromJson({ ...builtinJson("kv260-v002"), clocks: { core_mhz: "400", axi_mhz: 250 } }, "t.json"),
      "target/invalid",
      2,
    );
    expect(e.message).toBe('t.json at $.clocks.core_mhz: expected a positive number, got "400"');
    const v = builtinJson("kv260-v002");
    v.isa.version = "v003";
    expect(() => targetFromJson(v, "v.json")).toThrow(/at \$\.isa\.version: expected "v002"/);
  });

  it("the top-level value must be an object", () => {
    expectPccx(() => targetFromText("[1, 2]", "arr.json"), "target/invalid", 2);
  });
});

describe("invalid JSON is reported by line and column", () => {
  it("a trailing comma", () => {
    const text = '{\n  "name": "x",\n  "format": "pccxc-target/1",\n}\n';
    const e = expectPccx(() => targetFromText(text, "trail.json"), "target/json", 2);
    expect(e.at).toMatchObject({ file: "trail.json", line: 4, column: 1 });
    expect(e.message).toMatch(/^trail\.json:4:1: invalid JSON: /);
  });

  it("a missing colon deep in a real file", () => {
    const text = builtinText("kv260-v002").replace('"core_mhz": 400', '"core_mhz" 400');
    const lineNo = text.split("\n").findIndex((l) => l.includes('"core_mhz" 400')) + 1;
    const e = expectPccx(() => targetFromText(text, "colon.json"), "target/json", 2);
    expect(e.at?.line).toBe(lineNo);
    expect(e.message).toContain('expected ":"');
  });

  it("an unterminated file", () => {
    const e = expectPccx(() => targetFromText('{"name": "x"', "short.json"), "target/json", 2);
    expect(e.at).toMatchObject({ line: 1, column: 13 });
  });
});

describe("finding targets", () => {
  it("an unknown name lists the built-in targets (exit 2)", () => {
    const e = expectPccx(() => loadTarget("kv260"), "target/unknown", 2);
    expect(e.message).toContain("kv260-v002, kv260-v002-ext, kv260-v002-rtl");
  });

  it("a missing file is an I/O error (exit 4) that also lists the built-ins", () => {
    const e = expectPccx(() => loadTarget("no/such/target.json", [], { cwd: tmp.dir }), "target/read", 4);
    expect(e.message).toContain("no such file");
    expect(e.notes.join(" ")).toContain("kv260-v002-rtl");
  });

  it("a built-in loaded by path works like the name", () => {
    const byPath = loadTarget(new URL("../../targets/kv260-v002.json", import.meta.url).pathname);
    expect(byPath.fingerprint).toBe(loadTarget("kv260-v002").fingerprint);
  });

  it("an extends cycle is reported", () => {
    tmp.write("a.json", JSON.stringify({ name: "a", extends: "./b.json" }));
    const b = tmp.write("b.json", JSON.stringify({ name: "b", extends: "./a.json" }));
    expectPccx(() => loadTarget(b), "target/extends-cycle", 2);
  });

  it("a file that extends another must carry its own name", () => {
    const e = expectPccx(() => targetFromJson({ extends: "kv260-v002" }), "target/invalid", 2);
    expect(e.message).toContain("$.name");
  });
});
