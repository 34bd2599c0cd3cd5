#!/usr/bin/env bash
# demo.sh — send a 20 MiB message through SQS and S3 and get it back intact.
#
# Starts local S3 (versitygw) and SQS (fauxqs) servers with scripts/servers.sh
# (installing them on first use), builds the sqsx command, creates a bucket and
# a queue, sends a 20 MiB UTF-8 text file with `sqsx send --file`, receives it
# with `sqsx receive --out --delete`, and checks that the bytes and SHA-256
# match and that the S3 object is gone. Prints PASS and exits 0, or prints
# FAIL and exits non-zero. The servers are stopped on exit, whatever happens.
#
# usage: scripts/demo.sh            (needs go, curl and npm; nothing else)
# Set SQSX_SERVERS_HOME to keep the servers' state elsewhere than ./.servers.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
export SQSX_SERVERS_HOME=${SQSX_SERVERS_HOME:-$ROOT/.servers}
# The demo needs no MinIO (the servers the SSE tests use).
export SQSX_MINIO=off
SIZE=$((20 * 1024 * 1024))

log() { echo "[demo] $*" >&2; }
fail() { echo "[demo] FAIL: $*" >&2; exit 1; }

# now_ms prints the time in milliseconds.
now_ms() {
  if [ -n "${EPOCHREALTIME:-}" ]; then
    local t=${EPOCHREALTIME/[.,]/}
    echo $((10#$t / 1000))
  else
    echo $(($(date +%s) * 1000))
  fi
}

# seconds START END prints the time between two now_ms values in seconds.
seconds() {
  local ms=$(($2 - $1))
  printf '%d.%03ds' $((ms / 1000)) $((ms % 1000))
}

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  else
    shasum -a 256 "$1" | cut -d' ' -f1
  fi
}

for tool in go curl; do
  command -v "$tool" >/dev/null 2>&1 || fail "$tool is required but not installed"
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sqsx-demo.XXXXXX")
STARTED=
cleanup() {
  local code=$?
  if [ -n "$STARTED" ]; then
    bash "$ROOT/scripts/servers.sh" stop || true
  fi
  rm -rf "$WORK"
  exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

T0=$(now_ms)
STARTED=1
bash scripts/servers.sh start
# shellcheck disable=SC1091
source "$SQSX_SERVERS_HOME/env"

log "building sqsx"
go build -o "$WORK/bin/" ./cmd/sqsx ./internal/cmd/localsetup
SQSX=$WORK/bin/sqsx
LOCALSETUP=$WORK/bin/localsetup

BUCKET=sqsx-demo-$$-$RANDOM
QUEUE=sqsx-demo-$$-$RANDOM
SETUP=$("$LOCALSETUP" -bucket "$BUCKET" -queue "$QUEUE") || fail "could not create the bucket and the queue"
QUEUE_URL=$(printf '%s\n' "$SETUP" | sed -n 's/^QUEUE_URL=//p')
[ -n "$QUEUE_URL" ] || fail "localsetup printed no QUEUE_URL"
log "bucket $BUCKET, queue $QUEUE_URL"

log "generating a $SIZE-byte UTF-8 text file"
IN=$WORK/in.txt
OUT=$WORK/out.txt
head -c $((SIZE * 3 / 4)) /dev/urandom | base64 | tr -d '\n' >"$WORK/random.txt"
{
  printf 'sqsx demo — Grüße, 世界, ✓, 🚀\n'
  cat "$WORK/random.txt"
} >"$WORK/draft.txt"
# Trim to exactly SIZE bytes, ending in a multi-byte character.
head -c $((SIZE - 4)) "$WORK/draft.txt" >"$IN"
printf '\n✓' >>"$IN"
rm -f "$WORK/random.txt" "$WORK/draft.txt"
[ "$(wc -c <"$IN" | tr -d ' ')" -eq "$SIZE" ] || fail "test file is $(wc -c <"$IN") bytes, want $SIZE"

T1=$(now_ms)
MESSAGE_ID=$("$SQSX" send --queue-url "$QUEUE_URL" --bucket "$BUCKET" --file "$IN") || fail "sqsx send failed"
T2=$(now_ms)
[ -n "$MESSAGE_ID" ] || fail "sqsx send printed no message id"
OBJECTS=$("$LOCALSETUP" -bucket "$BUCKET" -count-objects) || fail "could not list bucket $BUCKET"
[ "$OBJECTS" -eq 1 ] || fail "after send, bucket $BUCKET holds $OBJECTS objects, want 1 (the offloaded body)"

T3=$(now_ms)
"$SQSX" receive --queue-url "$QUEUE_URL" --bucket "$BUCKET" --out "$OUT" --delete --wait-time-seconds 10 ||
  fail "sqsx receive failed (exit status $?)"
T4=$(now_ms)

cmp "$IN" "$OUT" || fail "received body differs from the sent one"
SUM_IN=$(sha256 "$IN")
SUM_OUT=$(sha256 "$OUT")
[ "$SUM_IN" = "$SUM_OUT" ] || fail "sha256 differs: sent $SUM_IN, received $SUM_OUT"
OUT_SIZE=$(wc -c <"$OUT" | tr -d ' ')
OBJECTS=$("$LOCALSETUP" -bucket "$BUCKET" -count-objects) || fail "could not list bucket $BUCKET"
[ "$OBJECTS" -eq 0 ] || fail "after receive --delete, bucket $BUCKET still holds $OBJECTS objects"

T5=$(now_ms)
echo "PASS: sent $SIZE bytes and received $OUT_SIZE identical bytes (sha256 $SUM_OUT) via s3://$BUCKET;" \
  "message $MESSAGE_ID and its S3 object deleted;" \
  "send $(seconds "$T1" "$T2"), receive+delete $(seconds "$T3" "$T4"), total $(seconds "$T0" "$T5")"
