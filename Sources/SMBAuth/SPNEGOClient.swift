/// A mechanism SPNEGO negotiates (RFC 4178 3): its tokens, its session key once complete, and
/// the MIC that protects the list of mechanisms offered.
public protocol SPNEGOMechanism: Sendable {
    /// For messages: "NTLMSSP", "Kerberos".
    static var name: String { get }
    /// OIDs (DER contents) the server may answer with; the first is the one offered.
    static var oids: [[UInt8]] { get }
    /// Whether a server hint (MS-SPNG 3.2.5.2) that lists mechanisms must list this one.
    static var mustBeAdvertised: Bool { get }
    /// Next context token: first with nil, then with each token from the server.
    mutating func step(_ input: [UInt8]?) throws -> [UInt8]
    var isComplete: Bool { get }
    var sessionKey: [UInt8]? { get }
    /// GSS_GetMIC / GSS_VerifyMIC over `message` (RFC 2743 2.3.1, 2.3.2).
    func mic(_ message: [UInt8]) throws -> [UInt8]
    func verifyMIC(_ message: [UInt8], _ mic: [UInt8]) -> Bool
}

/// SPNEGO (RFC 4178, MS-SPNG) offering one mechanism: NTLMSSP or Kerberos.
///
/// Calls, one per SESSION_SETUP round trip:
/// 1. `nextToken(serverToken: negotiateResponseBlob)` (nil or empty allowed) → NegTokenInit with
///    the mechanism's first token (NTLM NEGOTIATE, Kerberos AP-REQ).
/// 2. With each server NegTokenResp: its responseToken goes to the mechanism; a server
///    mechListMIC is verified; while the server is not done, the answer carries the mechanism's
///    next token and, once it is complete, the client's mechListMIC (NTLM: with the AUTHENTICATE).
/// 3. accept-completed (with the final SESSION_SETUP response) sets `isComplete` and returns [].
public struct SPNEGOClient<Mechanism: SPNEGOMechanism>: AuthMechanism {
    enum State: Sendable {
        case initial, inProgress, complete
    }

    private(set) var state: State = .initial
    var mechanism: Mechanism
    private var micSent = false
    /// The mechanisms offered; mechListMIC covers their DER encoding (RFC 4178 5).
    var mechTypes: [[UInt8]] { [Mechanism.oids[0]] }

    public init(mechanism: Mechanism) {
        self.mechanism = mechanism
    }

    public var isComplete: Bool { state == .complete }

    /// The mechanism's session key (the SMB Session.SessionKey before truncation), once it has one.
    public var sessionKey: [UInt8]? { mechanism.sessionKey }

    public mutating func nextToken(serverToken: [UInt8]?) throws -> [UInt8] {
        let name = Mechanism.name
        switch state {
        case .initial:
            // MS-SPNG 3.2.5.2: the NEGOTIATE response may carry a NegTokenInit2 hint; check that it parses.
            if let hint = serverToken, !hint.isEmpty {
                let offered = try SPNEGO.decodeInit(hint).mechTypes
                if Mechanism.mustBeAdvertised, !offered.isEmpty, !offered.contains(where: Mechanism.oids.contains) {
                    throw AuthError.unsupported("the server does not offer \(name)")
                }
            }
            let token = SPNEGO.NegTokenInit(mechTypes: mechTypes, mechToken: try mechanism.step(nil), mechListMIC: nil)
            state = .inProgress
            return SPNEGO.encodeInitialContextToken(token)

        case .inProgress:
            guard let bytes = serverToken, !bytes.isEmpty else {
                // Some servers end with an empty token once the mechanism is done.
                if mechanism.isComplete && micSent { state = .complete; return [] }
                throw AuthError.malformed("missing \(name) token from the server")
            }
            let resp = try SPNEGO.decodeResp(bytes)
            if resp.negState == .reject { throw AuthError.logonFailure }
            if let mech = resp.supportedMech, !Mechanism.oids.contains(mech) {
                throw AuthError.unsupported("server chose a mechanism other than \(name)")
            }
            var out: [UInt8] = []
            if let input = resp.responseToken {
                guard !mechanism.isComplete else { throw AuthError.malformed("\(name) token after its exchange completed") }
                out = try mechanism.step(input)
            }
            if let serverMIC = resp.mechListMIC {
                guard mechanism.isComplete else { throw AuthError.malformed("mechListMIC before \(name) completed") }
                guard mechanism.verifyMIC(SPNEGO.encodeMechTypeList(mechTypes), serverMIC) else {
                    throw AuthError.integrity("server mechListMIC does not verify")
                }
            }
            if resp.negState == .acceptCompleted {
                guard mechanism.isComplete, out.isEmpty else {
                    throw AuthError.unsupported("server completed SPNEGO before \(name) did")
                }
                state = .complete
                return []
            }
            // RFC 4178 5: the initiator sends its MIC once the mechanism is complete and the
            // acceptor is not done (MS-SPNG 3.3.5.1: NTLM always gets there).
            var mic: [UInt8]?
            if mechanism.isComplete && !micSent {
                mic = try mechanism.mic(SPNEGO.encodeMechTypeList(mechTypes))
                micSent = true
            }
            guard !out.isEmpty || mic != nil else {
                if resp.responseToken == nil && resp.negState == nil && mechanism.isComplete { state = .complete; return [] }
                throw AuthError.unsupported("the server asks for more than \(name) has to send")
            }
            return SPNEGO.encode(SPNEGO.NegTokenResp(negState: nil, supportedMech: nil,
                                                     responseToken: out.isEmpty ? nil : out, mechListMIC: mic))

        case .complete:
            throw AuthError.malformed("SPNEGO exchange already complete")
        }
    }
}

extension SPNEGOClient where Mechanism == NTLMMechanism {
    public init(ntlm: NTLMCredentials) {
        self.init(mechanism: NTLMMechanism(credentials: ntlm))
    }

    var ntlm: NTLMClient {
        get { mechanism.client }
        set { mechanism.client = newValue }
    }
}
