#!/usr/bin/env bash
# test.sh — runs every test of the project on a fresh machine: gofmt, go vet
# and staticcheck, then the unit and integration tests with the race detector,
# once against each backend of local S3 and SQS/SNS servers (see
# scripts/servers.sh), which it installs, starts and stops itself, then every
# fuzz target for SQSX_FUZZTIME each (scripts/fuzz.sh; default 10s, 0 skips).
# SQSX_BACKENDS lists the backends (default: "emulators moto").
# Extra arguments go to `go test` (e.g. -run TestInteg).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export SQSX_SERVERS_HOME=${SQSX_SERVERS_HOME:-$root/.servers}
STATICCHECK_VERSION=v0.8.2
log() { printf '\n== %s\n' "$*" >&2; }

log "gofmt"
unformatted=$(gofmt -l $(find . -name '*.go' -not -path './.servers/*' -not -path './.tools/*'))
if [ -n "$unformatted" ]; then
  echo "gofmt -l lists files that need formatting:" >&2
  echo "$unformatted" >&2
  exit 1
fi

log "go vet"
go vet ./...

log "staticcheck $STATICCHECK_VERSION"
if [ ! -x "$root/.tools/staticcheck-$STATICCHECK_VERSION" ]; then
  GOBIN="$root/.tools" go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION"
  mv "$root/.tools/staticcheck" "$root/.tools/staticcheck-$STATICCHECK_VERSION"
fi
"$root/.tools/staticcheck-$STATICCHECK_VERSION" ./...

# run_backend BACKEND runs go test against BACKEND's servers, prints the
# package results and failures, and adds its counts to the totals.
total_passed=0 total_failed=0 total_skipped=0 status=0
run_backend() {
  local backend=$1 out rc passed failed skipped
  shift
  log "local servers: $backend"
  SQSX_BACKEND=$backend scripts/servers.sh start
  trap 'scripts/servers.sh stop' EXIT
  # A subshell keeps one backend's variables from the next.
  out=$(mktemp)
  set +e
  (
    # shellcheck disable=SC1091
    source "$SQSX_SERVERS_HOME/env"
    # With the servers up, a test that cannot reach them fails instead of skipping.
    export CI=true
    log "go test -race ./... ($backend)"
    go test -race -count=1 -timeout 30m -v "$@" ./...
  ) >"$out" 2>&1
  rc=$?
  set -e
  scripts/servers.sh stop
  trap - EXIT
  # Show the package results and any failure, not every passing test.
  grep -E '^(ok|FAIL|panic:)|--- (FAIL|SKIP)' "$out" || true
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
  echo "tests were skipped; every test must run here" >&2
  exit 1
fi
if [ $status -ne 0 ]; then
  exit $status
fi

log "fuzz targets, ${SQSX_FUZZTIME:-10s} each"
bash scripts/fuzz.sh
