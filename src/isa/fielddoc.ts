/**
 * The instruction-format section of docs/isa.md, rendered from the table: the opcode map, then per
 * opcode (opcodes sharing one body are shown together) a field table with flag bits as sub-rows,
 * the reserved combinations and the word formula. `spliceGenerated` puts it between the
 * `<!-- BEGIN GENERATED: isa-fields -->` / `<!-- END GENERATED: isa-fields -->` markers.
 */

import { bitRange } from "./codec.js";
import { type CompiledField, type CompiledOpcode, compiledIsa, hex, type IsaOptions } from "./compiled.js";

export const FIELD_DOC_MARKER = "isa-fields";

export function renderFieldDoc(opts?: IsaOptions): string {
  const isa = compiledIsa(opts);
  const ops = isa.byCode.filter((o): o is CompiledOpcode => o !== undefined);
  const { lsb, width } = isa.table.opcode;
  const out = [
    `${isa.table.doc}. Opcode = word[${bitRange(lsb, width)}]; the body is word[${lsb - 1}:0].`,
    "",
    "| code | mnemonic | what it does |",
    "|---|---|---|",
  ];
  for (let code = 0; code < 2 ** width; code++) {
    const op = isa.byCode[code];
    const note = isa.reservedOpcodeDoc.get(code);
    if (op) out.push(`| 0x${hex(code)} | ${op.mnemonic} | ${op.spec.doc} |`);
    else if (note) out.push(`| 0x${hex(code)} | — | reserved (${note}) |`);
  }
  out.push(`| others | — | reserved |`, "");
  const groups: CompiledOpcode[][] = [];
  for (const op of ops) {
    const g = groups.find((x) => x[0]!.spec.fields === op.spec.fields);
    if (g) g.push(op);
    else groups.push([op]);
  }
  for (const g of groups) out.push(...opcodeSection(g, lsb));
  return out.join("\n");
}

function opcodeSection(group: readonly CompiledOpcode[], opcodeLsb: number): string[] {
  const op = group[0]!;
  const title = group.map((o) => `${o.mnemonic} (0x${hex(o.code)})`).join(" / ");
  const out = [
    `### ${title}`,
    "",
    "| bits | width | field | kind | values | meaning |",
    "|---|---|---|---|---|---|",
  ];
  for (const f of op.fields) out.push(...fieldRows(f));
  out.push("");
  for (const c of op.combinations) {
    const which = c.slots.map((s, i) => `${op.valueFields[s]!.name}=${c.values[i]}`).join(", ");
    out.push(`Reserved combination (${which}): ${c.doc}.`, "");
  }
  const parts = op.valueFields.map((f) => `${f.name}<<${f.lsb}`);
  for (const o of group)
    out.push(`- ${o.mnemonic} word = \`0x${hex(o.code)}<<${opcodeLsb} | ${parts.join(" | ")}\``);
  out.push("");
  return out;
}

function fieldRows(f: CompiledField): string[] {
  const row = (bits: string, width: number, name: string, kind: string, values: string, doc: string) =>
    `| ${bits} | ${width} | ${name} | ${kind} | ${values} | ${doc} |`;
  const bits = bitRange(f.lsb, f.width);
  switch (f.kind) {
    case "reserved":
      return [row(bits, f.width, "*reserved*", "reserved", "0", f.spec.doc)];
    case "uint": {
      const aliases = [...f.names].map(([n, v]) => `${v} = \`${n}\``);
      const range = `0..${f.limit}${f.limit < f.mask ? ` (${f.limit + 1}..${f.mask} reserved)` : ""}`;
      return [row(bits, f.width, `\`${f.name}\``, "uint", [range, ...aliases].join("; "), f.spec.doc)];
    }
    case "enum": {
      const values = [...f.names].map(([n, v]) => `${v} \`${n}\``).join(", ");
      const ext = f.spec.kind === "enum" ? f.spec.extensionCodes : undefined;
      const extText = ext ? `; 0x${hex(ext.min)}–0x${hex(ext.max)}: target extensions` : "";
      return [row(bits, f.width, `\`${f.name}\``, "enum", values + extText, f.spec.doc)];
    }
    case "flags": {
      const spec = f.spec.kind === "flags" ? f.spec : undefined;
      const subs = (spec?.bits ?? []).map((b) =>
        row(
          bitRange(f.lsb + b.lsb, b.width),
          b.width,
          b.kind === "flag" ? `↳ \`${f.name}.${b.name}\`` : "↳ *reserved*",
          b.kind,
          b.kind === "flag" ? "0/1" : "0",
          b.doc,
        ),
      );
      const names = f.flags.map((b) => b.name).join("\\|");
      return [row(bits, f.width, `\`${f.name}\``, "flags", `\`${names}\` or 0`, f.spec.doc), ...subs];
    }
  }
}

/** `doc` with the text between the BEGIN/END GENERATED markers named `marker` replaced by `content`. */
export function spliceGenerated(doc: string, marker: string, content: string): string {
  const begin = `<!-- BEGIN GENERATED: ${marker} -->`;
  const end = `<!-- END GENERATED: ${marker} -->`;
  const i = doc.indexOf(begin);
  const j = doc.indexOf(end);
  if (i < 0 || j < i) throw new Error(`markers ${begin} / ${end} not found`);
  return `${doc.slice(0, i + begin.length)}\n${content.trimEnd()}\n${doc.slice(j)}`;
}
