#!/bin/sh
# Sync benchmark: two release-built node processes on 127.0.0.1 (see benches/sync.py).
set -e
cd "$(dirname "$0")/.."
cargo build --release --bin peat
PEAT="${CARGO_TARGET_DIR:-target}/release/peat" exec python3 benches/sync.py
