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
# Prometheus text metrics of each server.
KB_PROM="${HOTLINE_KB_PROMETHEUS_PORT:-9101}"
TICKET_PROM="${HOTLINE_TICKET_PROMETHEUS_PORT:-9102}"
METRICS_PROM="${HOTLINE_METRICS_PROMETHEUS_PORT:-9103}"
# The supervisors' web dashboard (HTTP).
GATEWAY_PORT="${HOTLINE_GATEWAY_PORT:-8080}"
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
mkdir -p "$DATA"/{redis,kb,ticket,metrics,logs}

# Demo principals, one per role plus a few departments. The services only ever see hashes;
# the plain tokens are for you, in demo-tokens.env (readable by you alone).
if [ ! -f "$DATA/tokens" ]; then
  log "creating demo tokens in $DATA/demo-tokens.env"
  umask 077
  : >"$DATA/demo-tokens.env"
  : >"$DATA/tokens"
  while read -r variable principal role department; do
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
  umask 022
fi

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
# The demo knowledge base is imported on the first start (into an empty store) only. The
# knowledge base's heap on transparent huge pages: see deploy/config/kb.env.
GLIBC_TUNABLES=glibc.malloc.hugetlb=1 start_service kb "$KB_ADDR" --metrics_port="$KB_PROM" \
  --demo_data="$HOTLINE_ROOT/services/kb/demo/knowledge_base.jsonl"
start_service ticket "$TICKET_ADDR" --metrics_port="$TICKET_PROM" --redis="127.0.0.1:$REDIS_PORT" \
  --config="$HOTLINE_ROOT/deploy/config/ticket.textproto" \
  --calendar_dir="$HOTLINE_ROOT/../shared/data/holiday-cn" "${ticket_demo[@]}"
start_service metrics "$METRICS_ADDR" --metrics_port="$METRICS_PROM" --redis="127.0.0.1:$REDIS_PORT" \
  --ticket_config="$HOTLINE_ROOT/deploy/config/ticket.textproto" \
  --calendar_dir="$HOTLINE_ROOT/../shared/data/holiday-cn"

ctl=("$BIN/hotlinectl/hotlinectl" --kb="$KB_ADDR" --ticket="$TICKET_ADDR" --metrics="$METRICS_ADDR")
if ! "${ctl[@]}" --wait=60s health; then
  echo "a service did not become SERVING; logs are in $DATA/logs" >&2
  exit 1
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
  --ticket="$TICKET_ADDR" --metrics="$METRICS_ADDR" \
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
  dashboard       http://127.0.0.1:$GATEWAY_PORT/  (log in with the demo supervisor token:
                  $supervisor_token )
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
