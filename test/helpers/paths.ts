/** Where the tests find the repository, the shipped example configs and the shared config collection. */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const EXAMPLE_CONFIGS = fileURLToPath(new URL("../../examples/configs", import.meta.url));
/** `../shared/configs` next to the repository: real published configs, absent on some machines. */
export const SHARED_CONFIGS = fileURLToPath(new URL("../../../shared/configs", import.meta.url));
export const HAVE_SHARED = existsSync(SHARED_CONFIGS);
