/// NTLMSSP (OID 1.3.6.1.4.1.311.2.2.10, MS-NLMP) as SPNEGO runs it: NEGOTIATE, then the
/// AUTHENTICATE for the server's CHALLENGE; MICs with the ExportedSessionKey (MS-NLMP 3.4.4.2).
public struct NTLMMechanism: SPNEGOMechanism {
    public static let name = "NTLMSSP"
    public static let oids = [SPNEGO.ntlmsspOID]
    public static let mustBeAdvertised = false

    var client: NTLMClient
    private var exportedSessionKey: [UInt8]?
    private var flags: NTLMFlags = []

    init(credentials: NTLMCredentials) {
        client = NTLMClient(credentials: credentials)
    }

    public var isComplete: Bool { exportedSessionKey != nil }
    public var sessionKey: [UInt8]? { exportedSessionKey }

    public mutating func step(_ input: [UInt8]?) throws -> [UInt8] {
        guard let challenge = input else { return client.negotiate() }
        guard !challenge.isEmpty else { throw AuthError.malformed("missing NTLM CHALLENGE token") }
        let auth = try client.authenticate(challenge: challenge)
        exportedSessionKey = auth.exportedSessionKey
        flags = auth.flags
        return auth.message
    }

    public func mic(_ message: [UInt8]) throws -> [UInt8] {
        guard let key = exportedSessionKey else { throw AuthError.malformed("no session key") }
        var signer = NTLMSigner(exportedSessionKey: key, flags: flags, direction: .clientToServer)
        return signer.mic(message)
    }

    public func verifyMIC(_ message: [UInt8], _ mic: [UInt8]) -> Bool {
        guard let key = exportedSessionKey else { return false }
        var verifier = NTLMSigner(exportedSessionKey: key, flags: flags, direction: .serverToClient)
        return constantTimeEqual(verifier.mic(message), mic)
    }
}
