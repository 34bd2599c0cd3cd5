#!/usr/bin/env bash
# fuzz.sh — runs every fuzz target of the module, one at a time: each Fuzz*
# function that `go test -list` finds, for SQSX_FUZZTIME (default 10s; 0
# skips fuzzing), with -run '^$' so that only the fuzzer runs. It prints a
# line per target and fails if any target finds a failure; go test then
# writes the failing input under testdata/fuzz/<target>/ of its package, for
# `go test -run '<target>/<file>'` to replay. scripts/test.sh runs it last.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${SQSX_FUZZTIME:-10s}

if [ "$fuzztime" = 0 ] || [ "$fuzztime" = 0s ]; then
  echo "fuzz: skipped (SQSX_FUZZTIME=$fuzztime)"
  exit 0
fi

# go test -list prints each package's matching names, then its "ok" line.
# With -race it reuses the build of `go test -race ./...` (scripts/test.sh).
targets=()
names=()
while read -r first second _; do
  case $first in
    Fuzz*) names+=("$first") ;;
    ok)
      for n in "${names[@]}"; do targets+=("$second $n"); done
      names=()
      ;;
    FAIL) echo "fuzz: go test -list failed for $second" >&2; exit 1 ;;
  esac
done < <(go test -race -vet=off -list '^Fuzz' ./...)
if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz: no fuzz targets found" >&2
  exit 1
fi

out=$(mktemp)
trap 'rm -f "$out"' EXIT
failed=0
for t in "${targets[@]}"; do
  pkg=${t% *} name=${t#* }
  start=$(date +%s)
  if go test -vet=off -run '^$' -fuzz "^$name\$" -fuzztime "$fuzztime" "$pkg" >"$out" 2>&1; then
    result=ok
  else
    result=FAIL
    failed=1
  fi
  execs=$(grep -o 'execs: [0-9]*' "$out" | tail -1 | cut -d' ' -f2 || true)
  printf 'fuzz: %-4s %-20s %-32s %10s execs in %ss\n' "$result" "$name" "$pkg" "${execs:-?}" "$(($(date +%s) - start))"
  if [ $result = FAIL ]; then
    cat "$out" >&2
  fi
done
exit $failed
