/// SMB2 signing algorithm; raw values are the SigningAlgorithms ids of
/// SMB2_SIGNING_CAPABILITIES (MS-SMB2 2.2.3.1.7).
public enum SigningAlgorithm: UInt16, Sendable {
    case hmacSHA256 = 0
    case aesCMAC = 1
    case aesGMAC = 2
}

/// SMB2 message signing (MS-SMB2 3.1.4.1) and verification (3.1.5.1) of one whole
/// SMB2 message: header plus body (plus compound padding), without the 4-byte transport header.
/// The message is never copied: the MAC is fed the header before the signature,
/// 16 zero bytes, then the rest.
public struct MessageSigner: Sendable {
    /// MS-SMB2 2.2.1: Signature is bytes 48..<64 of the 64-byte header.
    static let signatureRange = 48..<64
    static let headerSize = 64
    /// MS-SMB2 2.2.1.2 Flags: SMB2_FLAGS_SERVER_TO_REDIR.
    static let serverToRedir: UInt32 = 0x1
    /// MS-SMB2 2.2.1 Command: SMB2 CANCEL.
    static let cancelCommand: UInt16 = 0x000C

    let algorithm: SigningAlgorithm
    private let key: [UInt8]

    /// `key` must be 16 bytes for AES-CMAC and AES-GMAC; HMAC-SHA256 takes any key as is.
    public init(algorithm: SigningAlgorithm, key: [UInt8]) throws {
        switch algorithm {
        case .aesCMAC, .aesGMAC:
            guard key.count == 16 else { throw CryptoError.invalidKeyLength(key.count) }
        case .hmacSHA256:
            guard !key.isEmpty else { throw CryptoError.invalidKeyLength(0) }
        }
        self.algorithm = algorithm
        self.key = key
    }

    /// The 16-byte signature of `message`, computed as if its Signature field were zero.
    public func signature(of message: [UInt8]) throws -> [UInt8] {
        try message.withUnsafeBytes { try signature(ofBytes: $0) }
    }

    /// As signature(of:), of a message held elsewhere (a transport buffer).
    public func signature(ofBytes whole: UnsafeRawBufferPointer) throws -> [UInt8] {
        guard whole.count >= Self.headerSize else {
            throw CryptoError.invalidInput("SMB2 message shorter than its 64-byte header")
        }
        let before = UnsafeRawBufferPointer(rebasing: whole[0..<Self.signatureRange.lowerBound])
        let after = UnsafeRawBufferPointer(rebasing: whole[Self.signatureRange.upperBound...])
        let zeros = [UInt8](repeating: 0, count: 16)
        switch algorithm {
        case .hmacSHA256:
            // MS-SMB2 3.1.4.1: dialects 2.0.2/2.1 use the first 16 bytes of HMAC-SHA256.
            var h = HMACStream(.sha256, key: key)
            h.update(before)
            h.update(zeros)
            h.update(after)
            return Array(h.finish().prefix(16))
        case .aesCMAC:
            return try EVPMAC.compute(.cmac, key: key) { update in
                try update(before)
                try zeros.withUnsafeBytes { try update($0) }
                try update(after)
            }
        case .aesGMAC:
            return try EVPMAC.compute(.gmac(nonce: Self.gmacNonce(whole)), key: key) { update in
                try update(before)
                try zeros.withUnsafeBytes { try update($0) }
                try update(after)
            }
        }
    }

    /// Writes signature(of:) into bytes 48..<64. The caller sets SMB2_FLAGS_SIGNED first.
    public func sign(_ message: inout [UInt8]) throws {
        let sig = try signature(of: message)
        message.replaceSubrange(Self.signatureRange, with: sig)
    }

    /// As sign(_:), in place in a message held elsewhere (a transport buffer).
    public func sign(bytes message: UnsafeMutableRawBufferPointer) throws {
        let sig = try signature(ofBytes: UnsafeRawBufferPointer(message))
        for (i, b) in sig.enumerated() { message[Self.signatureRange.lowerBound + i] = b }
    }

    /// True if bytes 48..<64 hold the right signature (constant-time compare).
    public func verify(_ message: [UInt8]) -> Bool {
        guard message.count >= Self.headerSize, let expected = try? signature(of: message) else { return false }
        var diff: UInt8 = 0
        for (i, byte) in expected.enumerated() {
            diff |= byte ^ message[Self.signatureRange.lowerBound + i]
        }
        return diff == 0
    }

    /// MS-SMB2 3.1.4.1 AES-GMAC nonce: MessageId (header bytes 24..<32, as on the wire), then a
    /// 32-bit LE value whose bit 0 is set when the sender is the server and bit 1 for SMB2 CANCEL.
    static func gmacNonce(_ header: UnsafeRawBufferPointer) -> [UInt8] {
        var nonce = Array(header[24..<32])
        let flags = UInt32(header[16]) | UInt32(header[17]) << 8 | UInt32(header[18]) << 16 | UInt32(header[19]) << 24
        let command = UInt16(header[12]) | UInt16(header[13]) << 8
        var role: UInt8 = 0
        if flags & serverToRedir != 0 { role |= 0x1 }
        if command == cancelCommand { role |= 0x2 }
        nonce += [role, 0, 0, 0]
        return nonce
    }
}
