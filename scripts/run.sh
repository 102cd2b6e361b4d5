#!/usr/bin/env bash
# Runs the whole system on this machine: installs what is missing, builds, starts Redis and
# the knowledge-base, ticket and metrics services on localhost with demo tokens, and stops
# everything cleanly on Ctrl-C. Data lives in $HOTLINE_DATA_DIR (default ./data) and survives
# a restart.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

install_dependencies
build_all

DATA="${HOTLINE_DATA_DIR:-$HOTLINE_ROOT/data}"
REDIS_PORT="${HOTLINE_REDIS_PORT:-6380}"
# (Not HOTLINE_METRICS_PORT: that variable sets every server's --metrics_port.)
KB_ADDR="127.0.0.1:${HOTLINE_KB_GRPC_PORT:-50051}"
TICKET_ADDR="127.0.0.1:${HOTLINE_TICKET_GRPC_PORT:-50052}"
METRICS_ADDR="127.0.0.1:${HOTLINE_METRICS_GRPC_PORT:-50053}"
IDENTITY_ADDR="127.0.0.1:${HOTLINE_IDENTITY_GRPC_PORT:-50054}"
# Prometheus text metrics of each server.
KB_PROM="${HOTLINE_KB_PROMETHEUS_PORT:-9101}"
TICKET_PROM="${HOTLINE_TICKET_PROMETHEUS_PORT:-9102}"
METRICS_PROM="${HOTLINE_METRICS_PROMETHEUS_PORT:-9103}"
IDENTITY_PROM="${HOTLINE_IDENTITY_PROMETHEUS_PORT:-9104}"
# The staff consoles (HTTP), and the citizens' portal on a port of its own.
GATEWAY_PORT="${HOTLINE_GATEWAY_PORT:-8080}"
PORTAL_PORT="${HOTLINE_PORTAL_PORT:-8081}"
BIN="$HOTLINE_BUILD/services"
# A fresh ticket store starts with a demo history: the ticket service's clock starts
# HOTLINE_DEMO_HISTORY_DAYS working days ago and catches up with real time in 45 s while the
# simulator plays the loop, so deadlines have passed and the dashboard has figures within a
# minute. Never on existing data: time must not go backwards over stored events (the server
# refuses it too). 0 turns it off; HOTLINE_SIMULATOR=0 turns the simulator off.
DEMO_HISTORY_DAYS="${HOTLINE_DEMO_HISTORY_DAYS:-10}"
ticket_demo=()
if [ -z "$(ls -A "$DATA/ticket" 2>/dev/null)" ] && ((DEMO_HISTORY_DAYS > 0)) &&
  [ "${HOTLINE_SIMULATOR:-1}" != 0 ]; then
  ticket_demo=(--demo_history_working_days="$DEMO_HISTORY_DAYS" --demo_catch_up=45s --tick=250ms)
fi
mkdir -p "$DATA"/{redis,kb,ticket,metrics,identity,logs}

# Demo principals, one per role plus a few departments and the citizens' portal. The services
# only ever see hashes; the plain tokens are for you, in demo-tokens.env (readable by you
# alone). A principal missing from an older data directory is added to it.
umask 077
touch "$DATA/demo-tokens.env" "$DATA/tokens"
while read -r variable principal role department; do
  grep -q "^export $variable=" "$DATA/demo-tokens.env" && continue
  log "creating the demo token $variable in $DATA/demo-tokens.env"
  token="$(head -c 24 /dev/urandom | base64 | tr '+/' '-_')"
  hash="$(printf '%s' "$token" | sha256sum | cut -d' ' -f1)"
  printf 'export %s=%s\n' "$variable" "$token" >>"$DATA/demo-tokens.env"
  printf '%s %s %s %s\n' "$hash" "$principal" "$role" "$department" >>"$DATA/tokens"
done <<'TOKENS'
AGENT_TOKEN agent-demo agent
REVIEWER_TOKEN reviewer-demo reviewer
SUPERVISOR_TOKEN supervisor-demo supervisor
EDITOR_TOKEN editor-demo editor
ADMIN_TOKEN admin-demo admin
PORTAL_TOKEN citizen-portal public
HRSS_TOKEN hrss-system department hrss
HOUSING_FUND_TOKEN housing-fund-system department housing-fund
WATER_TOKEN water-system department water
HOUSING_TOKEN housing-system department housing
URBAN_MANAGEMENT_TOKEN urban-management-system department urban-management
MARKET_REGULATION_TOKEN market-regulation-system department market-regulation
MEDICAL_INSURANCE_TOKEN medical-insurance-system department medical-insurance
PUBLIC_SECURITY_TOKEN public-security-system department public-security
TRAFFIC_POLICE_TOKEN traffic-police-system department traffic-police
TRANSPORT_TOKEN transport-system department transport
ECOLOGY_ENVIRONMENT_TOKEN ecology-environment-system department ecology-environment
EDUCATION_TOKEN education-system department education
CIVIL_AFFAIRS_TOKEN civil-affairs-system department civil-affairs
TOKENS
# The gateway reads the portal's token from a file of its own.
sed -n 's/^export PORTAL_TOKEN=//p' "$DATA/demo-tokens.env" >"$DATA/portal-token"
umask 022

pids=()
stop_all() {
  trap - INT TERM EXIT
  log "stopping"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  log "stopped; data kept in $DATA"
}
trap stop_all INT TERM EXIT

redis-server "$HOTLINE_ROOT/deploy/redis.conf" --port "$REDIS_PORT" --dir "$DATA/redis" \
  --daemonize no --logfile "$DATA/logs/redis.log" &
pids+=($!)
wait_for_port "$REDIS_PORT" 20 || { echo "Redis did not start; see $DATA/logs/redis.log" >&2; exit 1; }

start_service() {
  local name="$1" address="$2"
  shift 2
  "$BIN/$name/${name}_server" --listen="$address" --data_dir="$DATA/$name" \
    --token_file="$DATA/tokens" "$@" 2>>"$DATA/logs/$name.log" &
  pids+=($!)
}
# People sign in to the identity service, which signs the short-lived credentials every other
# service checks with its public key (written at its first start, with a new key pair).
start_service identity "$IDENTITY_ADDR" --metrics_port="$IDENTITY_PROM" \
  --signing_key_file="$DATA/identity/credential.key" --public_key_file="$DATA/credential.pub"
for _ in $(seq 100); do [ -s "$DATA/credential.pub" ] && break; sleep 0.1; done
[ -s "$DATA/credential.pub" ] || { echo "the identity service did not start; see $DATA/logs/identity.log" >&2; exit 1; }
# The demo knowledge base is imported on the first start (into an empty store) only. The
# knowledge base's heap on transparent huge pages: see deploy/config/kb.env.
GLIBC_TUNABLES=glibc.malloc.hugetlb=1 start_service kb "$KB_ADDR" --metrics_port="$KB_PROM" \
  --credential_key_file="$DATA/credential.pub" \
  --demo_data="$HOTLINE_ROOT/services/kb/demo/knowledge_base.jsonl"
start_service ticket "$TICKET_ADDR" --metrics_port="$TICKET_PROM" --redis="127.0.0.1:$REDIS_PORT" \
  --credential_key_file="$DATA/credential.pub" \
  --config="$HOTLINE_ROOT/deploy/config/ticket.textproto" \
  --calendar_dir="$HOTLINE_ROOT/../shared/data/holiday-cn" "${ticket_demo[@]}"
start_service metrics "$METRICS_ADDR" --metrics_port="$METRICS_PROM" --redis="127.0.0.1:$REDIS_PORT" \
  --credential_key_file="$DATA/credential.pub" \
  --ticket_config="$HOTLINE_ROOT/deploy/config/ticket.textproto" \
  --calendar_dir="$HOTLINE_ROOT/../shared/data/holiday-cn"

ctl=("$BIN/hotlinectl/hotlinectl" --kb="$KB_ADDR" --ticket="$TICKET_ADDR" --metrics="$METRICS_ADDR"
  --identity="$IDENTITY_ADDR")
if ! "${ctl[@]}" --wait=60s health; then
  echo "a service did not become SERVING; logs are in $DATA/logs" >&2
  exit 1
fi

# Demo accounts, one person per role (and two departments), created once with the admin token
# through the CLI, passwords in demo-accounts.txt (readable by you alone).
if [ ! -f "$DATA/demo-accounts.txt" ]; then
  log "creating demo accounts in $DATA/demo-accounts.txt"
  admin_token="$(sed -n 's/^export ADMIN_TOKEN=//p' "$DATA/demo-tokens.env")"
  umask 077
  : >"$DATA/demo-accounts.txt.tmp"
  while read -r user role department name; do
    [ "$department" = - ] && department=""
    password="$(head -c 12 /dev/urandom | base64 | tr '+/' '-_')"
    printf '%s\n' "$password" | HOTLINE_TOKEN="$admin_token" "${ctl[@]}" \
      --display_name="$name" account create "$user" "$role" ${department:+"$department"} >/dev/null 2>>"$DATA/logs/accounts.log" ||
      { echo "creating demo account $user failed; see $DATA/logs/accounts.log" >&2; exit 1; }
    printf '%-16s %-12s %s\n' "$user" "$password" "$role${department:+ ($department)}" >>"$DATA/demo-accounts.txt.tmp"
  done <<'ACCOUNTS'
zhang.agent agent - 张话务
li.reviewer reviewer - 李审核
wang.water department water 王水务
zhao.housing department housing 赵住建
chen.callback callback - 陈回访
liu.supervisor supervisor - 刘督办
sun.editor editor - 孙编辑
admin admin - 系统管理员
ACCOUNTS
  mv "$DATA/demo-accounts.txt.tmp" "$DATA/demo-accounts.txt"
  umask 022
fi

# The demo scenario: agents, reviewers, departments and supervisors at work, through the
# ticket service's API with the demo tokens.
if [ "${HOTLINE_SIMULATOR:-1}" != 0 ]; then
  ((${#ticket_demo[@]})) && log "replaying $DEMO_HISTORY_DAYS working days of demo history (45 s)"
  "$BIN/simulator/hotline_simulator" --ticket="$TICKET_ADDR" --tokens_env="$DATA/demo-tokens.env" \
    --config="$HOTLINE_ROOT/deploy/config/ticket.textproto" 2>>"$DATA/logs/simulator.log" &
  pids+=($!)
fi

# The web dashboard calls the three services with each user's own token.
"$BIN/gateway/gateway_server" --listen="127.0.0.1:$GATEWAY_PORT" --kb="$KB_ADDR" \
  --ticket="$TICKET_ADDR" --metrics="$METRICS_ADDR" --identity="$IDENTITY_ADDR" \
  --calendar_dir="$HOTLINE_ROOT/../shared/data/holiday-cn" \
  --public_listen="127.0.0.1:$PORTAL_PORT" --public_token_file="$DATA/portal-token" \
  --web_root="$HOTLINE_ROOT/services/gateway/web" 2>>"$DATA/logs/gateway.log" &
pids+=($!)
wait_for_port "$GATEWAY_PORT" 20 || { echo "the gateway did not start; see $DATA/logs/gateway.log" >&2; exit 1; }
supervisor_token="$(sed -n 's/^export SUPERVISOR_TOKEN=//p' "$DATA/demo-tokens.env" 2>/dev/null || true)"

cat <<MESSAGE

The 12345 hotline is running:
  knowledge base  $KB_ADDR
  tickets         $TICKET_ADDR
  metrics         $METRICS_ADDR
  redis           127.0.0.1:$REDIS_PORT
  Prometheus      http://127.0.0.1:$KB_PROM/metrics (kb), :$TICKET_PROM (tickets), :$METRICS_PROM (metrics)
  identity        $IDENTITY_ADDR
  web consoles    http://127.0.0.1:$GATEWAY_PORT/  sign in with a demo account:
$(sed 's/^/                  /' "$DATA/demo-accounts.txt")
                  (systems and scripts: the demo supervisor token $supervisor_token )
  citizens' portal http://127.0.0.1:$PORTAL_PORT/  (no sign-in: policy Q&A, online requests)
Data: $DATA   Logs: $DATA/logs   Demo tokens: $DATA/demo-tokens.env

Try, in another terminal:
  source $DATA/demo-tokens.env
  $BIN/hotlinectl/hotlinectl health
  HOTLINE_TOKEN=\$SUPERVISOR_TOKEN $BIN/hotlinectl/hotlinectl metrics watch

A simulator plays the whole loop (log: $DATA/logs/simulator.log); HOTLINE_SIMULATOR=0 turns it off.

Ctrl-C stops everything.
MESSAGE
wait -n "${pids[@]}" || true
echo "a process exited; stopping the rest" >&2
