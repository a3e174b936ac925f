#!/usr/bin/env bash
# Install the npm packages when they are missing or older than package-lock.json.
# npm itself may run on an older system Node: the `node` dev dependency brings Node 24 for every script.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ ! -x node_modules/.bin/node ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
	echo "deps: installing npm packages (npm install)..."
	npm install --no-audit --no-fund --loglevel=error
fi
