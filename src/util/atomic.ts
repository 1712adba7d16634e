/**
 * Atomic outputs: files are written to a temporary sibling and renamed; whole output directories
 * are built in a temporary sibling directory and renamed at the end, so an interrupted or failed run
 * never leaves a half-written artifact behind.
 */
import { randomBytes } from "node:crypto";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

function tempSibling(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`);
}

export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempSibling(path);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/**
 * A directory built in a temporary sibling. `commit()` replaces `finalPath` with it (removing an
 * existing directory there first); `abort()` removes the temporary directory.
 */
export class AtomicDir {
  readonly tempPath: string;
  private finished = false;

  private constructor(readonly finalPath: string) {
    this.tempPath = tempSibling(finalPath);
  }

  static async create(finalPath: string): Promise<AtomicDir> {
    const d = new AtomicDir(finalPath);
    await mkdir(d.tempPath, { recursive: true });
    return d;
  }

  path(rel: string): string {
    return join(this.tempPath, rel);
  }

  async write(rel: string, data: string | Uint8Array): Promise<void> {
    const p = this.path(rel);
    await mkdir(dirname(p), { recursive: true });
    await writeFile(p, data);
  }

  async commit(): Promise<void> {
    if (this.finished) return;
    await rm(this.finalPath, { recursive: true, force: true });
    await rename(this.tempPath, this.finalPath);
    this.finished = true;
  }

  async abort(): Promise<void> {
    if (this.finished) return;
    await rm(this.tempPath, { recursive: true, force: true });
    this.finished = true;
  }
}
