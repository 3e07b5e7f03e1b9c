#!/usr/bin/env bash
# The project's one test command (README.md): builds everything in debug and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
swift build --build-tests
swift test --skip-build
