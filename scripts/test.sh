#!/usr/bin/env bash
# The project's one test command (README.md): builds everything in debug and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
# The store tests start a throwaway PostgreSQL cluster; install the server if this machine lacks it.
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
    else
        echo "PostgreSQL is needed by the store tests: apt-get install -y postgresql (or set MIXLAB_TEST_DATABASE_URL)" >&2
    fi
fi
# The certificate tests cross-check with the openssl command.
if ! command -v openssl >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq openssl >/dev/null
fi
swift build --build-tests
# The committed gRPC code must match schemas/mixlab/v1 (checked where protoc is installed).
if command -v protoc >/dev/null 2>&1; then
    scripts/generate-protos.sh --check
else
    echo "note: protoc not installed; skipping the generated-code check (apt-get install -y protobuf-compiler)" >&2
fi
swift test --skip-build
