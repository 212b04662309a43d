#!/usr/bin/env bash
# Quickstart, 1 of 2: sets up the services and runs humit (HTTP API, relay and projectors) on
# HUMIT_ADDR (default 127.0.0.1:8080). The database is created and migrated at start.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/services.sh
exec cargo run --release --bin humit -- serve "$@"
