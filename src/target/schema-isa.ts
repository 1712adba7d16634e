/**
 * Target schema, ISA part: the ISA version, the opcode set, the CVO (SFU) functions with their
 * operand conventions and timing, and how MEMCPY behaves. Bit positions are not here: they belong
 * to the instruction table in src/isa.
 */
import { z } from "zod";
import { flag, intIn, posNum, text, withDefault } from "./schema-common.js";

export const ENGINES = ["gemv", "gemm", "dma", "const_cache", "sfu"] as const;

export const OpcodeSchema = z
  .strictObject({
    mnemonic: z
      .string({ error: "expected an upper-case mnemonic" })
      .regex(/^[A-Z][A-Z0-9_]*$/, { error: "expected an upper-case mnemonic" })
      .describe("Instruction mnemonic, e.g. GEMV"),
    code: intIn(0, 15, "4-bit opcode value (word[63:60])"),
    unit: z.enum(ENGINES).describe("The unit that executes the instruction"),
  })
  .describe("One opcode the machine executes");

/**
 * How a CVO function reads and writes L2 (length = the instruction's element count):
 * - unary: dst[i] = f(src[i]) for i < length
 * - reduce: dst[0] = f over src[0..length)
 * - scalar_first: the scalar is the first element read at src; dst[i] = src[i] * scalar
 * - binary_dst: dst[i] = f(src[i], dst[i]) (the second operand is read at dst, like accm)
 * - rope_pairs: src holds x[length], then word-aligned cos[length/2] and sin[length/2];
 *   dst[j], dst[j+length/2] = x rotated by (cos[j], sin[j]) (rotate_half pairing)
 */
export const CVO_OPERANDS = ["unary", "reduce", "scalar_first", "binary_dst", "rope_pairs"] as const;

export const CvoFunctionSchema = z
  .strictObject({
    code: intIn(0, 15, "cvo_func value (4 bits)"),
    name: z
      .string({ error: "expected an upper-case function name" })
      .regex(/^[A-Z][A-Z0-9_]*$/, { error: "expected an upper-case function name" })
      .describe("Function name; codegen and the simulators look functions up by it (e.g. EXP, SILU)"),
    extension: withDefault(
      flag("True for a function this target adds on a reserved code (8-15); false for the documented 0-7"),
      false,
      "pccx-v002.md §1 CVO: codes 0-7 are the documented functions",
    ),
    operands: z.enum(CVO_OPERANDS).describe("Operand convention (see docs/targets.md)"),
    formula: text("What one output element is, e.g. x*sigmoid(1.702*x); the simulator implements it"),
    meaning: text("Free-text description (documentation only, not fingerprinted)"),
    latency_clk: posNum("Pipeline depth: core clocks from the first input element to the first result"),
    elements_per_clk: withDefault(
      posNum("Sustained rate: elements consumed per core clock"),
      1,
      "pccx-v002.md §2 SFU: one unit, 1 BF16 element/clk",
    ),
  })
  .describe("One CVO function of the SFU");

export const MEMCPY_DIRECTIONS = ["host_to_l2", "l2_to_host", "l2_to_l2"] as const;

export const MemcpySchema = z
  .strictObject({
    directions: z
      .array(z.enum(MEMCPY_DIRECTIONS))
      .min(1, { error: "expected at least one direction" })
      .describe("Directions MEMCPY executes as documented; others are a compile error"),
    aux_addr_supported: withDefault(
      flag("Whether the aux_addr field (host offset) is honoured"),
      true,
      "pccx-v002.md §1 MEMCPY (aux_addr documented as a host offset)",
    ),
    aux_addr_unit_bytes: posNum("Unit of aux_addr in bytes"),
    l2_to_l2_words_per_clk: posNum("L2->L2 copy rate in 128-bit words per core clock"),
  })
  .describe("MEMCPY behaviour");

export const IsaSchema = z
  .strictObject({
    version: z
      .literal("v002", { error: 'expected "v002" (the only ISA pccxc targets)' })
      .describe("ISA version"),
    opcodes: z
      .array(OpcodeSchema)
      .min(1, { error: "expected at least one opcode" })
      .describe("The opcode set"),
    cvo_functions: z
      .array(CvoFunctionSchema)
      .describe("CVO functions, documented (0-7) and extensions (8-15), with their timing"),
  })
  .describe("Instruction set: version, opcodes, CVO functions");
