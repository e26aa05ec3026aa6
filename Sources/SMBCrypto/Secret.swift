import COpenSSL

/// Overwriting secrets once they are no longer needed (OPENSSL_cleanse: a store the compiler
/// cannot drop). Swift may have copied an array before; this clears the storage at hand,
/// which is what the language allows.
public enum Secret {
    public static func wipe(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { b in
            if let p = b.baseAddress { OPENSSL_cleanse(p, b.count) }
        }
    }

    public static func wipe(_ pointer: UnsafeMutableRawPointer, count: Int) {
        OPENSSL_cleanse(pointer, count)
    }
}
