#!/usr/bin/env bash
# npm test: install what is missing, type-check, then run unit and integration tests with Jest (its
# global setup brings up the local data stack). Extra arguments go to Jest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/ensure-deps.sh browser
export PATH="$PWD/node_modules/.bin:$PATH"
echo "test: type-check (tsc --noEmit)"
tsc --noEmit -p .
mkdir -p .infra
results=.infra/jest-results.json
rm -f "$results"
status=0
jest --json --outputFile="$results" "$@" || status=$?
if [ -f "$results" ]; then
	node -e '
		const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
		console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped` +
			(r.numRuntimeErrorTestSuites ? `; ${r.numRuntimeErrorTestSuites} test file(s) failed outside any test (see FAIL above)` : ""));
	' "$results"
fi
exit "$status"
