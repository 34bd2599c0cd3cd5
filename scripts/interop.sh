#!/usr/bin/env bash
# interop.sh — proves wire compatibility with the reference extended clients:
# builds the Java driver (interop/java, Maven; cached in interop/java/target
# and ~/.m2), creates a virtualenv with the pinned Python client
# (interop/.venv), and runs the interop matrix (go test -tags interop
# ./interop/...) once against each backend of local servers (see
# scripts/servers.sh; SQSX_BACKENDS lists them, default "emulators moto").
# Every cell must run: a skip fails the script.
# Extra arguments go to `go test` (e.g. -run 'TestInterop/large').
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export SQSX_SERVERS_HOME=${SQSX_SERVERS_HOME:-$root/.servers}
log() { printf '\n== %s\n' "$*" >&2; }

log "Java driver (interop/java)"
jar=interop/java/target/interop-driver.jar
if [ ! -f "$jar" ] || [ -n "$(find interop/java/pom.xml interop/java/src -newer "$jar" -print -quit)" ]; then
  (cd interop/java && mvn -q -B -ntp -Dstyle.color=never package)
else
  echo "up to date: $jar" >&2
fi
export SQSX_INTEROP_JAVA_CP="$root/$jar:$root/interop/java/target/lib/*"

log "Python client (interop/.venv)"
venv=interop/.venv
req=interop/python/requirements.txt
if ! cmp -s "$req" "$venv/installed-requirements.txt"; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$req"
  cp "$req" "$venv/installed-requirements.txt"
else
  echo "up to date: $venv" >&2
fi
export SQSX_INTEROP_PYTHON="$root/$venv/bin/python"

# The interop tests carry the build tag "interop", so that `go test ./...`
# (scripts/test.sh) leaves them to this script.
log "go vet -tags interop ./interop/..."
go vet -tags interop ./interop/...

# shellcheck source=scripts/backends.sh
source scripts/backends.sh
run_on_backends 'interop_test.go:[0-9]+: .* jobs in ' off go test -race -tags interop -count=1 -timeout 15m -v "$@" ./interop/...
