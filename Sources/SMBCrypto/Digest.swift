import COpenSSL

/// Message digests. SHA-2 and MD5 come from OpenSSL's default provider;
/// MD4 is pure Swift (RFC 1320) because OpenSSL 3 moved it to the legacy provider.
public enum Digest {
    public static func sha512(_ data: [UInt8]) -> [UInt8] {
        var stream = DigestStream(.sha512)
        stream.update(data)
        return stream.finish()
    }

    public static func sha256(_ data: [UInt8]) -> [UInt8] {
        var stream = DigestStream(.sha256)
        stream.update(data)
        return stream.finish()
    }

    public static func md5(_ data: [UInt8]) -> [UInt8] {
        var stream = DigestStream(.md5)
        stream.update(data)
        return stream.finish()
    }

    /// MD4 (RFC 1320), used only for the NT hash (MS-NLMP 3.3.1).
    public static func md4(_ data: [UInt8]) -> [UInt8] {
        MD4.hash(data)
    }
}

/// The digests DigestStream can run.
enum DigestKind {
    case sha256, sha512, md5

    var blockSize: Int {
        switch self {
        case .sha256, .md5: return 64
        case .sha512: return 128
        }
    }

    var outputSize: Int {
        switch self {
        case .sha256: return 32
        case .sha512: return 64
        case .md5: return 16
        }
    }

    var evp: OpaquePointer? {
        switch self {
        case .sha256: return EVP_sha256()
        case .sha512: return EVP_sha512()
        case .md5: return EVP_md5()
        }
    }
}

/// A streaming EVP digest. Owns its EVP_MD_CTX; not shared across threads.
/// These calls fail only when memory runs out, which is treated as fatal.
struct DigestStream: ~Copyable {
    let kind: DigestKind
    private let ctx: OpaquePointer

    init(_ kind: DigestKind) {
        self.kind = kind
        guard let ctx = EVP_MD_CTX_new() else { fatalError("EVP_MD_CTX_new failed") }
        self.ctx = ctx
        guard EVP_DigestInit_ex(ctx, kind.evp, nil) == 1 else { fatalError("EVP_DigestInit_ex failed") }
    }

    deinit { EVP_MD_CTX_free(ctx) }

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0, let base = bytes.baseAddress else { return }
        guard EVP_DigestUpdate(ctx, base, bytes.count) == 1 else { fatalError("EVP_DigestUpdate failed") }
    }

    mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    consuming func finish() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard EVP_DigestFinal_ex(ctx, &out, &length) == 1 else { fatalError("EVP_DigestFinal_ex failed") }
        return Array(out.prefix(Int(length)))
    }
}
