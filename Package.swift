// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "smb3fs",
    products: [
        .executable(name: "smb3fs", targets: ["smb3fs"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
    ],
    targets: [
        .systemLibrary(name: "CFuse3", pkgConfig: "fuse3", providers: [.apt(["libfuse3-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CGSSAPI", providers: [.apt(["libkrb5-dev"])]),

        .target(name: "Locking"),
        .target(name: "SMBProtocol"),
        .target(name: "SMBCrypto", dependencies: ["COpenSSL"]),
        .target(name: "SMBAuth", dependencies: ["SMBCrypto", "CGSSAPI"]),
        .target(name: "SMBClient", dependencies: [
            "SMBProtocol", "SMBCrypto", "SMBAuth", "Locking",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "SMBFS", dependencies: [
            "SMBClient", "SMBProtocol", "SMBCrypto", "Locking",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "FUSEAdapter", dependencies: [
            "SMBFS", "CFuse3",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "smb3fs", dependencies: [
            "FUSEAdapter", "SMBFS", "SMBClient", "SMBCrypto", "Locking",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Decoder fuzz targets: libFuzzer with -DFUZZING -sanitize=fuzzer, else a replayer (Scripts/fuzz).
        .target(name: "SMBFuzzTargets", dependencies: ["SMBProtocol", "SMBAuth", "SMBCrypto"]),
        .executableTarget(name: "SMBFuzz", dependencies: ["SMBFuzzTargets"]),

        .testTarget(name: "SMBProtocolTests", dependencies: ["SMBProtocol"]),
        .testTarget(name: "SMBCryptoTests", dependencies: ["SMBCrypto"]),
        .testTarget(name: "SMBAuthTests", dependencies: ["SMBAuth", "SMBCrypto"]),
        .testTarget(name: "SMBClientTests", dependencies: ["SMBClient", "SMBProtocol", "Locking"]),
        .testTarget(name: "SMBFSTests", dependencies: ["SMBFS", "SMBClient", "Locking"]),
        .testTarget(name: "SMBFuzzTests", dependencies: ["SMBFuzzTargets"]),
        .testTarget(name: "MountTests"),
    ]
)
