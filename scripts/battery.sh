#!/usr/bin/env bash
# The long fault battery of issue 12 (the fast cases run with the other tests:
# `cargo test --test api faults::`). Every case is bounded by `timeout` and stops what it
# started; figures are printed by each test and collected in RELIABILITY.md.
#
#   scripts/battery.sh [all|kill|pgstop|broker|cluster|poison|snapshot|timing]
#     kill      SIGKILL of `humit serve` five times under a registration load
#     broker    RabbitMQ unreachable for 30 s under load (a TCP proxy in the test is cut)
#     pgstop    Postgres stopped for 10 s under load, on a private cluster this script
#               starts (port 5498, /tmp/humit-battery-pg) and removes: never the shared one
#     snapshot  1,000,000 authentication events; a new process ready from the snapshot < 2 s
#               (on the private cluster too)
#     cluster   a three-node RabbitMQ cluster (scripts/cluster.sh, ports 5681-5683), quorum
#               queues, one node stopped 10 s under load
#     poison    a poison message among 1,000 events: parked, the rest applied once
#     timing    login timing, unknown user vs wrong password (medians within 10 %)
#   scripts/battery.sh pg ARGS...   pg_ctl ARGS on the private cluster (used by `pgstop`)
#
# Needs the services of scripts/services.sh (PostgreSQL on 5432, RabbitMQ on 5672).
set -euo pipefail
cd "$(dirname "$0")/.."

port=5498
dir=/tmp/humit-battery-pg
version=$(ls /etc/postgresql | sort -V | tail -n 1)
bin=/usr/lib/postgresql/$version/bin

as_postgres() {
  if [ "$(id -un)" = postgres ]; then "$@"
  elif [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"
  else sudo -u postgres "$@"; fi
}
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

private_pg_stop() {
  if [ -f "$dir/postmaster.pid" ]; then
    as_postgres "$bin/pg_ctl" -D "$dir" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  as_root rm -rf "$dir"
}

private_pg_start() {
  private_pg_stop
  as_root mkdir -p "$dir"
  as_root chown postgres:postgres "$dir"
  as_root chmod 700 "$dir"
  as_postgres "$bin/initdb" -D "$dir" -U postgres --auth=trust >/dev/null
  as_postgres tee -a "$dir/postgresql.conf" >/dev/null <<CONF
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '/tmp'
max_connections = 200
fsync = off
CONF
  as_postgres "$bin/pg_ctl" -D "$dir" -l /dev/null -w start >/dev/null
}

run() {
  echo "== $1"
  shift
  local out status=0
  out=$(mktemp)
  "$@" >"$out" 2>&1 || status=$?
  grep -E '^(outage|postgres stop|broker outage|cluster|poison|sigkill|snapshot|shutdown|timing|test result)|panicked|FAILED' "$out" || true
  rm -f "$out"
  return "$status"
}

case_kill() {
  run "SIGKILL x5 under load" timeout 900 \
    cargo test --test api faults::kill -- --ignored --nocapture
}

case_pgstop() {
  private_pg_start
  trap private_pg_stop EXIT
  run "Postgres stopped 10 s under load (private cluster on $port)" \
    env HUMIT_TEST_POSTGRES="postgres://postgres@127.0.0.1:$port" timeout 900 \
    cargo test --test api faults::outage_long::postgres_stopped -- --ignored --nocapture
  private_pg_stop
  trap - EXIT
}

case_broker() {
  run "RabbitMQ away 30 s under load" timeout 900 \
    cargo test --test api faults::outage_long::a_broker_outage -- --ignored --nocapture
}

case_cluster() {
  scripts/cluster.sh start >/dev/null
  trap 'scripts/cluster.sh stop' EXIT
  run "RabbitMQ cluster of 3, node 2 stopped 10 s under load, quorum queues" \
    env AMQP_URL="amqp://guest:guest@127.0.0.1:5681/%2f" HUMIT_QUORUM_QUEUES=true timeout 900 \
    cargo test --test api faults::outage_long::a_cluster -- --ignored --nocapture
  scripts/cluster.sh stop
  trap - EXIT
}

case_poison() {
  run "A poison message among 1,000 events" timeout 600 \
    cargo test --test api faults::poison -- --ignored --nocapture
}

case_shutdown() {
  run "SIGTERM under load" timeout 600 \
    cargo test --test api faults::shutdown -- --ignored --nocapture
}

case_timing() {
  run "Enumeration timing" timeout 600 \
    cargo test --test api faults::timing -- --ignored --nocapture
}

case_snapshot() {
  # A private cluster: the bulk statements of a million rows would hold back the xmin horizon
  # (cluster-wide) of every other database's sequencer on a shared server.
  private_pg_start
  trap private_pg_stop EXIT
  run "1,000,000 auth events, start-up from the snapshot (private cluster on $port)" \
    env HUMIT_TEST_POSTGRES="postgres://postgres@127.0.0.1:$port" HUMIT_SNAPSHOT_EVENTS=1000000 \
    timeout 1800 cargo test --test api faults::snapshot -- --nocapture
  private_pg_stop
  trap - EXIT
}

cmd=${1:-all}
case "$cmd" in
pg)
  shift
  as_postgres "$bin/pg_ctl" -D "$dir" "$@"
  ;;
kill) case_kill ;;
pgstop) case_pgstop ;;
broker) case_broker ;;
timing) case_timing ;;
shutdown) case_shutdown ;;
poison) case_poison ;;
cluster) case_cluster ;;
snapshot) case_snapshot ;;
all)
  export RUST_LOG=${RUST_LOG:-warn}
  cargo build --tests --bins
  case_kill
  case_shutdown
  case_pgstop
  case_broker
  case_cluster
  case_poison
  case_timing
  case_snapshot
  ;;
*)
  echo "usage: $0 [all|kill|pgstop|broker|cluster|poison|snapshot|timing] | pg ARGS..." >&2
  exit 2
  ;;
esac
