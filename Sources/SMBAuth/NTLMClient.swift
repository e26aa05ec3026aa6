#if canImport(Glibc)
import Glibc
#endif
import SMBCrypto

/// The client side of NTLMv2 (MS-NLMP 3.1.5): NEGOTIATE out, CHALLENGE in, AUTHENTICATE out.
struct NTLMClient: Sendable {
    /// Values normally random or taken from the clock; tests set them to reproduce MS-NLMP 4.2.4.
    struct Overrides: Sendable {
        var clientChallenge: [UInt8]?
        var timestamp: UInt64?
        var exportedSessionKey: [UInt8]?
    }

    /// Result of processing the CHALLENGE.
    struct Authentication {
        var message: [UInt8]
        var exportedSessionKey: [UInt8]
        var flags: NTLMFlags
    }

    let credentials: NTLMCredentials
    var overrides = Overrides()
    /// The NEGOTIATE_MESSAGE as sent (needed for the MIC).
    private(set) var negotiateMessage: [UInt8]?

    init(credentials: NTLMCredentials) {
        self.credentials = credentials
    }

    mutating func negotiate() -> [UInt8] {
        let m = NTLMMessage.negotiate(flags: .client)
        negotiateMessage = m
        return m
    }

    /// Builds the AUTHENTICATE_MESSAGE for a CHALLENGE_MESSAGE (MS-NLMP 3.1.5.1.2).
    func authenticate(challenge challengeBytes: [UInt8]) throws -> Authentication {
        guard let negotiateMessage else { throw AuthError.malformed("CHALLENGE before NEGOTIATE") }
        let challenge = try ChallengeMessage(challengeBytes)
        guard challenge.flags.contains(.negotiateUnicode) else { throw AuthError.unsupported("server does not offer Unicode") }
        guard challenge.flags.contains(.extendedSessionSecurity) else {
            throw AuthError.unsupported("server does not offer extended session security")
        }
        guard !challenge.avPairs.isEmpty else { throw AuthError.malformed("CHALLENGE_MESSAGE has no TargetInfo") }

        // Negotiated flags: what both sides set (3.1.5.1.2); Unicode and ESS are checked above.
        let flags = NTLMFlags(rawValue: challenge.flags.rawValue & NTLMFlags.client.rawValue)

        let clientChallenge = overrides.clientChallenge ?? Random.bytes(8)
        let timestamp = overrides.timestamp ?? challenge.timestamp ?? Self.currentFileTime()

        var responseKeyNT = NTLMv2.ntowfv2(user: credentials.user, ntHash: credentials.ntHash, domain: credentials.domain)
        defer { Secret.wipe(&responseKeyNT) }
        let temp = NTLMv2.clientBlob(timestamp: timestamp, clientChallenge: clientChallenge,
                                     serverName: NTLMMessage.encodeAVPairs(Self.clientTargetInfo(challenge.avPairs)))
        let proof = NTLMv2.ntProofStr(responseKeyNT: responseKeyNT, serverChallenge: challenge.serverChallenge, temp: temp)
        var keyExchangeKey = NTLMv2.sessionBaseKey(responseKeyNT: responseKeyNT, ntProofStr: proof)
        defer { Secret.wipe(&keyExchangeKey) }

        var exportedSessionKey = keyExchangeKey
        var encryptedKey = [UInt8]()
        if flags.contains(.negotiateKeyExchange) {
            exportedSessionKey = overrides.exportedSessionKey ?? Random.bytes(16)
            encryptedKey = NTLMv2.encryptSessionKey(keyExchangeKey: keyExchangeKey, exportedSessionKey: exportedSessionKey)
        }

        // 3.1.5.1.2: with a MIC, LmChallengeResponse is Z(24).
        var message = try NTLMMessage.authenticate(
            flags: flags,
            lmResponse: [UInt8](repeating: 0, count: 24),
            ntResponse: proof + temp,
            domain: UTF16LE.encode(credentials.domain),
            user: UTF16LE.encode(credentials.user),
            workstation: UTF16LE.encode(credentials.workstation),
            encryptedRandomSessionKey: encryptedKey)
        let mic = NTLMv2.mic(exportedSessionKey: exportedSessionKey, negotiate: negotiateMessage,
                             challenge: challenge.raw, authenticate: message)
        message.replaceSubrange(NTLM.micOffset..<(NTLM.micOffset + 16), with: mic)
        return Authentication(message: message, exportedSessionKey: exportedSessionKey, flags: flags)
    }

    /// The server's AV pairs plus MsvAvFlags (MIC present, 2.2.2.1) and MsvAvTargetName "cifs/<server>";
    /// MsvAvEOL is appended by the encoder.
    static func clientTargetInfo(_ serverPairs: [AVPair]) -> [AVPair] {
        var pairs = serverPairs.filter { $0.id != AvId.flags.rawValue && $0.id != AvId.targetName.rawValue }
        var avFlags = msvAvFlagMICPresent
        if let existing = serverPairs.first(where: { $0.id == AvId.flags.rawValue }), existing.value.count == 4 {
            avFlags |= UInt32(existing.value[0]) | UInt32(existing.value[1]) << 8
                | UInt32(existing.value[2]) << 16 | UInt32(existing.value[3]) << 24
        }
        var flagBytes = [UInt8]()
        flagBytes.appendLE(avFlags)
        pairs.append(AVPair(id: AvId.flags.rawValue, value: flagBytes))
        let serverName = serverPairs.first(where: { $0.id == AvId.dnsComputerName.rawValue })
            ?? serverPairs.first(where: { $0.id == AvId.nbComputerName.rawValue })
        if let serverName, !serverName.value.isEmpty {
            pairs.append(AVPair(id: AvId.targetName.rawValue, value: UTF16LE.encode("cifs/") + serverName.value))
        }
        return pairs
    }

    /// Now as a FILETIME: 100 ns ticks since 1601-01-01 UTC.
    static func currentFileTime() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        let seconds = UInt64(max(ts.tv_sec, 0)) + 11_644_473_600
        return seconds * 10_000_000 + UInt64(max(ts.tv_nsec, 0)) / 100
    }
}
