/**
 * File access for the reader: positional reads at absolute offsets in bounded pieces (never a
 * whole file, never a single read of 2 GiB or more), lazily opened handles that can be closed,
 * and the mapping of Node's fs errors to PccxErrors with the right exit code.
 */
import { type FileHandle, open } from "node:fs/promises";
import { invalidInput, ioError, isPccxError, type PccxError } from "../../diag/index.js";

/** The largest single positional read; well under the 2 GiB limit of one fs read. */
export const MAX_READ_BYTES = 64 * 1024 * 1024;

/** Maps an fs error (ENOENT, EACCES, EISDIR...) about `file` to a PccxError. */
export function fsError(e: unknown, file: string, doing: string): PccxError {
  if (isPccxError(e)) return e;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const msg = e instanceof Error ? e.message : String(e);
  if (code === "ENOENT") {
    return invalidInput("safetensors/file-missing", `${file} does not exist (while ${doing})`, {
      at: { file },
      fix: "check the path, or re-download the model",
    });
  }
  if (code === "EISDIR") {
    return invalidInput("safetensors/not-a-file", `${file} is a directory, not a safetensors file`, {
      at: { file },
    });
  }
  if (code === "EACCES" || code === "EPERM") {
    return ioError("safetensors/unreadable", `cannot read ${file}: permission denied (while ${doing})`, {
      at: { file },
      fix: `make the file readable (e.g. chmod a+r '${file}')`,
    });
  }
  return ioError("safetensors/io", `cannot read ${file} (while ${doing}): ${msg}`, { at: { file } });
}

/**
 * Reads exactly `length` bytes at absolute `position` into `dst[dstOffset..)`, in pieces of at
 * most MAX_READ_BYTES. A short read means the file shrank after its header was checked.
 */
export async function readFully(
  fh: FileHandle,
  file: string,
  dst: Uint8Array,
  dstOffset: number,
  length: number,
  position: number,
): Promise<void> {
  let done = 0;
  while (done < length) {
    const want = Math.min(MAX_READ_BYTES, length - done);
    let n: number;
    try {
      ({ bytesRead: n } = await fh.read(dst, dstOffset + done, want, position + done));
    } catch (e) {
      throw fsError(e, file, `reading ${want} bytes at offset ${position + done}`);
    }
    if (n === 0) {
      throw invalidInput(
        "safetensors/truncated",
        `${file} ended at byte ${position + done} while reading ${length} bytes at offset ${position} ` +
          "(the file changed or was truncated after its header was read)",
        { at: { file, byteOffset: position + done }, fix: "re-download the file" },
      );
    }
    done += n;
  }
}

/** Lazily opened read-only handles, one per file, shared by all readers of a TensorIndex. */
export class FilePool {
  private readonly handles = new Map<string, Promise<FileHandle>>();

  get(file: string): Promise<FileHandle> {
    let h = this.handles.get(file);
    if (!h) {
      h = open(file, "r").catch((e: unknown) => {
        this.handles.delete(file);
        throw fsError(e, file, "opening it");
      });
      this.handles.set(file, h);
    }
    return h;
  }

  /** Number of files currently open (or being opened). */
  get openCount(): number {
    return this.handles.size;
  }

  async close(): Promise<void> {
    const all = [...this.handles.values()];
    this.handles.clear();
    await Promise.all(all.map((p) => p.then((fh) => fh.close()).catch(() => undefined)));
  }
}
