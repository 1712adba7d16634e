/**
 * A strict little XML tokenizer for the tests: balanced tags, double-quoted attributes, text with
 * only the five XML entities or numeric references, no raw "<" or "&". In HTML mode it knows the
 * void elements and skips <style> content. It throws on the first violation with its offset.
 */

export interface XmlElement {
  readonly name: string;
  readonly attrs: Readonly<Record<string, string>>;
}

export interface XmlDoc {
  readonly elements: readonly XmlElement[];
  /** Decoded text nodes (whitespace-only ones dropped). */
  readonly texts: readonly string[];
}

const VOID = new Set(["meta", "br", "hr", "img", "input", "link", "col", "wbr"]);
const ENTITY = /^&(amp|lt|gt|quot|#39|apos|#\d+|#x[0-9a-fA-F]+);/;

function decode(raw: string, at: number): string {
  let out = "";
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === "<") throw new Error(`raw "<" in text at ${at + i}`);
    if (c !== "&") {
      out += c;
      continue;
    }
    const m = ENTITY.exec(raw.slice(i));
    if (!m) throw new Error(`bad entity at ${at + i}: ${raw.slice(i, i + 10)}`);
    const e = m[1]!;
    out +=
      e === "amp"
        ? "&"
        : e === "lt"
          ? "<"
          : e === "gt"
            ? ">"
            : e === "quot"
              ? '"'
              : e === "#39" || e === "apos"
                ? "'"
                : String.fromCodePoint(
                    e.startsWith("#x") ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1)),
                  );
    i += m[0].length - 1;
  }
  return out;
}

export function parseXml(src: string, mode: "xml" | "html" = "xml"): XmlDoc {
  const elements: XmlElement[] = [];
  const texts: string[] = [];
  const stack: string[] = [];
  let roots = 0;
  let i = 0;
  while (i < src.length) {
    if (src[i] !== "<") {
      const j = src.indexOf("<", i);
      const end = j < 0 ? src.length : j;
      const t = decode(src.slice(i, end), i);
      if (t.trim()) {
        if (stack.length === 0) throw new Error(`text outside the root at ${i}`);
        texts.push(t);
      }
      i = end;
      continue;
    }
    if (src.startsWith("<!--", i)) {
      i = src.indexOf("-->", i) + 3;
      continue;
    }
    if (src.startsWith("<!DOCTYPE", i) || src.startsWith("<?", i)) {
      i = src.indexOf(">", i) + 1;
      continue;
    }
    if (src.startsWith("</", i)) {
      const m = /^<\/([a-zA-Z][\w:-]*)\s*>/.exec(src.slice(i));
      if (!m) throw new Error(`bad end tag at ${i}`);
      const open = stack.pop();
      if (open !== m[1]) throw new Error(`</${m[1]}> at ${i} closes <${open}>`);
      i += m[0].length;
      continue;
    }
    const m = /^<([a-zA-Z][\w:-]*)((?:\s+[a-zA-Z_:][\w:.-]*="[^"<]*")*)\s*(\/?)>/.exec(src.slice(i));
    if (!m) throw new Error(`bad start tag at ${i}: ${src.slice(i, i + 40)}`);
    const attrs: Record<string, string> = {};
    for (const a of m[2]!.matchAll(/([a-zA-Z_:][\w:.-]*)="([^"]*)"/g)) {
      if (a[1]! in attrs) throw new Error(`duplicate attribute ${a[1]} at ${i}`);
      attrs[a[1]!] = decode(a[2]!, i);
    }
    const name = m[1]!;
    elements.push({ name, attrs });
    if (stack.length === 0) roots++;
    i += m[0].length;
    const selfClosing = m[3] === "/" || (mode === "html" && VOID.has(name));
    if (selfClosing) continue;
    if (mode === "html" && (name === "style" || name === "script")) {
      const end = src.indexOf(`</${name}>`, i);
      if (end < 0) throw new Error(`unclosed <${name}>`);
      i = end + name.length + 3;
      continue;
    }
    stack.push(name);
  }
  if (stack.length) throw new Error(`unclosed elements: ${stack.join(" > ")}`);
  if (roots !== 1) throw new Error(`expected one root element, found ${roots}`);
  return { elements, texts };
}
