import SMBCrypto
import SMBProtocol
import Synchronization

/// A session's encryption (MS-SMB2 3.1.4.3, 3.2.4.1.8, 3.2.5.1.1.1): Session.EncryptionKey for
/// what the client sends, Session.DecryptionKey for what it receives, and the nonces. One object
/// per session, shared by every channel bound to it, so a nonce is never used twice under a key
/// (2.2.41: "MUST NOT be reused ... within a session").
final class SessionCipher: Sendable {
    let cipher: Cipher
    let sessionId: UInt64
    private let encryption: AEAD
    fileprivate let decryption: AEAD
    /// Nonce = a random prefix fixed for the key, then a 64-bit counter: unique without
    /// coordination, and unpredictable across sessions.
    private let prefix: [UInt8]
    private let counter = Atomic<UInt64>(0)

    init(cipher: Cipher, sessionId: UInt64, encryptionKey: [UInt8], decryptionKey: [UInt8]) throws {
        let algorithm = cipher.aead
        self.cipher = cipher
        self.sessionId = sessionId
        encryption = try AEAD(algorithm: algorithm, key: encryptionKey)
        decryption = try AEAD(algorithm: algorithm, key: decryptionKey)
        prefix = Random.bytes(algorithm.nonceLength - 8)
    }

    /// MS-SMB2 3.2.5.3.1: the keys per dialect. 3.0/3.0.2 take AES-128-CCM keys from the
    /// 16-byte SessionKey; 3.1.1 binds them to the preauth hash, and the 256-bit ciphers use the
    /// whole key the authentication produced (Session.FullSessionKey) with L = 256.
    static func derive(cipher: Cipher, dialect: Dialect, sessionId: UInt64, sessionKey: [UInt8],
                       fullSessionKey: [UInt8], preauthHash: [UInt8]) throws -> SessionCipher {
        let enc: [UInt8], dec: [UInt8]
        if dialect == .smb311 {
            let wide = cipher == .aes256CCM || cipher == .aes256GCM
            let key = wide ? fullSessionKey : sessionKey
            let bits = wide ? 256 : 128
            enc = KDF.smb3(key: key, label: Array("SMBC2SCipherKey".utf8) + [0], context: preauthHash, outputBits: bits)
            dec = KDF.smb3(key: key, label: Array("SMBS2CCipherKey".utf8) + [0], context: preauthHash, outputBits: bits)
        } else {
            enc = KDF.smb3(key: sessionKey, label: Array("SMB2AESCCM".utf8) + [0], context: Array("ServerIn ".utf8) + [0])
            dec = KDF.smb3(key: sessionKey, label: Array("SMB2AESCCM".utf8) + [0], context: Array("ServerOut".utf8) + [0])
        }
        return try SessionCipher(cipher: cipher, sessionId: sessionId, encryptionKey: enc, decryptionKey: dec)
    }

    private func nextNonce() -> [UInt8] {
        let n = counter.wrappingAdd(1, ordering: .relaxed).newValue
        var nonce = prefix
        for i in 0..<8 { nonce.append(UInt8(truncatingIfNeeded: n >> (8 * UInt64(i)))) }
        return nonce
    }

    /// Encrypts in place: `frame` is 52 bytes of room for the TRANSFORM_HEADER followed by the
    /// SMB2 message (or compound chain) to send (MS-SMB2 3.1.4.3).
    func seal(_ frame: UnsafeMutableRawBufferPointer) throws {
        let size = frame.count - TransformHeader.size
        guard size >= Header.size, size <= Int(UInt32.max) else { throw CryptoError.invalidInput("message of \(size) bytes") }
        let nonce = nextNonce()
        var w = WireWriter(capacity: TransformHeader.size)
        TransformHeader(nonce: nonce, originalMessageSize: UInt32(size), sessionId: sessionId).encode(into: &w)
        for (i, b) in w.bytes.enumerated() { frame[i] = b }
        let aad = UnsafeRawBufferPointer(rebasing: frame[TransformHeader.aadRange])
        let tag = try encryption.seal(nonce: nonce, aad: aad,
                                      data: UnsafeMutableRawBufferPointer(rebasing: frame[TransformHeader.size...]))
        for (i, b) in tag.enumerated() { frame[TransformHeader.signatureRange.lowerBound + i] = b }
    }

    enum OpenError: Error, CustomStringConvertible {
        case malformed(String), otherSession(UInt64), authentication

        var description: String {
            switch self {
            case .malformed(let s): return "malformed TRANSFORM_HEADER: \(s)"
            case .otherSession(let id): return "encrypted for session \(String(id, radix: 16)), not this one"
            case .authentication: return "the message does not decrypt (tampered, or not under this session's key)"
            }
        }
    }

    /// The SMB2 message (or chain) inside an encrypted frame, after its tag is checked
    /// (MS-SMB2 3.2.5.1.1.1).
    func open(_ frame: [UInt8]) throws(OpenError) -> [UInt8] {
        guard frame.count >= TransformHeader.size else { throw .malformed("a frame of \(frame.count) bytes") }
        var body = Array(frame[TransformHeader.size...])
        try open(header: Array(frame[..<TransformHeader.size]), body: &body)
        return body
    }

    /// As `open`, for a frame received as its TRANSFORM_HEADER (`header`) and the rest
    /// (`body`): the message is decrypted in place, and `body` becomes it. A READ's payload is
    /// not copied on its way to the reader.
    func open(header bytes: [UInt8], body: inout [UInt8]) throws(OpenError) {
        let header: TransformHeader
        do { header = try TransformHeader.decode(bytes, following: body.count) } catch { throw .malformed("\(error)") }
        guard header.sessionId == sessionId else { throw .otherSession(header.sessionId) }
        let nonce = Array(header.nonce.prefix(cipher.aead.nonceLength))
        let size = Int(header.originalMessageSize)
        do {
            try bytes.withUnsafeBytes { h in
                try body.withUnsafeMutableBytes { m in
                    try decryption.open(nonce: nonce, aad: UnsafeRawBufferPointer(rebasing: h[TransformHeader.aadRange]),
                                        data: UnsafeMutableRawBufferPointer(rebasing: m[..<size]), tag: header.signature)
                }
            }
        } catch {
            throw .authentication
        }
        if size < body.count { body.removeLast(body.count - size) }
    }
}

/// An encrypted frame decrypted as it arrives (GCM): the receiver hands each piece of the
/// ciphertext to `take`, which decrypts it into the frame's buffer; `finish` checks the tag
/// before a byte of it is used (MS-SMB2 3.2.5.1.1.1).
final class Opening {
    let header: TransformHeader
    private let decryption: GCMDecryption
    /// Ciphertext still to come: the bytes after OriginalMessageSize are not part of it.
    private var remaining: Int

    fileprivate init(header: TransformHeader, decryption: GCMDecryption) {
        self.header = header
        self.decryption = decryption
        remaining = Int(header.originalMessageSize)
    }

    func take(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawPointer) {
        let n = min(remaining, input.count)
        decryption.update(UnsafeRawBufferPointer(rebasing: input[..<n]), into: output)
        if n < input.count {
            output.advanced(by: n).copyMemory(from: input.baseAddress! + n, byteCount: input.count - n)
        }
        remaining -= n
    }

    /// The message, once the tag matches: `body` (every piece, in order) cut to its size.
    func finish(body: inout [UInt8]) throws(SessionCipher.OpenError) {
        do { try decryption.finish(tag: header.signature) } catch { throw .authentication }
        let size = Int(header.originalMessageSize)
        if size < body.count { body.removeLast(body.count - size) }
    }
}

extension SessionCipher {
    /// An Opening for a frame whose TRANSFORM_HEADER is `bytes` and `following` bytes come
    /// after it; nil when this cipher cannot be fed piece by piece (CCM) or the header is not
    /// one this session can open (the whole-frame path then says why).
    func opening(header bytes: [UInt8], following: Int) -> Opening? {
        guard let header = try? TransformHeader.decode(bytes, following: following), header.sessionId == sessionId else {
            return nil
        }
        let nonce = Array(header.nonce.prefix(cipher.aead.nonceLength))
        let d = try? bytes.withUnsafeBytes { h in
            try decryption.decryption(nonce: nonce, aad: UnsafeRawBufferPointer(rebasing: h[TransformHeader.aadRange]))
        }
        guard let d = d ?? nil else { return nil }
        return Opening(header: header, decryption: d)
    }
}

extension Cipher {
    var aead: AEADAlgorithm {
        switch self {
        case .aes128CCM: .aes128CCM
        case .aes128GCM: .aes128GCM
        case .aes256CCM: .aes256CCM
        case .aes256GCM: .aes256GCM
        }
    }
}
