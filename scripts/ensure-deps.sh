#!/usr/bin/env bash
# Install the npm packages when they are missing or older than package-lock.json.
# npm itself may run on an older system Node: the `node` dev dependency brings Node 24 for every script.
#   scripts/ensure-deps.sh [browser]
# With `browser` (npm test), also Debian's `chromium` when missing: the dashboard's browser test drives it
# with playwright-core, which downloads no browser of its own (needs root or sudo, as infra.sh's packages).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ ! -x node_modules/.bin/node ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
	echo "deps: installing npm packages (npm install)..."
	npm install --no-audit --no-fund --loglevel=error
fi

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"
	elif command -v sudo >/dev/null 2>&1; then
		if [ -t 0 ]; then sudo "$@"; else sudo -n "$@"; fi
	else
		echo "deps: need root to run: $*  (not root and no sudo; install it by hand)" >&2; return 1
	fi
}

if [[ " $* " == *" browser "* ]] && [ ! -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then
	mkdir -p .infra/logs
	log=.infra/logs/install.log
	echo "deps: installing Debian package chromium for the dashboard browser test (log: $log)..."
	if ! { as_root apt-get update -q && as_root env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q -o Dpkg::Use-Pty=0 chromium; } </dev/null >>"$log" 2>&1; then
		echo "deps: apt-get install chromium failed; see $log" >&2
		tail -n 5 "$log" >&2
		exit 1
	fi
fi
