/// SPNEGO (RFC 4178, MS-SPNG) wrapping NTLMSSP (OID 1.3.6.1.4.1.311.2.2.10).
///
/// Calls, one per SESSION_SETUP round trip:
/// 1. `nextToken(serverToken: negotiateResponseBlob)` (nil or empty allowed) → NegTokenInit with the NTLM NEGOTIATE.
/// 2. `nextToken(serverToken: challengeResponseBlob)` → NegTokenResp with the NTLM AUTHENTICATE and mechListMIC.
/// 3. After the server's final success response: `nextToken(serverToken: finalBlob)` verifies the server's
///    mechListMIC if present, returns [] and sets `isComplete`.
public struct SPNEGOClient: AuthMechanism {
    enum State: Sendable {
        case initial, sentNegotiate, sentAuthenticate, complete
    }

    private(set) var state: State = .initial
    var ntlm: NTLMClient
    /// The mechanisms offered, in order; mechListMIC covers their DER encoding (RFC 4178 5).
    let mechTypes: [[UInt8]] = [SPNEGO.ntlmsspOID]
    private var exportedSessionKey: [UInt8]?
    private var negotiatedFlags: NTLMFlags = []

    public init(ntlm: NTLMCredentials) {
        self.ntlm = NTLMClient(credentials: ntlm)
    }

    public var isComplete: Bool { state == .complete }

    /// The NTLM ExportedSessionKey (the SMB Session.SessionKey). It is known as soon as the
    /// AUTHENTICATE token has been produced, and stays set once complete.
    public var sessionKey: [UInt8]? { exportedSessionKey }

    public mutating func nextToken(serverToken: [UInt8]?) throws -> [UInt8] {
        switch state {
        case .initial:
            // MS-SPNG 3.2.5.2: the NEGOTIATE response may carry a NegTokenInit2 hint; check that it parses.
            if let hint = serverToken, !hint.isEmpty {
                _ = try SPNEGO.decodeInit(hint)
            }
            let token = SPNEGO.NegTokenInit(mechTypes: mechTypes, mechToken: ntlm.negotiate(), mechListMIC: nil)
            state = .sentNegotiate
            return SPNEGO.encodeInitialContextToken(token)

        case .sentNegotiate:
            guard let bytes = serverToken, !bytes.isEmpty else { throw AuthError.malformed("missing NTLM CHALLENGE token") }
            let resp = try SPNEGO.decodeResp(bytes)
            if resp.negState == .reject { throw AuthError.logonFailure }
            guard resp.negState == nil || resp.negState == .acceptIncomplete else {
                throw AuthError.malformed("expected accept-incomplete with the CHALLENGE")
            }
            if let mech = resp.supportedMech, mech != SPNEGO.ntlmsspOID {
                throw AuthError.unsupported("server chose a mechanism other than NTLMSSP")
            }
            guard let challenge = resp.responseToken else { throw AuthError.malformed("NegTokenResp without a CHALLENGE") }
            let auth = try ntlm.authenticate(challenge: challenge)
            exportedSessionKey = auth.exportedSessionKey
            negotiatedFlags = auth.flags
            // MS-SPNG 3.1.5.1 / RFC 4178 5: mechListMIC = GSS_GetMIC over the DER MechTypeList we sent.
            var signer = NTLMSigner(exportedSessionKey: auth.exportedSessionKey, flags: auth.flags, direction: .clientToServer)
            let mic = signer.mic(SPNEGO.encodeMechTypeList(mechTypes))
            state = .sentAuthenticate
            return SPNEGO.encode(SPNEGO.NegTokenResp(negState: nil, supportedMech: nil, responseToken: auth.message, mechListMIC: mic))

        case .sentAuthenticate:
            if let bytes = serverToken, !bytes.isEmpty {
                let resp = try SPNEGO.decodeResp(bytes)
                if resp.negState == .reject { throw AuthError.logonFailure }
                guard resp.negState == nil || resp.negState == .acceptCompleted else {
                    throw AuthError.unsupported("server did not complete SPNEGO after AUTHENTICATE")
                }
                if let serverMIC = resp.mechListMIC {
                    guard let key = exportedSessionKey else { throw AuthError.malformed("no session key") }
                    var verifier = NTLMSigner(exportedSessionKey: key, flags: negotiatedFlags, direction: .serverToClient)
                    let expected = verifier.mic(SPNEGO.encodeMechTypeList(mechTypes))
                    guard constantTimeEqual(expected, serverMIC) else {
                        throw AuthError.integrity("server mechListMIC does not verify")
                    }
                }
            }
            state = .complete
            return []

        case .complete:
            throw AuthError.malformed("SPNEGO exchange already complete")
        }
    }
}
