/**
 * A plain table (columns + rows of cells) and its two text forms: a GitHub-flavoured markdown
 * table for report.md and RFC 4180 CSV for layers.csv. The HTML renderer draws the same type.
 */

export type Cell = string | number | null;

export interface Column {
  readonly label: string;
  /** Default: right when every non-empty cell of the column is a number, else left. */
  readonly align?: "left" | "right";
}

export interface Table {
  readonly columns: readonly Column[];
  /** Each row has one cell per column; `null` is an empty cell. */
  readonly rows: readonly (readonly Cell[])[];
}

/** Plain text of a cell: numbers in JavaScript's shortest round-trip form, `null` empty. */
export function cellText(c: Cell | undefined): string {
  if (c === null || c === undefined) return "";
  return typeof c === "number" ? String(c) : c;
}

/** A cell for people (markdown, HTML): integer parts grouped by thousands, "1,234,567.5". */
export function humanCellText(c: Cell | undefined): string {
  if (typeof c !== "number" || !Number.isFinite(c)) return cellText(c);
  const s = String(Math.abs(c));
  if (s.includes("e")) return String(c);
  const [int, frac] = s.split(".");
  const grouped = int!.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${c < 0 ? "-" : ""}${grouped}${frac !== undefined ? `.${frac}` : ""}`;
}

export function columnAlign(t: Table, col: number): "left" | "right" {
  const given = t.columns[col]?.align;
  if (given) return given;
  const cells = t.rows.map((r) => r[col]).filter((c) => c !== null && c !== undefined);
  return cells.length > 0 && cells.every((c) => typeof c === "number") ? "right" : "left";
}

/** Escapes what would break a GFM table cell or start inline formatting; newlines become spaces. */
export function escapeMarkdownCell(s: string): string {
  return (
    s
      .replace(/\r\n|\r|\n/g, " ")
      .replace(/[\\|`*[\]<]/g, (c) => `\\${c}`)
      // "_" only starts or ends emphasis at a word boundary (GFM); inside snake_case it stays bare.
      .replace(/(^|\W)_|_(?=\W|$)/g, (m) => m.replace("_", "\\_"))
      .trim()
  );
}

/** A GFM table, columns padded so the source reads as a table too; ends with a newline. */
export function markdownTable(t: Table): string {
  const head = t.columns.map((c) => escapeMarkdownCell(c.label));
  const body = t.rows.map((r) => t.columns.map((_, i) => escapeMarkdownCell(humanCellText(r[i]))));
  const aligns = t.columns.map((_, i) => columnAlign(t, i));
  const width = t.columns.map((_, i) => Math.max(3, ...[head, ...body].map((row) => [...row[i]!].length)));
  const pad = (s: string, i: number) => {
    const fill = " ".repeat(width[i]! - [...s].length);
    return aligns[i] === "right" ? fill + s : s + fill;
  };
  const line = (cells: readonly string[]) => `| ${cells.map(pad).join(" | ")} |`;
  const rule = `| ${width.map((w, i) => (aligns[i] === "right" ? `${"-".repeat(w - 1)}:` : "-".repeat(w))).join(" | ")} |`;
  return `${[line(head), rule, ...body.map(line)].join("\n")}\n`;
}

/** One CSV field, quoted (quotes doubled) when it holds a comma, quote, CR or LF (RFC 4180 §2). */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** RFC 4180 CSV: a header record of the column labels, CRLF after every record. */
export function toCsv(t: Table): string {
  const records = [
    t.columns.map((c) => csvField(c.label)),
    ...t.rows.map((r) => t.columns.map((_, i) => csvField(cellText(r[i])))),
  ];
  return records.map((r) => `${r.join(",")}\r\n`).join("");
}
