/**
 * zod building blocks for config keys. Each carries the message a user sees ("expected a
 * positive integer"), so errors read the same whatever the family.
 */
import { z } from "zod";

const nul = <T extends z.ZodType>(s: T, msg: string) => z.union([z.null(), s], { error: `${msg} or null` });

const posIntS = (m = "expected a positive integer") =>
  z.number({ error: m }).int({ error: m }).positive({ error: m });
const nonNegIntS = (m = "expected a non-negative integer") =>
  z.number({ error: m }).int({ error: m }).nonnegative({ error: m });
const numS = (m = "expected a finite number") => z.number({ error: m });
const posNumS = (m = "expected a positive number") => z.number({ error: m }).positive({ error: m });

export const F = {
  posInt: () => posIntS().optional(),
  posIntOrNull: () => nul(posIntS(), "expected a positive integer").optional(),
  nonNegInt: () => nonNegIntS().optional(),
  nonNegIntOrNull: () => nul(nonNegIntS(), "expected a non-negative integer").optional(),
  num: () => numS().optional(),
  numOrNull: () => nul(numS(), "expected a finite number").optional(),
  posNum: () => posNumS().optional(),
  posNumOrNull: () => nul(posNumS(), "expected a positive number").optional(),
  bool: () => z.boolean({ error: "expected true or false" }).optional(),
  str: () => z.string({ error: "expected a string" }).optional(),
  strOrNull: () => nul(z.string({ error: "expected a string" }), "expected a string").optional(),
  /** A scalar width, or one per layer (Gemma 3n MatFormer). */
  intOrIntList: () =>
    z
      .union([posIntS(), z.array(posIntS(), { error: "expected a list of positive integers" })], {
        error: "expected a positive integer or a list of positive integers",
      })
      .optional(),
  intList: () => z.array(nonNegIntS(), { error: "expected a list of non-negative integers" }).optional(),
  intListOrNull: () =>
    nul(
      z.array(nonNegIntS(), { error: "expected a list of non-negative integers" }),
      "expected a list",
    ).optional(),
  numList: () => z.array(numS(), { error: "expected a list of numbers" }).optional(),
  strList: () =>
    z.array(z.string({ error: "expected a string" }), { error: "expected a list of strings" }).optional(),
  strListOrNull: () =>
    nul(z.array(z.string({ error: "expected a string" })), "expected a list of strings").optional(),
  /** A JSON object whose inner keys another step checks (rope dicts, quantization_config). */
  objOrNull: () =>
    nul(z.record(z.string(), z.unknown(), { error: "expected an object" }), "expected an object").optional(),
  obj: () => z.record(z.string(), z.unknown(), { error: "expected an object" }).optional(),
  /** eos_token_id and friends: an id or a list of ids. */
  tokenIds: () =>
    z
      .union([z.null(), nonNegIntS(), z.array(nonNegIntS())], {
        error: "expected a token id, a list of token ids, or null",
      })
      .optional(),
  any: () => z.unknown().optional(),
};

export type Shape = Record<string, z.ZodType>;
