// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

// Coffer builds and runs on Linux only (Debian 12 is the reference): its C libraries, inotify,
// /proc and the Glibc calls it makes are Linux's. No Apple platform is declared.
let package = Package(
    name: "Coffer",
    products: [
        .executable(name: "coffer", targets: ["CofferCLI"]),
        .executable(name: "coffer-transaction", targets: ["CofferTransactionMain"]),
        .executable(name: "coffer-database", targets: ["CofferDatabaseMain"]),
        .executable(name: "coffer-admin", targets: ["CofferAdminMain"]),
        .executable(name: "coffer-bench", targets: ["CofferBench"]),
        .executable(name: "coffer-fuzz", targets: ["CofferFuzz"]),
        .library(name: "CofferContainer", targets: ["CofferContainer"]),
        .library(name: "CofferClient", targets: ["CofferClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // MARK: C system libraries
        .systemLibrary(name: "CZeroMQ", pkgConfig: "libzmq", providers: [.apt(["libzmq3-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CPKCS11", pkgConfig: "p11-kit-1", providers: [.apt(["libp11-kit-dev"])]),

        // MARK: Formats and shared vocabulary
        .target(
            name: "CofferText",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CofferWire",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["coffer_wire.proto"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CofferAPI",
            dependencies: ["CofferText", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CofferContainer",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CofferAudit",
            dependencies: ["CofferText", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CofferWebModule",
            dependencies: ["CofferAPI", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CofferDigest",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CofferTimestamp",
            dependencies: ["COpenSSL"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CofferZMQ",
            dependencies: [
                "CZeroMQ",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CofferServerSupport",
            dependencies: [
                "CofferText", .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"), .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),

        .target(
            name: "CofferFiles",
            swiftSettings: swiftSettings
        ),

        // MARK: Keys and the tier link, shared by the transaction tier and the operators' tool
        .target(
            name: "CofferKeys",
            dependencies: ["CofferAudit", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        // A PKCS#11 token (the cryptographic device): loaded at run time, keys that never leave it.
        .target(
            name: "CofferDevice",
            dependencies: ["CPKCS11"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CofferTierLink",
            dependencies: ["CofferKeys", "CofferWire", "CofferZMQ", .product(name: "Logging", package: "swift-log"),
                           .product(name: "Metrics", package: "swift-metrics")],
            swiftSettings: swiftSettings
        ),

        // MARK: Database tier
        .target(
            name: "CofferStorage",
            dependencies: [
                "CofferAudit",
                "CofferDigest",
                "CofferFiles",
                "CSQLite",
                "CLibPQ",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CofferDatabase",
            dependencies: [
                "CofferAudit",
                "CofferFiles",
                "CofferServerSupport",
                "CofferStorage",
                "CofferWire",
                "CofferZMQ",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Transaction tier
        .target(
            name: "CofferTransaction",
            dependencies: [
                "CofferAPI",
                "CofferAudit",
                "CofferFiles",
                "CofferDevice",
                "CofferKeys",
                "CofferServerSupport",
                "CofferText",
                "CofferTierLink",
                "CofferTimestamp",
                "CofferWebModule",
                "CofferWire",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Operators
        .target(
            name: "CofferAdmin",
            dependencies: [
                "CofferAPI",
                "CofferAudit",
                "CofferDevice",
                "CofferFiles",
                "CofferKeys",
                "CofferTierLink",
                "CofferWire",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Client
        .target(
            name: "CofferClient",
            dependencies: [
                "CofferAPI",
                "CofferFiles",
                "CofferText",
                "CofferAudit",
                "CofferTimestamp",
                "CofferContainer",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Executables: parse arguments, call a library
        .executableTarget(
            name: "CofferCLI",
            dependencies: [
                "CofferClient",
                "CofferText",
                .product(name: "Crypto", package: "swift-crypto"),
                "CofferContainer",
                "CofferAPI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "CofferTransactionMain",
            dependencies: [
                "CofferTransaction",
                "CofferServerSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "CofferDatabaseMain",
            dependencies: [
                "CofferDatabase",
                "CofferServerSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "CofferBench",
            dependencies: [
                "CofferAPI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "CofferFuzz",
            dependencies: [
                "CofferAPI", "CofferAudit", "CofferContainer", "CofferDatabase", "CofferStorage", "CofferTimestamp",
                "CofferTransaction", "CofferWire",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "CofferAdminMain",
            dependencies: [
                "CofferAdmin",
                "CofferText",
                "CofferAudit",
                "CofferDevice",
                "CofferKeys",
                "CofferStorage",
                "CofferWire",
                "CofferZMQ",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Test support and tests
        .target(
            name: "CofferTesting",
            dependencies: [],
            path: "Tests/CofferTesting",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CofferKeysTests",
            dependencies: ["CofferKeys", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CofferTextTests",
            dependencies: ["CofferText"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CofferContainerTests",
            dependencies: ["CofferContainer", .product(name: "Crypto", package: "swift-crypto")],
            exclude: ["Vectors"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CofferTimestampTests",
            dependencies: ["CofferTimestamp", "CofferTesting", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CofferClientTests",
            dependencies: ["CofferClient", "CofferAPI", "CofferFiles", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CofferDeviceTests",
            dependencies: ["CofferDevice", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CofferServerSupportTests",
            dependencies: ["CofferServerSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CofferAuditTests",
            dependencies: ["CofferAudit", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CofferDatabaseTests",
            dependencies: ["CofferDatabase", "CofferServerSupport", "CofferStorage", "CofferWire", "CofferTesting", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CofferWireTests",
            dependencies: ["CofferWire"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CofferAPITests",
            dependencies: ["CofferAPI", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CofferStorageTests",
            dependencies: ["CofferStorage", "CofferAudit", "CofferDigest", "CofferTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CofferZMQTests",
            dependencies: ["CofferZMQ", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CofferTransactionTests",
            dependencies: [
                "CofferTransaction", "CofferAPI", "CofferAudit", "CofferKeys", "CofferServerSupport", "CofferTesting", "CofferTierLink", "CofferTimestamp",
                "CofferWebModule", "CofferWire",
                .product(name: "Crypto", package: "swift-crypto"), .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"), .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CofferEndToEndTests",
            dependencies: [
                "CofferTesting",
                "CofferAPI",
                "CofferClient",
                "CofferContainer",
                "CofferTransaction",
                .product(name: "Crypto", package: "swift-crypto"),
                "CofferAudit",
                "CofferStorage",
                "CofferZMQ",
                "CofferWire",
                .product(name: "Logging", package: "swift-log"),
                "CofferCLI",
                "CofferTransactionMain",
                "CofferDatabaseMain",
                "CofferAdminMain",
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
