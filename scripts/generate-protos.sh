#!/usr/bin/env bash
# Regenerates Sources/MixLabRPC/Generated from schemas/mixlab/v1/*.proto.
#
# Uses apt's protoc (apt-get install -y protobuf-compiler) and the two code generators built from
# this package's own dependencies, so the output matches the swift-protobuf / grpc-swift versions
# the package builds against. The SwiftPM build plugins are deliberately not used: they compile
# protoc from source on every clean build.
#
#   scripts/generate-protos.sh          regenerate in place
#   scripts/generate-protos.sh --check  exit 1 when the committed code is not current
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"

if ! command -v protoc >/dev/null 2>&1; then
    echo "protoc is missing: apt-get install -y protobuf-compiler" >&2
    exit 1
fi
swift build --product protoc-gen-swift >/dev/null
swift build --product protoc-gen-grpc-swift-2 >/dev/null
bin="$(swift build --show-bin-path)"

out="Sources/MixLabRPC/Generated"
target="$out"
if [ "${1:-}" = "--check" ]; then
    target="$(mktemp -d)"
    trap 'rm -rf "$target"' EXIT
fi
mkdir -p "$target"
rm -f "$target"/*.swift

protoc --proto_path=schemas \
    --plugin=protoc-gen-swift="$bin/protoc-gen-swift" \
    --plugin=protoc-gen-grpc-swift-2="$bin/protoc-gen-grpc-swift-2" \
    --swift_out="$target" --swift_opt=Visibility=Public,FileNaming=DropPath \
    --grpc-swift-2_out="$target" --grpc-swift-2_opt=Visibility=Public,FileNaming=DropPath \
    schemas/mixlab/v1/*.proto

if [ "${1:-}" = "--check" ]; then
    if ! diff -ru "$out" "$target"; then
        echo "Sources/MixLabRPC/Generated is out of date: run scripts/generate-protos.sh and commit the result" >&2
        exit 1
    fi
    echo "generated code is current"
fi
