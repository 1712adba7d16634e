/**
 * JUnit XML for `pccxc batch --junit <file>`: one testsuite, one testcase per model. A model that
 * failed for a user-facing reason (does not fit, rejected feature, breached budget, bad input) is a
 * <failure>; an internal error (exit 70) is an <error>. The format CI servers read (Jenkins,
 * GitLab, GitHub test reporters): testsuites > testsuite > testcase with failure/error children.
 */
import { ExitCode } from "../diag/index.js";
import type { BatchModelResult, BatchResult } from "./batch.js";

export function escapeXml(s: string): string {
  return s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;")
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, "");
}

const secs = (ms: number) => (ms / 1000).toFixed(3);

function testcase(m: BatchModelResult, classname: string): string {
  const head = `    <testcase classname="${escapeXml(classname)}" name="${escapeXml(m.model)}" time="${secs(m.durationMs)}"`;
  if (m.status === "passed") return `${head}/>`;
  const tag = m.exitCode === ExitCode.INTERNAL ? "error" : "failure";
  const body = [m.reason ?? "", ...m.details].filter(Boolean).join("\n");
  return [
    `${head}>`,
    `      <${tag} type="${escapeXml(m.code ?? "batch/failed")}" message="${escapeXml(m.reason ?? "failed")}">${escapeXml(body)}</${tag}>`,
    "    </testcase>",
  ].join("\n");
}

export function renderJunit(r: BatchResult): string {
  const failures = r.models.filter((m) => m.status === "failed" && m.exitCode !== ExitCode.INTERNAL).length;
  const errors = r.models.filter((m) => m.status === "failed" && m.exitCode === ExitCode.INTERNAL).length;
  const total = r.models.reduce((s, m) => s + m.durationMs, 0);
  const suite = `pccxc batch ${r.mode} ${r.target}`;
  const classname = `pccxc.${r.mode}.${r.target.replace(/@.*$/, "")}`;
  const counts = `tests="${r.models.length}" failures="${failures}" errors="${errors}" time="${secs(total)}"`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="pccxc" ${counts}>`,
    `  <testsuite name="${escapeXml(suite)}" ${counts} skipped="0">`,
    ...r.models.map((m) => testcase(m, classname)),
    "  </testsuite>",
    "</testsuites>",
    "",
  ].join("\n");
}
