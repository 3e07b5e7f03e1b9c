// swift-tools-version:6.1
import PackageDescription

/// The pure-math module is compiled with optimisation even in debug builds: fits run thousands of
/// L-BFGS iterations in the test suite, and unoptimised Swift array code is ~30x slower. The corpus
/// generator uses it too, since tests and the demo synthesise megabytes of text.
let optimisedMath: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]

/// The ProxyLM training loops are compiled without bounds checks in every configuration, and for
/// AVX2 + FMA on x86-64 (Haswell, 2013, or newer), so its SIMD8 matrix products use 256-bit
/// registers; a debug build of `mixlab proxy train` is then as fast as a release build.
#if arch(x86_64)
let vectorTarget = ["-target-cpu", "haswell"]
#else
let vectorTarget: [String] = []
#endif
let optimisedTraining: [SwiftSetting] = [.unsafeFlags(["-Ounchecked"] + vectorTarget)]

let package = Package(
    name: "MixLab",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "mixlab", targets: ["mixlab"]),
        .library(name: "MixLabCore", targets: ["MixLabCore"]),
        .library(name: "MixingLaws", targets: ["MixingLaws"]),
        .library(name: "MixLabAnalysis", targets: ["MixLabAnalysis"]),
        .library(name: "MixLabStore", targets: ["MixLabStore"]),
        .library(name: "MixLabPKI", targets: ["MixLabPKI"]),
        .library(name: "MixLabSweeps", targets: ["MixLabSweeps"]),
        .library(name: "MixLabCorpus", targets: ["MixLabCorpus"]),
        .library(name: "MixLabProxyLM", targets: ["MixLabProxyLM"]),
        .library(name: "MixLabTrainerClient", targets: ["MixLabTrainerClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/vapor/sqlite-nio", from: "1.13.2"),
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        .target(name: "MixLabCore"),
        .target(name: "MixingLaws", dependencies: ["MixLabCore"], swiftSettings: optimisedMath),
        .target(name: "MixLabProxyLM", dependencies: ["MixLabCore"], swiftSettings: optimisedTraining),
        .target(name: "MixLabTrainerClient"),
        .target(name: "MixLabAnalysis", dependencies: ["MixLabCore", "MixingLaws"]),
        .target(
            name: "MixLabStore",
            dependencies: [
                "MixLabCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
            ]
        ),
        .target(
            name: "MixLabPKI",
            dependencies: [
                "MixLabCore",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ]
        ),
        .target(
            name: "MixLabSweeps",
            dependencies: [
                "MixLabCore", "MixingLaws", "MixLabAnalysis",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(
            name: "MixLabCorpus",
            dependencies: ["MixLabCore", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: optimisedMath
        ),
        .target(
            name: "MixLabRPC",
            dependencies: [
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        .target(
            name: "MixLabTransport",
            dependencies: [
                "MixLabRPC", "MixLabPKI",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
            ]
        ),
        .target(
            name: "MixLabCoordinator",
            dependencies: [
                "MixLabCore", "MixLabStore", "MixLabRPC", "MixLabTransport", "MixLabPKI", "MixLabSweeps", "MixLabAnalysis", "MixingLaws",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "MixLabWorker",
            dependencies: [
                "MixLabCore", "MixLabRPC", "MixLabTransport", "MixLabPKI", "MixLabRunner",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "MixLabRunner",
            dependencies: ["MixLabCore", .product(name: "Logging", package: "swift-log")]
        ),
        .target(name: "MixLabProcess"),
        .target(
            name: "MixLabDemo",
            dependencies: [
                "MixLabCore", "MixingLaws", "MixLabAnalysis", "MixLabPKI", "MixLabRPC", "MixLabTransport", "MixLabSweeps",
                "MixLabCorpus", "MixLabProcess",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
            ]
        ),
        .target(name: "MixLabTestSupport", dependencies: ["MixLabStore", "MixLabProcess"], path: "Tests/MixLabTestSupport"),
        .executableTarget(
            name: "mixlab",
            dependencies: [
                "MixLabCore", "MixingLaws", "MixLabAnalysis", "MixLabStore", "MixLabRPC", "MixLabTransport", "MixLabPKI",
                "MixLabCoordinator", "MixLabWorker", "MixLabSweeps", "MixLabRunner", "MixLabCorpus", "MixLabProxyLM",
                "MixLabTrainerClient", "MixLabDemo",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "MixLabCoreTests", dependencies: ["MixLabCore"]),
        .testTarget(name: "MixingLawsTests", dependencies: ["MixingLaws", "MixLabCore"], resources: [.copy("Fixtures")],
                    swiftSettings: optimisedMath),
        .testTarget(name: "MixLabStoreTests", dependencies: ["MixLabStore", "MixLabCore", "MixLabAnalysis", "MixLabTestSupport"]),
        .testTarget(name: "MixLabSweepsTests", dependencies: ["MixLabSweeps", "MixLabCore", "MixingLaws", "mixlab"]),
        .testTarget(
            name: "MixLabPKITests",
            dependencies: [
                "MixLabPKI", "MixLabCore", "MixLabTestSupport", "mixlab",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .testTarget(
            name: "MixLabDaemonTests",
            dependencies: [
                "mixlab", "MixLabCore", "MixLabCoordinator", "MixLabStore", "MixLabPKI", "MixLabRPC", "MixLabTransport", "MixLabTestSupport",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .testTarget(
            name: "MixLabRunnerTests",
            dependencies: ["MixLabRunner", "MixLabCore", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "MixLabCorpusTests",
            dependencies: ["MixLabCorpus", "MixLabCore", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: optimisedMath
        ),
        .testTarget(
            name: "MixLabProxyLMTests",
            dependencies: [
                "MixLabProxyLM", "MixLabTrainerClient", "MixLabRunner", "MixLabCore", "MixLabTestSupport", "mixlab",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: optimisedMath
        ),
        .testTarget(
            name: "MixLabDemoTests",
            dependencies: ["MixLabDemo", "MixLabTestSupport", "MixLabSweeps", "MixLabCorpus", "MixLabAnalysis", "MixingLaws", "MixLabCore", "mixlab"]
        ),
        .testTarget(name: "MixLabAnalysisTests", dependencies: ["MixLabAnalysis", "MixLabCore", "MixingLaws", "MixLabTestSupport", "mixlab"]),
    ],
    swiftLanguageModes: [.v6]
)
