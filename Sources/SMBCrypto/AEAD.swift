import COpenSSL

/// The four SMB 3.x ciphers (MS-SMB2 2.2.3.1.2): AES in CCM (RFC 4309 style, 11-byte nonce) or
/// GCM (12-byte nonce) mode, 128- or 256-bit keys, always a 16-byte tag.
public enum AEADAlgorithm: Sendable, CaseIterable {
    case aes128CCM, aes128GCM, aes256CCM, aes256GCM

    public var keyLength: Int {
        switch self { case .aes128CCM, .aes128GCM: 16; case .aes256CCM, .aes256GCM: 32 }
    }

    /// MS-SMB2 2.2.41: AES_CCM_Nonce is 11 bytes, AES_GCM_Nonce 12.
    public var nonceLength: Int {
        switch self { case .aes128CCM, .aes256CCM: 11; case .aes128GCM, .aes256GCM: 12 }
    }

    public static let tagLength = 16

    var isCCM: Bool { self == .aes128CCM || self == .aes256CCM }

    var evpCipher: OpaquePointer? {
        switch self {
        case .aes128CCM: aes128CCMCipher
        case .aes128GCM: aes128GCMCipher
        case .aes256CCM: aes256CCMCipher
        case .aes256GCM: aes256GCMCipher
        }
    }
}

// Fetched once; EVP_CIPHER objects are immutable and may be shared between threads.
nonisolated(unsafe) private let aes128CCMCipher: OpaquePointer? = EVP_CIPHER_fetch(nil, "AES-128-CCM", nil)
nonisolated(unsafe) private let aes128GCMCipher: OpaquePointer? = EVP_CIPHER_fetch(nil, "AES-128-GCM", nil)
nonisolated(unsafe) private let aes256CCMCipher: OpaquePointer? = EVP_CIPHER_fetch(nil, "AES-256-CCM", nil)
nonisolated(unsafe) private let aes256GCMCipher: OpaquePointer? = EVP_CIPHER_fetch(nil, "AES-256-GCM", nil)

/// Authenticated encryption with one key, in place: the data is encrypted or decrypted where it
/// lies (a transport buffer), so a 1 MiB READ or WRITE is not copied for it. Call order as
/// TOOLCHAIN-NOTES.md section 3 lists it (CCM: lengths before the key, exactly one data update).
public struct AEAD: Sendable {
    public let algorithm: AEADAlgorithm
    private let key: [UInt8]

    public init(algorithm: AEADAlgorithm, key: [UInt8]) throws {
        guard key.count == algorithm.keyLength else { throw CryptoError.invalidKeyLength(key.count) }
        self.algorithm = algorithm
        self.key = key
    }

    /// Encrypts `data` in place and returns the 16-byte tag over `aad` and the data.
    public func seal(nonce: [UInt8], aad: UnsafeRawBufferPointer, data: UnsafeMutableRawBufferPointer) throws -> [UInt8] {
        var tag = [UInt8](repeating: 0, count: AEADAlgorithm.tagLength)
        try run(encrypt: true, nonce: nonce, aad: aad, data: data, tag: &tag)
        return tag
    }

    /// Decrypts `data` in place; throws `CryptoError.authenticationFailed` when `tag` does not
    /// match (the data is then garbage and must not be used).
    public func open(nonce: [UInt8], aad: UnsafeRawBufferPointer, data: UnsafeMutableRawBufferPointer, tag: [UInt8]) throws {
        guard tag.count == AEADAlgorithm.tagLength else { throw CryptoError.authenticationFailed }
        var t = tag
        try run(encrypt: false, nonce: nonce, aad: aad, data: data, tag: &t)
    }

    /// A decryption under this key fed piece by piece (GCM only; nil for CCM).
    public func decryption(nonce: [UInt8], aad: UnsafeRawBufferPointer) throws -> GCMDecryption? {
        try GCMDecryption(algorithm: algorithm, key: key, nonce: nonce, aad: aad)
    }

    /// Convenience for tests and small messages: returns ciphertext and tag.
    public func seal(nonce: [UInt8], aad: [UInt8], plaintext: [UInt8]) throws -> (ciphertext: [UInt8], tag: [UInt8]) {
        var data = plaintext
        let tag = try aad.withUnsafeBytes { a in
            try data.withUnsafeMutableBytes { try seal(nonce: nonce, aad: a, data: $0) }
        }
        return (data, tag)
    }

    public func open(nonce: [UInt8], aad: [UInt8], ciphertext: [UInt8], tag: [UInt8]) throws -> [UInt8] {
        var data = ciphertext
        try aad.withUnsafeBytes { a in
            try data.withUnsafeMutableBytes { try open(nonce: nonce, aad: a, data: $0, tag: tag) }
        }
        return data
    }

    private func run(encrypt: Bool, nonce: [UInt8], aad: UnsafeRawBufferPointer,
                     data: UnsafeMutableRawBufferPointer, tag: inout [UInt8]) throws {
        guard nonce.count == algorithm.nonceLength else {
            throw CryptoError.invalidInput("nonce must be \(algorithm.nonceLength) bytes, got \(nonce.count)")
        }
        guard let cipher = algorithm.evpCipher else { throw OpenSSL.error("EVP_CIPHER_fetch") }
        guard let ctx = EVP_CIPHER_CTX_new() else { throw OpenSSL.error("EVP_CIPHER_CTX_new") }
        defer { EVP_CIPHER_CTX_free(ctx) }
        let initFn = encrypt ? EVP_EncryptInit_ex : EVP_DecryptInit_ex
        let updateFn = encrypt ? EVP_EncryptUpdate : EVP_DecryptUpdate
        guard initFn(ctx, cipher, nil, nil, nil) == 1,
              EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, Int32(nonce.count), nil) == 1 else {
            throw OpenSSL.error("cipher setup")
        }
        let ccm = algorithm.isCCM
        if ccm {
            // CCM: the tag length (and, decrypting, the expected tag) before the key.
            let ok = tag.withUnsafeMutableBytes { t in
                EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, Int32(t.count), encrypt ? nil : t.baseAddress)
            }
            guard ok == 1 else { throw OpenSSL.error("CCM tag setup") }
        }
        let keyed = key.withUnsafeBytes { k in
            nonce.withUnsafeBytes { n in
                initFn(ctx, nil, nil, k.bindMemory(to: UInt8.self).baseAddress, n.bindMemory(to: UInt8.self).baseAddress)
            }
        }
        guard keyed == 1 else { throw OpenSSL.error("cipher key") }
        var outLength: Int32 = 0
        // OpenSSL takes int lengths; SMB frames are below 16 MiB.
        guard data.count < Int(Int32.max), aad.count < Int(Int32.max) else { throw CryptoError.invalidInput("too large") }
        if ccm {
            guard updateFn(ctx, nil, &outLength, nil, Int32(data.count)) == 1 else { throw OpenSSL.error("CCM length") }
        }
        if aad.count > 0 {
            guard updateFn(ctx, nil, &outLength, aad.bindMemory(to: UInt8.self).baseAddress, Int32(aad.count)) == 1 else {
                throw OpenSSL.error("AAD")
            }
        }
        // A NULL out pointer means "AAD" to OpenSSL: an empty message still needs one.
        var dummy: UInt8 = 0
        let base = data.baseAddress?.assumingMemoryBound(to: UInt8.self)
        let updated = withUnsafeMutablePointer(to: &dummy) { d in
            updateFn(ctx, base ?? d, &outLength, base.map { UnsafePointer($0) } ?? UnsafePointer(d), Int32(data.count))
        }
        if ccm {
            // CCM verifies the tag in its one data update; no final step.
            guard updated == 1 else {
                ERR_clear_error()
                if encrypt { throw OpenSSL.error("CCM encrypt") }
                throw CryptoError.authenticationFailed
            }
            if encrypt {
                guard EVP_EncryptFinal_ex(ctx, &dummy, &outLength) == 1 else { throw OpenSSL.error("CCM final") }
                let got = tag.withUnsafeMutableBytes { t in
                    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, Int32(t.count), t.baseAddress)
                }
                guard got == 1 else { throw OpenSSL.error("CCM tag") }
            }
            return
        }
        guard updated == 1 else { throw OpenSSL.error("GCM update") }
        if encrypt {
            var tail = [UInt8](repeating: 0, count: 16)
            guard EVP_EncryptFinal_ex(ctx, &tail, &outLength) == 1 else { throw OpenSSL.error("GCM final") }
            let got = tag.withUnsafeMutableBytes { t in
                EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, Int32(t.count), t.baseAddress)
            }
            guard got == 1 else { throw OpenSSL.error("GCM tag") }
        } else {
            let set = tag.withUnsafeMutableBytes { t in
                EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, Int32(t.count), t.baseAddress)
            }
            guard set == 1 else { throw OpenSSL.error("GCM tag") }
            var tail = [UInt8](repeating: 0, count: 16)
            guard EVP_DecryptFinal_ex(ctx, &tail, &outLength) == 1 else {
                ERR_clear_error()
                throw CryptoError.authenticationFailed
            }
        }
    }
}
