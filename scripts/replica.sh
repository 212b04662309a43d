#!/usr/bin/env bash
# A streaming replica of the local PostgreSQL, for tests and trials of DATABASE_READ_URL.
#
#   scripts/replica.sh start [PORT]   # pg_basebackup into a temporary data directory, start a
#                                     # hot standby on PORT (default 5433), print its URL
#   scripts/replica.sh stop  [PORT]   # stop it and remove its data directory
#
# REPLICA_APPLY_DELAY (e.g. `100ms`) makes the standby apply each commit that much later
# (`recovery_min_apply_delay`): the tests use it so that a read that does not wait for the
# replica is certain to be stale.
# Uses only Debian's PostgreSQL packages (the primary must run: scripts/services.sh). The
# primary is told to trust replication connections from 127.0.0.1, like ordinary ones on the
# development machines. Idempotent.
set -euo pipefail

cmd=${1:-start}
port=${2:-5433}
dir=/tmp/humit-replica-$port
version=$(ls /etc/postgresql | sort -V | tail -n 1)
bin=/usr/lib/postgresql/$version/bin

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
as_postgres() {
  if [ "$(id -un)" = postgres ]; then "$@"
  elif [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"
  else sudo -u postgres "$@"; fi
}

stop() {
  if [ -f "$dir/postmaster.pid" ]; then
    as_postgres "$bin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
  fi
  as_root rm -rf "$dir"
}

case "$cmd" in
stop)
  stop
  exit 0
  ;;
start) ;;
*)
  echo "usage: $0 start|stop [port]" >&2
  exit 2
  ;;
esac

if [ -f "$dir/postmaster.pid" ] && "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; then
  echo "postgres://postgres@127.0.0.1:$port"
  exit 0
fi
stop

# Replication connections from 127.0.0.1 are trusted, as ordinary ones are.
hba=/etc/postgresql/$version/main/pg_hba.conf
if ! grep -qE '^host\s+replication\s+all\s+127\.0\.0\.1/32\s+trust' "$hba"; then
  as_root sed -i -E 's/^(host\s+replication\s+all\s+127\.0\.0\.1\/32\s+)\S+/\1trust/' "$hba"
  grep -qE '^host\s+replication\s+all\s+127\.0\.0\.1/32\s+trust' "$hba" ||
    echo "host replication all 127.0.0.1/32 trust" | as_root tee -a "$hba" >/dev/null
  as_root pg_ctlcluster "$version" main reload
fi

as_root mkdir -p "$dir"
as_root chown postgres:postgres "$dir"
as_root chmod 700 "$dir"
as_postgres "$bin/pg_basebackup" -h 127.0.0.1 -p 5432 -U postgres -D "$dir" -X stream -R -c fast
# Debian keeps the configuration outside the data directory: the standby gets its own.
as_postgres tee "$dir/postgresql.conf" >/dev/null <<EOF
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '/tmp'
hot_standby = on
max_connections = 200
shared_buffers = 64MB
# A throw-away standby: no need to make its files durable (it starts in seconds).
fsync = off
recovery_min_apply_delay = '${REPLICA_APPLY_DELAY:-0}'
EOF
as_postgres tee "$dir/pg_hba.conf" >/dev/null <<EOF
local all all trust
host all all 127.0.0.1/32 trust
EOF
as_postgres "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w start >/dev/null
for _ in $(seq 60); do
  "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" && break
  sleep 0.5
done
echo "postgres://postgres@127.0.0.1:$port"
