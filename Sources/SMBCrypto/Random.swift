import COpenSSL

/// Cryptographically secure random bytes from OpenSSL's RAND_bytes.
public enum Random {
    public static func bytes(_ n: Int) -> [UInt8] {
        guard n > 0 else { return [] }
        var out = [UInt8](repeating: 0, count: n)
        // RAND_bytes fails only if the DRBG cannot be seeded; continuing without randomness would be unsafe.
        guard RAND_bytes(&out, Int32(n)) == 1 else { fatalError("RAND_bytes failed") }
        return out
    }
}
