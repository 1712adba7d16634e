/**
 * Building blocks of the target schema: number kinds with messages a person can act on, hex
 * addresses, and defaults that carry the source of their value (shown by `targets show --explain`
 * and in docs/targets.md).
 */
import { z } from "zod";

/** JSON Schema keyword under which a default value's source is recorded. */
export const DEFAULT_SOURCE_KEY = "x-default-source";

export const posInt = (doc: string) =>
  z
    .number({ error: "expected a positive integer" })
    .int({ error: "expected a positive integer" })
    .positive({ error: "expected a positive integer" })
    .describe(doc);

export const nonNegInt = (doc: string) =>
  z
    .number({ error: "expected an integer >= 0" })
    .int({ error: "expected an integer >= 0" })
    .nonnegative({ error: "expected an integer >= 0" })
    .describe(doc);

export const posNum = (doc: string) =>
  z
    .number({ error: "expected a positive number" })
    .positive({ error: "expected a positive number" })
    .describe(doc);

export const nonNegNum = (doc: string) =>
  z
    .number({ error: "expected a number >= 0" })
    .nonnegative({ error: "expected a number >= 0" })
    .describe(doc);

/** A fraction in (0, 1], e.g. an achievable share of a peak bandwidth. */
export const fraction = (doc: string) =>
  z
    .number({ error: "expected a number in (0, 1]" })
    .positive({ error: "expected a number in (0, 1]" })
    .max(1, { error: "expected a number in (0, 1]" })
    .describe(doc);

/** A bit position inside a register or word of `width` bits. */
export const bitIndex = (width: number, doc: string) =>
  z
    .number({ error: `expected a bit index 0..${width - 1}` })
    .int({ error: `expected a bit index 0..${width - 1}` })
    .min(0, { error: `expected a bit index 0..${width - 1}` })
    .max(width - 1, { error: `expected a bit index 0..${width - 1}` })
    .describe(doc);

/** An integer in [min, max] (inclusive). */
export const intIn = (min: number, max: number, doc: string) =>
  z
    .number({ error: `expected an integer ${min}..${max}` })
    .int({ error: `expected an integer ${min}..${max}` })
    .min(min, { error: `expected an integer ${min}..${max}` })
    .max(max, { error: `expected an integer ${min}..${max}` })
    .describe(doc);

const HEX_RE = /^0x[0-9a-fA-F](_?[0-9a-fA-F])*$/;

/**
 * An address or register offset written as a hex string ("0xA000_1000"; underscores group digits),
 * parsed to a number. Hardware documents write addresses in hex, so the file does too.
 */
export const hexAddr = (doc: string) =>
  z
    .string({ error: 'expected a hex string such as "0xA000_1000"' })
    .regex(HEX_RE, { error: 'expected a hex string such as "0xA000_1000"' })
    .refine((s) => s.replaceAll("_", "").length <= 2 + 13, {
      error: "expected a hex value below 2^52",
    })
    .transform((s) => Number.parseInt(s.replaceAll("_", ""), 16))
    .describe(doc);

export const name = (doc: string) =>
  z
    .string({ error: "expected a name" })
    .regex(/^[a-z0-9][a-z0-9._-]*$/, {
      error: "expected a lower-case name of letters, digits, '.', '_' or '-'",
    })
    .describe(doc);

export const text = (doc: string) => z.string({ error: "expected a string" }).describe(doc);

export const flag = (doc: string) => z.boolean({ error: "expected true or false" }).describe(doc);

/**
 * A default value with the reason it is right. The source lands in the JSON Schema next to
 * `default`, where provenance and the docs generator find it.
 */
export function withDefault<T extends z.ZodType>(schema: T, value: z.output<T>, source: string) {
  // biome-ignore lint/suspicious/noExplicitAny: zod's default() parameter type is not expressible generically
  return (schema as any).default(value).meta({ [DEFAULT_SOURCE_KEY]: source }) as z.ZodDefault<T>;
}
