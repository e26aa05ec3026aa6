import COpenSSL

// Fetched once; EVP_MAC objects are immutable and reference counted, safe to share between threads.
nonisolated(unsafe) private let cmacAlgorithm: OpaquePointer? = EVP_MAC_fetch(nil, "CMAC", nil)
nonisolated(unsafe) private let gmacAlgorithm: OpaquePointer? = EVP_MAC_fetch(nil, "GMAC", nil)

/// AES MACs through OpenSSL's EVP_MAC (TOOLCHAIN-NOTES.md section 3).
enum EVPMAC {
    enum Algorithm {
        /// AES-128-CMAC, RFC 4493.
        case cmac
        /// AES-128-GMAC (GCM with the message as AAD and no plaintext), RFC 4543.
        case gmac(nonce: [UInt8])
    }

    /// Runs one MAC computation. `feed` receives an update function to call once per piece of the message.
    static func compute(
        _ algorithm: Algorithm,
        key: [UInt8],
        feed: (_ update: (UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws -> [UInt8] {
        guard key.count == 16 else { throw CryptoError.invalidKeyLength(key.count) }
        let mac: OpaquePointer?
        let cipher: String
        var iv: [UInt8]
        switch algorithm {
        case .cmac:
            mac = cmacAlgorithm
            cipher = "AES-128-CBC"
            iv = []
        case .gmac(let nonce):
            guard nonce.count == 12 else { throw CryptoError.invalidInput("GMAC nonce must be 12 bytes, got \(nonce.count)") }
            mac = gmacAlgorithm
            cipher = "AES-128-GCM"
            iv = nonce
        }
        guard let mac else { throw OpenSSL.error("EVP_MAC_fetch") }
        guard let ctx = EVP_MAC_CTX_new(mac) else { throw OpenSSL.error("EVP_MAC_CTX_new") }
        defer { EVP_MAC_CTX_free(ctx) }

        // OSSL_PARAM holds raw pointers: keep every buffer alive until EVP_MAC_init returns.
        let hasIV = !iv.isEmpty
        let initialised: Int32 = OSSL_MAC_PARAM_CIPHER.withCString { cipherKey in
            cipher.withCString { cipherName in
                OSSL_MAC_PARAM_IV.withCString { ivKey in
                    iv.withUnsafeMutableBytes { ivBytes in
                        key.withUnsafeBytes { keyBytes in
                            var params = [OSSL_PARAM_construct_utf8_string(cipherKey, UnsafeMutablePointer(mutating: cipherName), 0)]
                            if hasIV {
                                params.append(OSSL_PARAM_construct_octet_string(ivKey, ivBytes.baseAddress, ivBytes.count))
                            }
                            params.append(OSSL_PARAM_construct_end())
                            return EVP_MAC_init(ctx, keyBytes.bindMemory(to: UInt8.self).baseAddress, keyBytes.count, &params)
                        }
                    }
                }
            }
        }
        guard initialised == 1 else { throw OpenSSL.error("EVP_MAC_init") }

        var failed = false
        try feed { piece in
            guard piece.count > 0, let base = piece.baseAddress else { return }
            if EVP_MAC_update(ctx, base.assumingMemoryBound(to: UInt8.self), piece.count) != 1 { failed = true }
        }
        guard !failed else { throw OpenSSL.error("EVP_MAC_update") }

        var out = [UInt8](repeating: 0, count: 16)
        var outLength = 0
        guard EVP_MAC_final(ctx, &out, &outLength, out.count) == 1 else { throw OpenSSL.error("EVP_MAC_final") }
        guard outLength == 16 else { throw CryptoError.openssl("EVP_MAC_final returned \(outLength) bytes") }
        return out
    }
}
