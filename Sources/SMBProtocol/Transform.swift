/// SMB2 TRANSFORM_HEADER (MS-SMB2 2.2.41): the 52 bytes in front of an encrypted message (or
/// compound chain). The AEAD's additional data is the header from Nonce on (3.1.4.3).
public struct TransformHeader: Sendable, Equatable {
    public static let size = 52
    public static let protocolId: [UInt8] = [0xFD, 0x53, 0x4D, 0x42]   // 0xFD 'S' 'M' 'B'
    /// COMPRESSION_TRANSFORM_HEADER's ProtocolId (2.2.42); this client never offers compression.
    public static let compressedProtocolId: [UInt8] = [0xFC, 0x53, 0x4D, 0x42]
    /// Where the tag (Signature) lies, and the authenticated-but-clear part (Nonce..SessionId).
    public static let signatureRange = 4..<20
    public static let aadRange = 20..<52
    /// Flags (3.1.1: Encrypted) and EncryptionAlgorithm (3.0/3.0.2: AES-128-CCM) share the value 1.
    public static let encrypted: UInt16 = 0x0001

    public var signature: [UInt8]
    /// 16 bytes; the cipher uses the first 11 (CCM) or 12 (GCM), the rest are zero.
    public var nonce: [UInt8]
    public var originalMessageSize: UInt32
    public var flags: UInt16
    public var sessionId: UInt64

    public init(signature: [UInt8] = Array(repeating: 0, count: 16), nonce: [UInt8], originalMessageSize: UInt32,
                flags: UInt16 = TransformHeader.encrypted, sessionId: UInt64) {
        self.signature = signature
        self.nonce = nonce
        self.originalMessageSize = originalMessageSize
        self.flags = flags
        self.sessionId = sessionId
    }

    public func encode(into w: inout WireWriter) {
        w.bytes(Self.protocolId)
        w.bytes(signature.count == 16 ? signature : Array(repeating: 0, count: 16))
        w.bytes(Array(nonce.prefix(16)))
        if nonce.count < 16 { w.zeros(16 - nonce.count) }
        w.u32(originalMessageSize)
        w.u16(0)                                         // Reserved
        w.u16(flags)
        w.u64(sessionId)
    }

    /// True when `frame` begins with the transform ProtocolId.
    public static func isTransform(_ frame: [UInt8]) -> Bool {
        frame.count >= 4 && frame[0] == 0xFD && frame[1] == 0x53 && frame[2] == 0x4D && frame[3] == 0x42
    }

    /// Decodes the header at the start of `frame` and checks its sizes against the frame: the
    /// message it announces must fit in what follows (a hostile length is an error, not a read
    /// past the end).
    public static func decode(_ frame: [UInt8]) throws -> TransformHeader {
        try decode(frame, following: frame.count - Self.size)
    }

    /// Decodes the header in `head` (at least its 52 bytes) when `following` bytes come after
    /// it in the frame (the encrypted message, received apart from the header).
    public static func decode(_ head: [UInt8], following: Int) throws -> TransformHeader {
        var r = WireReader(head)
        guard try r.read(4) == protocolId else { throw ProtocolError.badProtocolId }
        let signature = try r.read(16)
        let nonce = try r.read(16)
        let size = try r.u32()
        try r.skip(2)
        let flags = try r.u16()
        let sessionId = try r.u64()
        guard flags == encrypted else {
            throw ProtocolError.unexpected("TRANSFORM_HEADER Flags 0x\(String(flags, radix: 16))")
        }
        // An SMB2 message is at least its 64-byte header.
        guard Int(size) >= Header.size, Int(size) <= following else {
            throw ProtocolError.unexpected("TRANSFORM_HEADER OriginalMessageSize \(size) in a \(following + Self.size)-byte frame")
        }
        return TransformHeader(signature: signature, nonce: nonce, originalMessageSize: size, flags: flags,
                               sessionId: sessionId)
    }
}
