/**
 * Reading one safetensors file's header from disk: the 8-byte length, then exactly the JSON
 * bytes, checked against the file size. Only the header is read; the handle is closed afterwards
 * (data is read later, lazily, through a TensorIndex).
 */
import { open } from "node:fs/promises";
import { parseHeaderBody, readHeaderLength, type SafetensorsHeader } from "./header.js";
import { fsError, readFully } from "./io.js";

export async function readSafetensorsHeader(file: string): Promise<SafetensorsHeader> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(file, "r");
  } catch (e) {
    throw fsError(e, file, "opening it");
  }
  try {
    let size: number;
    try {
      const st = await fh.stat();
      if (st.isDirectory()) throw Object.assign(new Error("is a directory"), { code: "EISDIR" });
      size = st.size;
    } catch (e) {
      throw fsError(e, file, "reading its size");
    }
    const prefix = new Uint8Array(8);
    if (size >= 8) await readFully(fh, file, prefix, 0, 8, 0);
    const n = readHeaderLength(prefix, size, file);
    const body = new Uint8Array(n);
    await readFully(fh, file, body, 0, n, 8);
    return parseHeaderBody(body, n, size, file);
  } finally {
    await fh.close().catch(() => undefined);
  }
}
