#!/usr/bin/env bash
# The project's main job (README.md): builds mixlab in debug and runs `mixlab demo`, a whole
# mixing-law sweep on this machine. Extra arguments go to `mixlab demo` (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
swift build --product mixlab
exec .build/debug/mixlab demo "$@"
