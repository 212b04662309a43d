// Validates an AsyncAPI document (default: docs/asyncapi.json) with @asyncapi/parser, the
// parser and rule set behind the AsyncAPI CLI's `asyncapi validate`. Any error-severity
// diagnostic fails; warnings are printed. Ends with `asyncapi: N passed, M failed`.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Parser, DiagnosticSeverity } from "@asyncapi/parser";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const file = process.argv[2] ?? path.join(root, "docs/asyncapi.json");
const parser = new Parser();
const { document, diagnostics } = await parser.parse(readFileSync(file, "utf8"), { source: file });
const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
for (const d of diagnostics) {
  const level = d.severity === DiagnosticSeverity.Error ? "error" : "warning";
  console.log(`${level}: ${d.code}: ${d.message} at ${d.path.join(".")}`);
}
const ok = document !== undefined && errors.length === 0;
if (ok) {
  console.log(`asyncapi: ${file}: valid AsyncAPI ${document.version()}, ${document.channels().length} channels, ${document.messages().length} messages`);
}
console.log(`asyncapi: ${ok ? 1 : 0} passed, ${ok ? 0 : 1} failed`);
process.exit(ok ? 0 : 1);
