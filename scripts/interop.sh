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

# run_backend BACKEND runs the matrix against BACKEND's servers, prints the
# package results and failures, and adds its counts to the totals.
total_passed=0 total_failed=0 total_skipped=0 status=0
run_backend() {
  local backend=$1 out rc passed failed skipped
  shift
  log "local servers: $backend"
  # The matrix needs no MinIO.
  SQSX_BACKEND=$backend SQSX_MINIO=off scripts/servers.sh start
  trap 'scripts/servers.sh stop' EXIT
  out=$(mktemp)
  set +e
  (
    # shellcheck disable=SC1091
    source "$SQSX_SERVERS_HOME/env"
    # With the servers and peers in place, a test that cannot use them fails.
    export CI=true
    log "go test -race -tags interop ./interop/... ($backend)"
    go test -race -tags interop -count=1 -timeout 15m -v "$@" ./interop/...
  ) >"$out" 2>&1
  rc=$?
  set -e
  scripts/servers.sh stop
  trap - EXIT
  grep -E '^(ok|FAIL|panic:)|--- (FAIL|SKIP)|interop_test.go:[0-9]+: .* jobs in ' "$out" || true
  if [ $rc -ne 0 ]; then
    echo "go test failed against $backend; full output:" >&2
    cat "$out" >&2
    status=$rc
  fi
  passed=$(grep -c -- '--- PASS' "$out" || true)
  failed=$(grep -c -- '--- FAIL' "$out" || true)
  skipped=$(grep -c -- '--- SKIP' "$out" || true)
  rm -f "$out"
  echo "$backend: $passed passed, $failed failed, $skipped skipped"
  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + failed))
  total_skipped=$((total_skipped + skipped))
}

for backend in ${SQSX_BACKENDS:-emulators moto}; do
  run_backend "$backend" "$@"
done
echo "total: $total_passed passed, $total_failed failed, $total_skipped skipped"
if [ "$total_skipped" -ne 0 ]; then
  echo "tests were skipped; every cell must run here" >&2
  exit 1
fi
exit $status
