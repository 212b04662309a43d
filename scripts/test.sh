#!/usr/bin/env bash
# Quickstart, 2 of 2: sets up everything the tests need and runs every check:
# formatting, clippy with warnings denied, the admin console in a browser, the published
# contracts (AsyncAPI validation, schemathesis on both dialects), and every test of the
# workspace (unit, aggregate, projection and integration tests against the real PostgreSQL
# and RabbitMQ).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/services.sh

# The S3-compatible stand-in used by the upload tests.
if ! command -v moto_server >/dev/null 2>&1; then
  echo "test: installing moto (S3 stand-in) from PyPI"
  python3 -m pip install -q 'moto[server]'
  hash -r
fi

# Test runs create databases named humit_test_*; remove what earlier runs left.
psql -h 127.0.0.1 -U postgres -d postgres -Atc \
  "SELECT datname FROM pg_database WHERE datname LIKE 'humit_test_%'" |
  while read -r db; do
    [ -n "$db" ] && psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" || true
  done

cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings

# The admin console, end to end in headless Chromium (Debian's) driven by Playwright.
if [ ! -x /usr/bin/chromium ]; then
  echo "test: installing Chromium from Debian's packages"
  if [ "$(id -u)" -eq 0 ]; then apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else sudo apt-get update -qq; sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi
fi
if [ ! -d tests/browser/node_modules/playwright-core ]; then
  (cd tests/browser && npm ci --no-audit --no-fund)
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo build --bin humit
timeout 600 node --test tests/browser/ 2>&1 | tee -a "$log"

# The published contracts. The event stream's AsyncAPI document (docs/asyncapi.json, which
# a Rust test keeps equal to /asyncapi.json) through the AsyncAPI parser, pinned from npm.
if [ ! -d tests/asyncapi/node_modules/@asyncapi/parser ]; then
  (cd tests/asyncapi && npm ci --no-audit --no-fund)
fi
timeout 120 node tests/asyncapi/validate.mjs 2>&1 | tee -a "$log"
# schemathesis (pinned, from PyPI, in a venv under target/) with --checks all against a real
# humit, once per dialect with its own credentials, bounded in examples and time; any
# failure fails the run (scripts/contract/run.py).
schemathesis_venv=target/tools/schemathesis-4.32.5
if [ ! -x "$schemathesis_venv/bin/schemathesis" ]; then
  echo "test: installing schemathesis 4.32.5 from PyPI"
  python3 -m venv "$schemathesis_venv"
  "$schemathesis_venv/bin/pip" install -q 'schemathesis==4.32.5'
fi
timeout 480 "$schemathesis_venv/bin/python" scripts/contract/run.py --bin target/debug/humit 2>&1 | tee -a "$log"

# A streaming replica that applies commits 100 ms late, for the read-your-writes test
# through DATABASE_READ_URL (stopped again when this script exits).
REPLICA_APPLY_DELAY=100ms scripts/replica.sh start 5433 >/dev/null
trap 'rm -f "$log"; scripts/replica.sh stop 5433 >/dev/null 2>&1 || true' EXIT
export HUMIT_TEST_REPLICA_URL=postgres://postgres@127.0.0.1:5433

# Every Rust test: unit, aggregate (given/when/then), projection, and the integration tests
# against the real PostgreSQL and RabbitMQ.
timeout 1800 cargo test --workspace 2>&1 | tee -a "$log"

# One closing line for the whole run (cargo's last line is a crate's empty doc-test run).
passed=$(grep -hoE '^test result: [a-zA-Z]+\. [0-9]+ passed' "$log" | awk '{s += $4} END {print s + 0}')
failed=$(grep -hoE '[0-9]+ failed;' "$log" | awk '{s += $1} END {print s + 0}')
node_passed=$(grep -hoE '^# pass [0-9]+' "$log" | awk '{s += $3} END {print s + 0}')
node_failed=$(grep -hoE '^# fail [0-9]+' "$log" | awk '{s += $3} END {print s + 0}')
# The contract checks' own closing lines (`contract: N passed, M failed`, `asyncapi: ...`).
contract_passed=$(grep -hoE '^(contract|asyncapi): [0-9]+ passed' "$log" | awk '{s += $2} END {print s + 0}')
contract_failed=$(grep -hoE '^(contract|asyncapi): [0-9]+ passed, [0-9]+ failed' "$log" | awk '{s += $4} END {print s + 0}')
echo "tests: $((passed + node_passed + contract_passed)) passed, $((failed + node_failed + contract_failed)) failed"
