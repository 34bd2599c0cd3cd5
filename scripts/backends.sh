# backends.sh — sourced by scripts/test.sh and scripts/interop.sh: runs one
# `go test` command once per backend of local servers (SQSX_BACKENDS,
# default "emulators moto"; see scripts/servers.sh) and sums the counts.
#
#   run_on_backends SHOW MINIO CMD...
#
# SHOW is an extra grep pattern of output lines to print besides the package
# results and failures ("" for none); MINIO is "on" or "off" (whether the
# servers start MinIO too). CMD runs with the backend's env file sourced and
# CI=true, so that a test that cannot reach its servers fails. It prints
# "BACKEND: N passed, N failed, N skipped" per backend and a "total:" line,
# and returns non-zero if a run failed or any test was skipped.
run_on_backends() {
  local show=$1 minio=$2 backend out rc passed failed skipped
  shift 2
  local total_passed=0 total_failed=0 total_skipped=0 status=0
  for backend in ${SQSX_BACKENDS:-emulators moto}; do
    log "local servers: $backend"
    if [ "$minio" = off ]; then
      SQSX_BACKEND=$backend SQSX_MINIO=off scripts/servers.sh start
    else
      SQSX_BACKEND=$backend scripts/servers.sh start
    fi
    trap 'scripts/servers.sh stop' EXIT
    out=$(mktemp)
    set +e
    (
      # A subshell keeps one backend's variables from the next.
      # shellcheck disable=SC1091
      source "$SQSX_SERVERS_HOME/env"
      export CI=true
      log "$* ($backend)"
      "$@"
    ) >"$out" 2>&1
    rc=$?
    set -e
    scripts/servers.sh stop
    trap - EXIT
    # Show the package results and any failure, not every passing test.
    grep -E "^(ok|FAIL|panic:)|--- (FAIL|SKIP)${show:+|$show}" "$out" || true
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
  done
  echo "total: $total_passed passed, $total_failed failed, $total_skipped skipped"
  if [ "$total_skipped" -ne 0 ]; then
    echo "tests were skipped; every test must run here" >&2
    return 1
  fi
  return $status
}
