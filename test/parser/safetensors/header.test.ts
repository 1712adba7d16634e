import { describe, expect, it } from "vitest";
import { DTYPE_NAMES, dtypeInfo } from "../../../src/parser/safetensors/dtype.js";
import { MAX_HEADER_BYTES, parseSafetensorsBytes } from "../../../src/parser/safetensors/header.js";
import { thrown } from "../../helpers/errors.js";
import { rawFile, safetensorsBytes } from "./fixtures.js";

const parse = (b: Uint8Array) => parseSafetensorsBytes(b, "m.safetensors");

describe("safetensors header: valid files", () => {
  it("parses tensors, metadata and absolute layout", () => {
    const bytes = safetensorsBytes(
      [
        { name: "b", dtype: "BF16", shape: [2, 3] },
        { name: "a", dtype: "F32", shape: [4] },
      ],
      { format: "pt" },
    );
    const h = parse(bytes);
    expect(h.metadata).toEqual({ format: "pt" });
    expect(h.dataStart).toBe(8 + h.headerLength);
    expect(h.headerLength % 8).toBe(0);
    expect(h.tensors.map((t) => [t.name, t.dtype, t.shape, t.begin, t.end])).toEqual([
      ["b", "BF16", [2, 3], 0, 12],
      ["a", "F32", [4], 12, 28],
    ]);
    expect(h.fileSize).toBe(bytes.length);
  });

  it("sorts entries by offset whatever the JSON order", () => {
    const header = {
      z: { dtype: "U8", shape: [2], data_offsets: [0, 2] },
      a: { dtype: "U8", shape: [3], data_offsets: [2, 5] },
    };
    const h = parse(rawFile({ a: header.a, z: header.z }, 5));
    expect(h.tensors.map((t) => t.name)).toEqual(["z", "a"]);
  });

  it("keeps tensors named like Object.prototype members", () => {
    const h = parse(
      safetensorsBytes(
        ["__proto__", "constructor", "toString"].map((name) => ({ name, dtype: "U8", shape: [1] })),
      ),
    );
    expect(h.tensors.map((t) => t.name)).toEqual(["__proto__", "constructor", "toString"]);
  });

  it("accepts zero-size tensors and an empty header object", () => {
    expect(
      parse(rawFile({ e: { dtype: "F32", shape: [0, 4], data_offsets: [0, 0] } }, 0)).tensors,
    ).toHaveLength(1);
    expect(parse(rawFile({}, 0)).tensors).toHaveLength(0);
  });

  it("knows every dtype's bit width, including packed F4 and 6-bit types", () => {
    expect(DTYPE_NAMES).toEqual(
      expect.arrayContaining([
        "F64",
        "F32",
        "F16",
        "BF16",
        "F8_E4M3",
        "F8_E5M2",
        "F8_E8M0",
        "F4",
        "I64",
        "I32",
      ]),
    );
    expect(DTYPE_NAMES).toEqual(expect.arrayContaining(["I16", "I8", "U64", "U32", "U16", "U8", "BOOL"]));
    const bits = Object.fromEntries(DTYPE_NAMES.map((d) => [d, dtypeInfo(d).bits]));
    expect(bits).toMatchObject({
      F64: 64,
      F32: 32,
      F16: 16,
      BF16: 16,
      F8_E4M3: 8,
      F8_E8M0: 8,
      F4: 4,
      BOOL: 8,
    });
    expect(bits).toMatchObject({ F6_E2M3: 6, I64: 64, U16: 16 });
    // 6 F4 values are 3 bytes; 4 F6 values are 3 bytes
    expect(
      parse(rawFile({ p: { dtype: "F4", shape: [2, 3], data_offsets: [0, 3] } }, 3)).tensors[0]!.end,
    ).toBe(3);
    expect(
      parse(rawFile({ p: { dtype: "F6_E3M2", shape: [4], data_offsets: [0, 3] } }, 3)).tensors,
    ).toHaveLength(1);
  });
});

describe("safetensors header: rejected files (exit code 2, precise location)", () => {
  it("rejects an empty file", () => {
    const e = thrown(() => parse(new Uint8Array(0)));
    expect([e.code, e.exitCode]).toEqual(["safetensors/empty-file", 2]);
  });

  it("rejects a file shorter than the length field", () => {
    expect(thrown(() => parse(new Uint8Array(5))).code).toBe("safetensors/truncated");
  });

  it("rejects header length 0, > 100 MB, and past the end of the file", () => {
    const b = new Uint8Array(16);
    expect(thrown(() => parse(b)).code).toBe("safetensors/header-length");
    new DataView(b.buffer).setBigUint64(0, BigInt(MAX_HEADER_BYTES + 1), true);
    expect(thrown(() => parse(b)).message).toContain("exceeds");
    new DataView(b.buffer).setBigUint64(0, 2n ** 64n - 1n, true);
    expect(thrown(() => parse(b)).code).toBe("safetensors/header-length");
    new DataView(b.buffer).setBigUint64(0, 9n, true);
    const e = thrown(() => parse(b));
    expect(e.code).toBe("safetensors/truncated");
    expect(e.message).toContain("runs past the end");
  });

  it("reports invalid JSON with the byte offset of the error", () => {
    const text = '{"a": {"dtype": "F32",, }}';
    const e = thrown(() => parse(rawFile(text, 0, false)));
    expect(e.code).toBe("safetensors/header-json");
    expect(e.at?.byteOffset).toBe(8 + text.indexOf(",,") + 1);
  });

  it("rejects non-object headers and invalid UTF-8", () => {
    expect(thrown(() => parse(rawFile("[1,2]", 0, false))).code).toBe("safetensors/header-json");
    const b = rawFile('{"a\u00e9": 1}', 0, false);
    b[8 + 3] = 0xff; // break the 2-byte sequence of é
    const e = thrown(() => parse(b));
    expect(e.code).toBe("safetensors/header-utf8");
    expect(e.at?.byteOffset).toBe(11);
  });

  it("rejects unknown dtypes, naming the tensor and the JSON path", () => {
    const e = thrown(() => parse(rawFile({ w: { dtype: "F12", shape: [1], data_offsets: [0, 2] } }, 2)));
    expect(e.code).toBe("safetensors/dtype");
    expect(e.at?.jsonPath).toBe('$["w"].dtype');
    expect(e.at?.byteOffset).toBe(9);
    expect(e.message).toContain('"F12"');
  });

  it.each([
    [[-1, 2], "shape[0]"],
    [[1.5], "shape[0]"],
    [[2 ** 53], "shape[0]"],
    [["3"], "shape[0]"],
  ])("rejects shape %j", (shape, where) => {
    const e = thrown(() => parse(rawFile({ w: { dtype: "U8", shape, data_offsets: [0, 1] } }, 1)));
    expect(e.code).toBe("safetensors/shape");
    expect(e.message).toContain(where);
  });

  it("rejects malformed data_offsets", () => {
    const bad = [[0], [0, 1, 2], [2, 1], [0, -1], [0, 2 ** 60], "0-1"];
    for (const data_offsets of bad) {
      const e = thrown(() => parse(rawFile({ w: { dtype: "U8", shape: [1], data_offsets } }, 1)));
      expect(["safetensors/offsets", "safetensors/header-entry"]).toContain(e.code);
    }
  });

  it("rejects a span that is not numel × bits / 8", () => {
    const e = thrown(() => parse(rawFile({ w: { dtype: "BF16", shape: [2, 2], data_offsets: [0, 6] } }, 6)));
    expect(e.code).toBe("safetensors/span");
    expect(e.message).toContain("needs 8 bytes but data_offsets span 6");
    // 3 F4 values do not fill whole bytes
    const f4 = thrown(() => parse(rawFile({ w: { dtype: "F4", shape: [3], data_offsets: [0, 2] } }, 2)));
    expect(f4.code).toBe("safetensors/span");
  });

  it("rejects huge shapes exactly (BigInt), without overflow", () => {
    const shape = [2 ** 40, 2 ** 40];
    const e = thrown(() => parse(rawFile({ w: { dtype: "F32", shape, data_offsets: [0, 4] } }, 4)));
    expect(e.code).toBe("safetensors/span");
    expect(e.message).toContain(String(2n ** 80n * 4n));
  });

  it("rejects gaps, overlaps and data not starting at 0", () => {
    const gap = {
      a: { dtype: "U8", shape: [2], data_offsets: [0, 2] },
      b: { dtype: "U8", shape: [2], data_offsets: [3, 5] },
    };
    expect(thrown(() => parse(rawFile(gap, 5))).code).toBe("safetensors/gap");
    const lap = {
      a: { dtype: "U8", shape: [2], data_offsets: [0, 2] },
      b: { dtype: "U8", shape: [2], data_offsets: [1, 3] },
    };
    const e = thrown(() => parse(rawFile(lap, 3)));
    expect(e.code).toBe("safetensors/overlap");
    expect(e.at?.jsonPath).toBe('$["b"].data_offsets');
    const late = { a: { dtype: "U8", shape: [2], data_offsets: [4, 6] } };
    expect(thrown(() => parse(rawFile(late, 6))).code).toBe("safetensors/gap");
  });

  it("requires last end + 8 + header length = file size", () => {
    const h = { a: { dtype: "U8", shape: [4], data_offsets: [0, 4] } };
    expect(thrown(() => parse(rawFile(h, 3))).code).toBe("safetensors/truncated");
    const trailing = thrown(() => parse(rawFile(h, 5)));
    expect(trailing.code).toBe("safetensors/size-mismatch");
    expect(trailing.message).toContain("trailing bytes");
  });

  it("requires __metadata__ to be a string-to-string map", () => {
    expect(thrown(() => parse(rawFile({ __metadata__: { a: 1 } }, 0))).code).toBe("safetensors/metadata");
    expect(thrown(() => parse(rawFile({ __metadata__: ["x"] }, 0))).code).toBe("safetensors/metadata");
    expect(parse(rawFile({ __metadata__: { a: "1" } }, 0)).metadata).toEqual({ a: "1" });
  });

  it("rejects entries that are not objects", () => {
    const e = thrown(() => parse(rawFile({ w: [1, 2] }, 0)));
    expect(e.code).toBe("safetensors/header-entry");
    expect(e.fix).toBeTruthy();
  });
});
