#!/usr/bin/env bash
# Makes sure PostgreSQL and RabbitMQ run on this machine: starts them when stopped, and on a
# bare Debian installs them from Debian's packages first (PostgreSQL then trusts 127.0.0.1
# for the `postgres` user, as on the development machines). Idempotent.
set -euo pipefail

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

apt_ready=0
install_pkgs() {
  if [ "$apt_ready" -eq 0 ]; then
    as_root apt-get update -qq
    apt_ready=1
  fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
  local port=$1 name=$2 tries=${3:-120}
  for _ in $(seq "$tries"); do
    port_open "$port" && return 0
    sleep 0.5
  done
  echo "services: $name did not open port $port" >&2
  return 1
}

# --- PostgreSQL ---------------------------------------------------------------------------
if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
  echo "services: installing PostgreSQL"
  install_pkgs postgresql postgresql-client
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  hba=/etc/postgresql/$version/main/pg_hba.conf
  as_root sed -i -E 's/^(host\s+all\s+all\s+127\.0\.0\.1\/32\s+)\S+/\1trust/; s/^(local\s+all\s+postgres\s+)\S+/\1trust/' "$hba"
fi
if ! port_open 5432; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  echo "services: starting PostgreSQL $version"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  wait_port 5432 PostgreSQL
fi
for _ in $(seq 60); do
  pg_isready -q -h 127.0.0.1 -p 5432 && break
  sleep 0.5
done

# --- RabbitMQ -----------------------------------------------------------------------------
if ! command -v rabbitmq-server >/dev/null 2>&1; then
  echo "services: installing RabbitMQ"
  install_pkgs rabbitmq-server
fi
if ! port_open 5672; then
  echo "services: starting RabbitMQ"
  as_root rabbitmq-server -detached >/dev/null 2>&1 || true
  wait_port 5672 RabbitMQ 240
fi
echo "services: PostgreSQL on 127.0.0.1:5432 and RabbitMQ on 127.0.0.1:5672 are up"
