/**
 * The small markdown subset report text may use, rendered to HTML: paragraphs (blank-line
 * separated), "- " bullet lists, ``` fenced code, `code`, **bold**, *emphasis* and [text](link).
 * Text is HTML-escaped before any markup is added, so nothing in it can become a tag. Links only
 * become anchors when relative (no scheme, no "//"): the page must never point off the machine.
 */
import { escapeHtml } from "./text.js";

export function isRelativeLink(url: string): boolean {
  return !/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(url) && !url.startsWith("//") && !/\s/.test(url);
}

/** Inline markup of one line or paragraph. */
export function inlineToHtml(src: string): string {
  const codes: string[] = [];
  // Code spans first, so their content is not touched by the other rules.
  let s = escapeHtml(src).replace(/`([^`]+)`/g, (_, c: string) => {
    codes.push(`<code>${c}</code>`);
    return `\u0000${codes.length - 1}\u0000`;
  });
  s = s.replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>");
  s = s.replace(/(^|[^*\w])\*([^*\s][^*]*?)\*(?![*\w])/g, "$1<em>$2</em>");
  s = s.replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (_, label: string, url: string) => {
    // url is already escaped text; a relative one is safe as an attribute value.
    const raw = url.replace(/&amp;/g, "&");
    return isRelativeLink(raw) ? `<a href="${url}">${label}</a>` : `${label} (<code>${url}</code>)`;
  });
  return s.replace(/\u0000(\d+)\u0000/g, (_, i: string) => codes[Number(i)]!);
}

/** Block structure: fenced code, bullet lists, paragraphs. */
export function markdownishToHtml(src: string): string {
  const lines = src.replace(/\r\n?/g, "\n").split("\n");
  const out: string[] = [];
  let para: string[] = [];
  let list: string[] = [];
  const flush = () => {
    if (para.length) out.push(`<p>${inlineToHtml(para.join(" "))}</p>`);
    if (list.length) out.push(`<ul>${list.map((li) => `<li>${inlineToHtml(li)}</li>`).join("")}</ul>`);
    para = [];
    list = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trimStart().startsWith("```")) {
      flush();
      const code: string[] = [];
      for (i++; i < lines.length && !lines[i]!.trimStart().startsWith("```"); i++) code.push(lines[i]!);
      out.push(`<pre><code>${escapeHtml(code.join("\n"))}</code></pre>`);
    } else if (/^\s*[-*] /.test(line)) {
      if (para.length) flush();
      list.push(line.replace(/^\s*[-*] /, ""));
    } else if (line.trim() === "") {
      flush();
    } else if (list.length && /^\s+\S/.test(line)) {
      list[list.length - 1] += ` ${line.trim()}`; // continuation of a list item
    } else {
      if (list.length) flush();
      para.push(line.trim());
    }
  }
  flush();
  return out.join("\n");
}
