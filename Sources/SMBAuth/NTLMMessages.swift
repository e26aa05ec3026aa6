/// One AV_PAIR (MS-NLMP 2.2.2.1).
struct AVPair: Equatable {
    var id: UInt16
    var value: [UInt8]
}

/// Parsed CHALLENGE_MESSAGE (MS-NLMP 2.2.1.2). `raw` is kept for the MIC.
struct ChallengeMessage {
    var flags: NTLMFlags
    var serverChallenge: [UInt8]
    var targetName: [UInt8]
    /// TargetInfo bytes exactly as received.
    var targetInfo: [UInt8]
    var avPairs: [AVPair]
    var raw: [UInt8]

    /// MsvAvTimestamp, if the server sent one (FILETIME).
    var timestamp: UInt64? {
        guard let pair = avPairs.first(where: { $0.id == AvId.timestamp.rawValue }), pair.value.count == 8 else { return nil }
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(pair.value[i]) << (8 * UInt64(i)) }
        return v
    }

    /// Decodes and validates a CHALLENGE_MESSAGE; every offset and length is bounds-checked.
    init(_ bytes: [UInt8]) throws {
        let r = LittleEndianReader(bytes)
        guard bytes.count >= NTLM.challengeMinimumSize else {
            throw AuthError.malformed("CHALLENGE_MESSAGE of \(bytes.count) bytes is shorter than \(NTLM.challengeMinimumSize)")
        }
        guard Array(try r.slice(0, 8)) == NTLM.signature else { throw AuthError.malformed("CHALLENGE_MESSAGE: bad signature") }
        guard try r.u32(at: 8) == NTLM.challengeType else { throw AuthError.malformed("not a CHALLENGE_MESSAGE") }
        flags = NTLMFlags(rawValue: try r.u32(at: 20))
        serverChallenge = Array(try r.slice(24, 8))
        targetName = Array(try Self.field(r, at: 12))
        targetInfo = Array(try Self.field(r, at: 40))
        avPairs = try Self.parseAVPairs(targetInfo)
        raw = bytes
    }

    /// Reads a Len/MaxLen/Offset field (MS-NLMP 2.2.1.2) and returns the bytes it points at.
    private static func field(_ r: LittleEndianReader, at position: Int) throws -> ArraySlice<UInt8> {
        let length = Int(try r.u16(at: position))
        let offset = Int(try r.u32(at: position + 4))
        if length == 0 { return [] }
        return try r.slice(offset, length)
    }

    /// MS-NLMP 2.2.2.1: a list of AV_PAIRs ended by MsvAvEOL. An empty TargetInfo gives no pairs.
    static func parseAVPairs(_ bytes: [UInt8]) throws -> [AVPair] {
        if bytes.isEmpty { return [] }
        let r = LittleEndianReader(bytes)
        var pairs = [AVPair]()
        var offset = 0
        while true {
            let id = try r.u16(at: offset)
            let length = Int(try r.u16(at: offset + 2))
            let value = try r.slice(offset + 4, length)
            offset += 4 + length
            if id == AvId.eol.rawValue { return pairs }
            pairs.append(AVPair(id: id, value: Array(value)))
        }
    }
}

enum NTLMMessage {
    /// NEGOTIATE_MESSAGE (MS-NLMP 2.2.1.1) with no domain or workstation supplied.
    static func negotiate(flags: NTLMFlags) -> [UInt8] {
        var m = NTLM.signature
        m.appendLE(NTLM.negotiateType)
        m.appendLE(flags.rawValue)
        // DomainNameFields and WorkstationFields: empty, offset at the end of the fixed part.
        for _ in 0..<2 {
            m.appendLE(UInt16(0)); m.appendLE(UInt16(0)); m.appendLE(UInt32(NTLM.negotiateSize))
        }
        m += NTLM.version
        return m
    }

    /// Encodes AV pairs followed by MsvAvEOL.
    static func encodeAVPairs(_ pairs: [AVPair]) -> [UInt8] {
        var out = [UInt8]()
        for pair in pairs {
            out.appendLE(pair.id)
            out.appendLE(UInt16(truncatingIfNeeded: pair.value.count))
            out += pair.value
        }
        out.appendLE(AvId.eol.rawValue)
        out.appendLE(UInt16(0))
        return out
    }

    /// AUTHENTICATE_MESSAGE (MS-NLMP 2.2.1.3) with Version and a zeroed MIC field.
    /// Payload order: domain, user, workstation, LM response, NT response, session key.
    static func authenticate(
        flags: NTLMFlags,
        lmResponse: [UInt8],
        ntResponse: [UInt8],
        domain: [UInt8],
        user: [UInt8],
        workstation: [UInt8],
        encryptedRandomSessionKey: [UInt8]
    ) throws -> [UInt8] {
        let payloads = [domain, user, workstation, lmResponse, ntResponse, encryptedRandomSessionKey]
        for p in payloads where p.count > Int(UInt16.max) {
            throw AuthError.unsupported("AUTHENTICATE field of \(p.count) bytes is too long")
        }
        var offsets = [Int]()
        var position = NTLM.authenticateHeaderSize
        for p in payloads {
            offsets.append(position)
            position += p.count
        }
        func fieldHeader(_ index: Int) -> [UInt8] {
            var f = [UInt8]()
            f.appendLE(UInt16(payloads[index].count))
            f.appendLE(UInt16(payloads[index].count))
            f.appendLE(UInt32(offsets[index]))
            return f
        }
        var m = NTLM.signature
        m.appendLE(NTLM.authenticateType)
        m += fieldHeader(3)  // LmChallengeResponseFields
        m += fieldHeader(4)  // NtChallengeResponseFields
        m += fieldHeader(0)  // DomainNameFields
        m += fieldHeader(1)  // UserNameFields
        m += fieldHeader(2)  // WorkstationFields
        m += fieldHeader(5)  // EncryptedRandomSessionKeyFields
        m.appendLE(flags.rawValue)
        m += NTLM.version
        m += [UInt8](repeating: 0, count: 16)  // MIC, filled in later
        for p in payloads { m += p }
        return m
    }
}
