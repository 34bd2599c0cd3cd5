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

# The modules: the library, and its OpenTelemetry adapters (otel/, a module
# of its own so that the library does not depend on OpenTelemetry).
modules=". otel"

log "go vet"
for m in $modules; do (cd "$m" && go vet ./...); done

log "staticcheck $STATICCHECK_VERSION"
if [ ! -x "$root/.tools/staticcheck-$STATICCHECK_VERSION" ]; then
  GOBIN="$root/.tools" go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION"
  mv "$root/.tools/staticcheck" "$root/.tools/staticcheck-$STATICCHECK_VERSION"
fi
for m in $modules; do (cd "$m" && "$root/.tools/staticcheck-$STATICCHECK_VERSION" ./...); done

# test_modules runs go test, with the arguments given, in every module, and
# fails if any run failed.
test_modules() {
  local m rc=0
  for m in $modules; do
    (cd "$m" && go test -race -count=1 -timeout 30m -v "$@" ./...) || rc=$?
  done
  return $rc
}

# shellcheck source=scripts/backends.sh
source scripts/backends.sh
run_on_backends "" on test_modules "$@"

log "fuzz targets, ${SQSX_FUZZTIME:-10s} each"
bash scripts/fuzz.sh
