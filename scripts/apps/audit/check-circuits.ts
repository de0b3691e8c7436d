/**
 * Static audit of the project's circom sources (circuits/lib and circuits/models; circomlib in node_modules is out of
 * scope: its `<--` hints, e.g. in Num2Bits and IsZero, are pinned inside circomlib itself).
 *
 * For every `<--` (and `-->`) hint it reports the file:line, the template and the signal assigned, and checks:
 *   (a) the same template constrains that signal afterwards: a later `===`, `<==` or `==>` statement mentions it
 *       (directly, or through a `var` that accumulated it, e.g. `total += sel[i]; total === 1;`), which includes
 *       feeding it into a component input;
 *   (b) no `assert(` appears anywhere (assert adds no constraint; docs/design-decisions.md, "Fixed-point arithmetic");
 *   (c) at least one test tampers the hinted signal: an `it(...)` in test/ that calls `expectRejected` and names the
 *       signal in a string (`"sel[0]"` in a test of the template itself, or `"head.sel[0]"` where `head` is a
 *       component of that template), or an entry of scripts/apps/audit/pinned.json (checked: the test must exist and
 *       call expectRejected).
 * (a) is a necessary condition only: a constraint that mentions a signal need not make it unique. That is what the
 * tamper test of (c) shows, and why a hint without one fails the check.
 *
 * Usage: npx ts-node --files scripts/apps/audit/check-circuits.ts [--json]
 * Exit code 0 when clean, 1 when any finding is reported (each finding names the file:line and what to do).
 * Size (about 460 lines), kept in one file: the three checks share one parse of
 * the circom sources and the tests.
 */
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "../../util/paths";
import { commandLine } from "../../util/args";

/** One circom file: `file` is the repo-relative path used in reports. */
export interface CircomSource {
  file: string;
  text: string;
}

/** One test file: `file` is the repo-relative path used in reports. */
export interface TestSource {
  file: string;
  text: string;
}

/** A test named by file and `it(...)` title. */
export interface TestRef {
  file: string;
  test: string;
}

/** An explicit mapping of a hint to the tests that tamper it (scripts/apps/audit/pinned.json). */
export interface PinnedEntry {
  /** The circom file, repo-relative (e.g. `circuits/lib/argmax.circom`). */
  file: string;
  template: string;
  /** The signal's base name, without indices (e.g. `sel`). */
  signal: string;
  tests: TestRef[];
  /** Why the hint is unique (the soundness argument, one line). */
  why?: string;
}

/** A `<--` / `-->` site and what the checker found about it. */
export interface HintSite {
  file: string;
  line: number;
  template: string;
  /** Base name of the assigned signal, without indices (`sel`, or `comp.in` for a component input). */
  signal: string;
  /** The assignment as written (whitespace collapsed). */
  statement: string;
  /** Lines of the later constraints (same template) that mention the signal. */
  constrainedAt: number[];
  /** Tests that tamper the signal, and how they were found. */
  tests: (TestRef & { via: "grep" | "pinned" })[];
}

export type FindingKind = "unconstrained-hint" | "assert" | "untested-hint" | "stale-pin" | "hint-outside-template";

/** A reason to fail the check. */
export interface Finding {
  kind: FindingKind;
  file: string;
  line: number;
  message: string;
}

export interface CheckReport {
  files: string[];
  hints: HintSite[];
  findings: Finding[];
  /** Templates instantiated by our sources but defined elsewhere (circomlib): their own hints are out of scope. */
  externalTemplates: string[];
}

// ---------------------------------------------------------------------------------------------------------------
// Lexing

/** Replaces comments with spaces (keeping newlines, so line numbers survive); leaves string literals alone. */
export function stripCircomComments(src: string): string {
  let out = "";
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    const n = src[i + 1];
    if (c === '"') {
      const end = src.indexOf('"', i + 1);
      const j = end < 0 ? src.length : end + 1;
      out += src.slice(i, j);
      i = j;
    } else if (c === "/" && n === "/") {
      while (i < src.length && src[i] !== "\n") {
        out += " ";
        i++;
      }
    } else if (c === "/" && n === "*") {
      const end = src.indexOf("*/", i + 2);
      const j = end < 0 ? src.length : end + 2;
      out += src.slice(i, j).replace(/[^\n]/g, " ");
      i = j;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

interface Statement {
  /** 1-based line of the statement's first character. */
  line: number;
  text: string;
  /** Enclosing template or function, if any. */
  scope?: { kind: "template" | "function"; name: string };
}

/** Splits comment-free circom into statements at `;`, `{` and `}`, tracking the enclosing template / function. */
function statements(clean: string): Statement[] {
  const out: Statement[] = [];
  let buf = "";
  let bufLine = 0;
  let line = 1;
  let depth = 0;
  let scope: { kind: "template" | "function"; name: string; depth: number } | undefined;
  const flush = (): string => {
    const text = buf.replace(/\s+/g, " ").trim();
    if (text) out.push({ line: bufLine, text, scope: scope ? { kind: scope.kind, name: scope.name } : undefined });
    buf = "";
    return text;
  };
  for (const c of clean) {
    if (c === ";" || c === "{" || c === "}") {
      const text = flush();
      if (c === "{") {
        depth++;
        const m = /^(template|function)\s+(?:custom\s+|parallel\s+)*(\w+)\s*\(/.exec(text);
        if (m && !scope) scope = { kind: m[1] as "template" | "function", name: m[2], depth };
      } else if (c === "}") {
        if (scope && depth === scope.depth) scope = undefined;
        depth--;
      }
    } else {
      if (!buf.trim() && /\S/.test(c)) bufLine = line;
      buf += c;
    }
    if (c === "\n") line++;
  }
  flush();
  return out;
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** `sel[i]` -> `sel`; `c[j].in[k]` -> `c.in`; `signal output x` -> `x`. */
function baseName(lhs: string): string {
  return lhs
    .replace(/^signal\s+(input\s+|output\s+)?/, "")
    .replace(/\{[^}]*\}/g, "")
    .replace(/\[[^\]]*\]/g, "")
    .replace(/\s+/g, "")
    .trim();
}

/** A regex that finds a mention of signal `name` (indices allowed between path segments) as a whole word. */
function mentionRe(name: string): RegExp {
  const parts = name.split(".").map(escapeRe);
  return new RegExp(`(?<![\\w.])${parts.join("(?:\\s*\\[[^\\]]*\\])*\\s*\\.\\s*")}(?!\\w)`);
}

const isConstraint = (t: string): boolean => /===|<==|==>/.test(t);

/** The statement's `<--` / `-->` target, if it is a hint. */
function hintTarget(t: string): string | undefined {
  if (t.includes("<--")) return t.slice(0, t.indexOf("<--")).trim();
  if (t.includes("-->")) return t.slice(t.indexOf("-->") + 3).trim();
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Tests

interface TestBlock {
  file: string;
  test: string;
  body: string;
  fileText: string;
}

/** `it("...")` blocks (title and the text up to the next `it(` / `describe(`) of a test file. */
function testBlocks(t: TestSource): TestBlock[] {
  const re = /\bit\(\s*(["'`])((?:\\.|(?!\1)[^\\])*)\1/g;
  const starts: { index: number; test: string }[] = [];
  for (let m = re.exec(t.text); m; m = re.exec(t.text)) starts.push({ index: m.index, test: m[2] });
  const next = /\b(?:it|describe)\(/g;
  return starts.map((s, i) => {
    next.lastIndex = s.index + 3;
    const n = next.exec(t.text);
    const end = Math.min(n ? n.index : t.text.length, i + 1 < starts.length ? starts[i + 1].index : t.text.length);
    return { file: t.file, test: s.test, body: t.text.slice(s.index, end), fileText: t.text };
  });
}

/** String and template literals of a piece of TypeScript. */
function literals(code: string): string[] {
  const out: string[] = [];
  const re = /(["'`])((?:\\.|(?!\1)[^\\])*)\1/g;
  for (let m = re.exec(code); m; m = re.exec(code)) out.push(m[2]);
  return out;
}

/**
 * Whether a test block tampers `signal` of `template`: it calls expectRejected and a string in it names the signal,
 * either top-level (`"sel[1]"`, in a file that names the template, i.e. a test of the template itself) or under a
 * component instance of that template (`"head.sel[1]"` with `component head = Argmax(...)`).
 */
function tampers(b: TestBlock, template: string, signal: string, instances: Map<string, Set<string>>): boolean {
  if (!/\bexpectRejected\s*\(/.test(b.body)) return false;
  const last = signal.split(".").pop() ?? signal;
  const re = new RegExp(`(?:^|(\\w+)(?:\\[[^\\]]*\\])*\\.)${escapeRe(last)}(?=\\[|$|\\.)`);
  const namesTemplate = new RegExp(`\\b${escapeRe(template)}\\b`).test(b.fileText);
  return literals(b.body).some((lit) => {
    const m = re.exec(lit);
    if (!m) return false;
    if (signal.includes(".")) return true; // a component-input hint: the path itself names it
    if (m[1] === undefined) return namesTemplate;
    return instances.get(m[1])?.has(template) ?? false;
  });
}

// ---------------------------------------------------------------------------------------------------------------
// The check

/**
 * Runs the three checks over circom sources, with the tests and the pinned map used for (c).
 * @param circuits Our circom files (not circomlib).
 * @param tests Test files searched for tamper tests.
 * @param pinned Explicit hint -> tests map (each cited test is checked to exist and call expectRejected).
 * @returns Every hint with its constraints and tests, and the findings that make the check fail.
 */
export function checkCircuits(circuits: CircomSource[], tests: TestSource[], pinned: PinnedEntry[] = []): CheckReport {
  const findings: Finding[] = [];
  const hints: HintSite[] = [];
  const parsed = circuits.map((c) => ({ ...c, clean: stripCircomComments(c.text) }));
  const stmts = parsed.map((c) => ({ file: c.file, list: statements(c.clean) }));

  // Templates and functions we define; component instances -> templates (for "head.sel" style test paths).
  const defined = new Set<string>();
  const functions = new Set<string>();
  for (const s of stmts.flatMap((x) => x.list)) {
    const m = /^(template|function)\s+(?:custom\s+|parallel\s+)*(\w+)\s*\(/.exec(s.text);
    if (m) (m[1] === "template" ? defined : functions).add(m[2]);
  }
  const instances = new Map<string, Set<string>>();
  const external = new Set<string>();
  for (const s of stmts.flatMap((x) => x.list)) {
    const m = /^(?:component\s+)?(\w+)(?:\s*\[[^\]]*\])*\s*=\s*(\w+)\s*\(/.exec(s.text);
    if (!m || s.text.startsWith("var ") || functions.has(m[2])) continue;
    if (!/^[A-Z]/.test(m[2]) && !defined.has(m[2])) continue;
    if (!instances.has(m[1])) instances.set(m[1], new Set());
    instances.get(m[1])!.add(m[2]);
    if (!defined.has(m[2])) external.add(m[2]);
  }

  // (b) assert
  for (const c of parsed) {
    c.clean.split("\n").forEach((l, i) => {
      if (/\bassert\s*\(/.test(l)) {
        findings.push({
          kind: "assert",
          file: c.file,
          line: i + 1,
          message: `assert() adds no constraint: replace it with a constraint (Num2Bits / LessThan === 1): ${l.trim()}`,
        });
      }
    });
  }

  // (a) each hint is constrained afterwards in its template
  const blocks = tests.flatMap(testBlocks);
  for (const { file, list } of stmts) {
    list.forEach((s, idx) => {
      const target = hintTarget(s.text);
      if (target === undefined) return;
      const signal = baseName(target);
      if (!s.scope || s.scope.kind !== "template") {
        findings.push({ kind: "hint-outside-template", file, line: s.line, message: `\`${s.text}\` is not inside a template` });
        return;
      }
      const template = s.scope.name;
      const later = list.slice(idx + 1).filter((x) => x.scope?.kind === "template" && x.scope.name === template);
      // vars that accumulate the signal (e.g. `total += sel[i]`) count as mentions of it
      const names = [mentionRe(signal)];
      for (let changed = true; changed;) {
        changed = false;
        for (const x of later) {
          const a = /^(?:var\s+)?(\w+)(?:\s*\[[^\]]*\])*\s*(?:[+\-*]?=)(?!=)\s*(.*)$/.exec(x.text);
          if (!a || isConstraint(x.text) || hintTarget(x.text) !== undefined) continue;
          const re = mentionRe(a[1]);
          if (names.some((n) => n.source === re.source)) continue;
          if (names.some((n) => n.test(a[2]))) {
            names.push(re);
            changed = true;
          }
        }
      }
      const constrainedAt = later.filter((x) => isConstraint(x.text) && names.some((n) => n.test(x.text))).map((x) => x.line);
      const site: HintSite = {
        file,
        line: s.line,
        template,
        signal,
        statement: s.text,
        constrainedAt: [...new Set(constrainedAt)],
        tests: [],
      };
      if (site.constrainedAt.length === 0) {
        findings.push({
          kind: "unconstrained-hint",
          file,
          line: s.line,
          message: `${template}.${signal} is assigned with <-- but no later ===, <== or ==> in ${template} uses it: add a constraint that makes it unique`,
        });
      }
      // (c) tests
      for (const b of blocks) {
        if (tampers(b, template, signal, instances)) site.tests.push({ file: b.file, test: b.test, via: "grep" });
      }
      hints.push(site);
    });
  }

  // pinned map: attach, and check that every cited test exists and tampers something
  for (const p of pinned) {
    const sites = hints.filter((h) => h.file === p.file && h.template === p.template && h.signal === p.signal);
    if (sites.length === 0) {
      findings.push({
        kind: "stale-pin",
        file: p.file,
        line: 0,
        message: `scripts/apps/audit/pinned.json names ${p.template}.${p.signal}, which has no <-- in ${p.file}: remove or update the entry`,
      });
      continue;
    }
    for (const t of p.tests) {
      const b = blocks.find((x) => x.file === t.file && x.test === t.test);
      if (!b || !/\bexpectRejected\s*\(/.test(b.body)) {
        findings.push({
          kind: "stale-pin",
          file: p.file,
          line: sites[0].line,
          message: `scripts/apps/audit/pinned.json cites ${t.file} › "${t.test}" for ${p.template}.${p.signal}, but ${b ? "that test does not call expectRejected" : "no such it(...) exists"}`,
        });
        continue;
      }
      for (const h of sites) {
        if (!h.tests.some((x) => x.file === t.file && x.test === t.test)) h.tests.push({ ...t, via: "pinned" });
      }
    }
  }

  for (const h of hints) {
    if (h.tests.length === 0) {
      findings.push({
        kind: "untested-hint",
        file: h.file,
        line: h.line,
        message: `${h.template}.${h.signal} has no tamper test: write one that changes it and calls expectRejected, or map one in scripts/apps/audit/pinned.json`,
      });
    }
  }

  findings.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
  return { files: circuits.map((c) => c.file), hints, findings, externalTemplates: [...external].sort() };
}

// ---------------------------------------------------------------------------------------------------------------
// Loading and printing

function walk(dir: string, ext: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name), ext) : e.name.endsWith(ext) ? [path.join(dir, e.name)] : []))
    .sort();
}

const relPath = (root: string, f: string): string => path.relative(root, f).split(path.sep).join("/");

/** Every .circom file under `<root>/circuits` (lib and models). */
export function loadCircuitSources(root: string = ROOT): CircomSource[] {
  return walk(path.join(root, "circuits"), ".circom").map((f) => ({ file: relPath(root, f), text: fs.readFileSync(f, "utf8") }));
}

/** Every .ts file under `<root>/test`, except this checker's own test (its synthetic sources would match). */
export function loadTestSources(root: string = ROOT): TestSource[] {
  return walk(path.join(root, "test"), ".ts")
    .filter((f) => !f.endsWith(path.join("audit", "check-circuits.test.ts")))
    .map((f) => ({ file: relPath(root, f), text: fs.readFileSync(f, "utf8") }));
}

/**
 * The pinned map (scripts/apps/audit/pinned.json): `{ "pins": PinnedEntry[] }`.
 * @throws When the file is not valid JSON or an entry lacks file, template, signal or tests.
 */
export function loadPinned(file: string = path.join(ROOT, "scripts", "apps", "audit", "pinned.json")): PinnedEntry[] {
  if (!fs.existsSync(file)) return [];
  const data = JSON.parse(fs.readFileSync(file, "utf8")) as { pins?: PinnedEntry[] };
  const pins = data.pins ?? [];
  pins.forEach((p, i) => {
    if (!p.file || !p.template || !p.signal || !Array.isArray(p.tests)) {
      throw new Error(`${file}: pins[${i}] needs file, template, signal and tests[] ({ file, test })`);
    }
  });
  return pins;
}

/** The report as text: a table of hints, then the findings. */
export function formatReport(r: CheckReport): string {
  const lines: string[] = [];
  lines.push(`circom files checked: ${r.files.length} (${r.files.join(", ")})`);
  lines.push(`external templates used (circomlib; their own <-- are out of scope): ${r.externalTemplates.join(", ") || "none"}`);
  lines.push("");
  lines.push("| `<--` at | template | signal | constrained at (lines) | tampered by (file › test) |");
  lines.push("|---|---|---|---|---|");
  for (const h of r.hints) {
    const tests = h.tests.map((t) => `${t.file} › "${t.test}"${t.via === "pinned" ? " (pinned)" : ""}`).join("<br>") || "**none**";
    lines.push(`| ${h.file}:${h.line} | ${h.template} | ${h.signal} | ${h.constrainedAt.join(", ") || "**none**"} | ${tests} |`);
  }
  if (r.hints.length === 0) lines.push("| (no `<--` in our sources) | | | | |");
  lines.push("");
  if (r.findings.length === 0) {
    lines.push(`OK: ${r.hints.length} hint(s), all constrained and tampered by a test; no assert().`);
  } else {
    lines.push(`FAILED: ${r.findings.length} finding(s):`);
    for (const f of r.findings) lines.push(`  ${f.file}:${f.line}  [${f.kind}] ${f.message}`);
  }
  return lines.join("\n");
}

function main(): void {
  const report = checkCircuits(loadCircuitSources(), loadTestSources(), loadPinned());
  const { values: o } = commandLine(process.argv.slice(2), { json: { type: "boolean" } }, "usage: npm run audit:circuits -- [--json]");
  if (o.json) console.log(JSON.stringify(report, null, 2));
  else console.log(formatReport(report));
  process.exitCode = report.findings.length ? 1 : 0;
}

if (require.main === module) main();
