/** The PccxError a call throws or a promise rejects with, for assertions on its code, message and location. */
import { isPccxError, type PccxError } from "../../src/diag/index.js";

/** Runs `f` and returns the PccxError it throws; any other exception propagates, none fails the test. */
export function thrown(f: () => unknown): PccxError {
  try {
    f();
  } catch (e) {
    if (isPccxError(e)) return e;
    throw e;
  }
  throw new Error("expected a PccxError, nothing was thrown");
}

/** Awaits `p` (or calls and awaits it) and returns the PccxError it rejects with (same rules as thrown). */
export async function rejected(p: Promise<unknown> | (() => Promise<unknown>)): Promise<PccxError> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    if (isPccxError(e)) return e;
    throw e;
  }
  throw new Error("expected a PccxError, nothing was thrown");
}
