#!/usr/bin/env bash
# A three-node RabbitMQ cluster on this machine, from Debian's rabbitmq-server package, for
# the battery's cluster case and for trials of HUMIT_QUORUM_QUEUES.
#
#   scripts/cluster.sh start      # nodes humit-mq1..3@localhost on AMQP ports 5681..5683
#   scripts/cluster.sh stop       # stop all three and remove their directories
#   scripts/cluster.sh node-stop N / node-start N   # one node (the battery stops one)
#
# Each node has its own name, AMQP and distribution ports (25681..25683), data and log
# directories under /tmp/humit-cluster, and the cluster its own Erlang cookie (in a HOME
# of its own): the machine's RabbitMQ (rabbit@<host>, 5672) is never touched.
set -euo pipefail

base=/tmp/humit-cluster
# The package's own scripts (those in /usr/sbin switch to the rabbitmq user).
bin=/usr/lib/rabbitmq/bin
export HOME=$base/home
nodes=(1 2 3)

node_env() {
  local n=$1
  export RABBITMQ_NODENAME=humit-mq$n@localhost
  export RABBITMQ_NODE_PORT=$((5680 + n))
  export RABBITMQ_DIST_PORT=$((25680 + n))
  export RABBITMQ_MNESIA_BASE=$base/mq$n/mnesia
  export RABBITMQ_LOG_BASE=$base/mq$n/log
  export RABBITMQ_PID_FILE=$base/mq$n/pid
  export RABBITMQ_CONFIG_FILE=$base/mq$n/rabbitmq
  export RABBITMQ_ENABLED_PLUGINS_FILE=$base/mq$n/enabled_plugins
  export RABBITMQ_SERVER_START_ARGS="-kernel inet_dist_listen_min $((25680 + n)) -kernel inet_dist_listen_max $((25680 + n))"
}

ctl() { local n=$1; shift; "$bin/rabbitmqctl" -n "humit-mq$n@localhost" "$@"; }

start_node() {
  local n=$1
  node_env "$n"
  mkdir -p "$base/mq$n/mnesia" "$base/mq$n/log"
  echo "[]." >"$base/mq$n/enabled_plugins"
  cat >"$base/mq$n/rabbitmq.conf" <<CONF
listeners.tcp.default = $((5680 + n))
loopback_users = none
CONF
  "$bin/rabbitmq-server" -detached
  for _ in $(seq 120); do
    ctl "$n" await_startup >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  echo "node $n did not start; see $base/mq$n/log" >&2
  return 1
}

stop_node() {
  local n=$1
  node_env "$n"
  ctl "$n" stop >/dev/null 2>&1 || true
  # Stopped means it no longer answers.
  ! ctl "$n" status >/dev/null 2>&1
}

case "${1:-start}" in
start)
  mkdir -p "$HOME"
  if [ ! -f "$HOME/.erlang.cookie" ]; then
    head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$HOME/.erlang.cookie"
    chmod 400 "$HOME/.erlang.cookie"
  fi
  for n in "${nodes[@]}"; do start_node "$n"; done
  for n in 2 3; do
    node_env "$n"
    ctl "$n" stop_app >/dev/null
    ctl "$n" join_cluster humit-mq1@localhost >/dev/null
    ctl "$n" start_app >/dev/null
  done
  node_env 1
  ctl 1 cluster_status --formatter json | head -c 400; echo
  echo "amqp://guest:guest@127.0.0.1:5681/%2f amqp://guest:guest@127.0.0.1:5682/%2f amqp://guest:guest@127.0.0.1:5683/%2f"
  ;;
stop)
  for n in "${nodes[@]}"; do stop_node "$n" || true; done
  rm -rf "$base"
  ;;
node-stop) stop_node "$2" ;;
node-start) start_node "$2" ;;
*)
  echo "usage: $0 start|stop|node-stop N|node-start N" >&2
  exit 2
  ;;
esac
