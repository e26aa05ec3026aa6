import COpenSSL

/// One GCM decryption fed piece by piece as the ciphertext arrives: each piece is decrypted from
/// where the transport received it straight into the message's own buffer, so a large encrypted
/// READ response is read once instead of copied and then decrypted. Nothing decrypted may be
/// used before `finish` has checked the tag. CCM cannot work this way (OpenSSL takes a CCM
/// message in exactly one update), so it has no counterpart.
/// Not Sendable: one decryption belongs to the one thread that feeds it.
public final class GCMDecryption {
    private let ctx: OpaquePointer
    private var broken = false

    /// nil for a CCM algorithm.
    public init?(algorithm: AEADAlgorithm, key: [UInt8], nonce: [UInt8], aad: UnsafeRawBufferPointer) throws {
        guard !algorithm.isCCM else { return nil }
        guard key.count == algorithm.keyLength else { throw CryptoError.invalidKeyLength(key.count) }
        guard nonce.count == algorithm.nonceLength else {
            throw CryptoError.invalidInput("nonce must be \(algorithm.nonceLength) bytes, got \(nonce.count)")
        }
        guard aad.count < Int(Int32.max) else { throw CryptoError.invalidInput("too large") }
        guard let cipher = algorithm.evpCipher, let ctx = EVP_CIPHER_CTX_new() else { throw OpenSSL.error("GCM setup") }
        self.ctx = ctx
        let keyed = key.withUnsafeBytes { k in
            nonce.withUnsafeBytes { n in
                EVP_DecryptInit_ex(ctx, cipher, nil, nil, nil) == 1
                    && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, Int32(nonce.count), nil) == 1
                    && EVP_DecryptInit_ex(ctx, nil, nil, k.bindMemory(to: UInt8.self).baseAddress,
                                          n.bindMemory(to: UInt8.self).baseAddress) == 1
            }
        }
        guard keyed else { throw OpenSSL.error("GCM key") }
        var outLength: Int32 = 0
        if aad.count > 0 {
            guard EVP_DecryptUpdate(ctx, nil, &outLength, aad.bindMemory(to: UInt8.self).baseAddress, Int32(aad.count)) == 1 else {
                throw OpenSSL.error("AAD")
            }
        }
    }

    deinit { EVP_CIPHER_CTX_free(ctx) }

    /// Decrypts `input` into `output` (at least as large). GCM is a stream mode: OpenSSL puts
    /// out exactly as many bytes as it is given, whatever the piece's length.
    public func update(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawPointer) {
        guard !broken, input.count > 0 else { return }
        guard input.count < Int(Int32.max) else { broken = true; return }
        var outLength: Int32 = 0
        let ok = EVP_DecryptUpdate(ctx, output.assumingMemoryBound(to: UInt8.self), &outLength,
                                   input.bindMemory(to: UInt8.self).baseAddress, Int32(input.count))
        if ok != 1 || Int(outLength) != input.count {
            ERR_clear_error()
            broken = true
        }
    }

    /// Checks the 16-byte tag over the AAD and every piece given; throws
    /// `CryptoError.authenticationFailed` when it does not match (or a piece failed).
    public func finish(tag: [UInt8]) throws {
        guard !broken, tag.count == AEADAlgorithm.tagLength else { throw CryptoError.authenticationFailed }
        var t = tag
        let set = t.withUnsafeMutableBytes { EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, Int32($0.count), $0.baseAddress) }
        guard set == 1 else { throw OpenSSL.error("GCM tag") }
        var tail = [UInt8](repeating: 0, count: 16)
        var outLength: Int32 = 0
        guard EVP_DecryptFinal_ex(ctx, &tail, &outLength) == 1 else {
            ERR_clear_error()
            throw CryptoError.authenticationFailed
        }
    }
}
