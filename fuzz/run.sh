#!/usr/bin/env bash
# Fuzzes every parser of untrusted input with libFuzzer (cargo-fuzz, nightly toolchain):
# EXECS executions per target (default 10 million), seeded from the project's fixtures.
# A crash stops the run and is saved under fuzz/artifacts/<target>/; turn it into a test in
# tests/cli/mutations.rs and fix the parser. Usage: [MAX_LEN=N] fuzz/run.sh [EXECS [TARGET...]]
# (MAX_LEN: the longest input, 65536 by default; the log target slows as its inputs grow, and
# real log lines are short, so 4096 gets its 10 million executions in a session).
set -euo pipefail
cd "$(dirname "$0")"
execs=${1:-10000000}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(feed report bundle chain profile log)
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
mkdir -p corpus/feed corpus/report corpus/bundle corpus/chain corpus/profile corpus/log
cp ../checks/feeds/*.json corpus/feed/
cp ../fixtures/reports/*.json corpus/report/
# Bundles are seeded with each saved report packed the way `bundle` packs it.
seed=$(mktemp -d)
trap 'rm -rf "$seed"' EXIT
for report in ../fixtures/reports/*.json; do
  cp "$report" "$seed/report.json"
  tar czf "corpus/bundle/$(basename "$report" .json).tar.gz" -C "$seed" report.json
done
for d in ../fixtures/chains/*/; do cp "$d/chain.pem" "corpus/chain/$(basename "$d").pem" 2>/dev/null || true; done
cp ../checks/profiles/*.toml ../fixtures/profiles/*.toml corpus/profile/
cp ../fixtures/logs/*.log corpus/log/
for target in "${targets[@]}"; do
  echo "== $target: $execs executions"
  cargo +nightly fuzz run "$target" "corpus/$target" -- -runs="$execs" -max_len="${MAX_LEN:-65536}" -timeout=10
done
