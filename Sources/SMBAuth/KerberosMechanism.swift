/// Where the Kerberos ticket comes from, and for which service (`sec=krb5`).
public struct KerberosCredentials: Sendable {
    /// The service: "cifs/HOST" by default (a host-based name, realm from krb5.conf's
    /// domain_realm), or a principal given with `spn=` ("cifs/host@REALM" is taken as is).
    public var servicePrincipal: String
    /// A credential cache name ("FILE:/tmp/krb5cc_1000", "DIR:...", "KEYRING:...", "KCM:..."),
    /// nil for GSSAPI's default (KRB5CCNAME, then krb5.conf).
    public var cache: String?

    public init(servicePrincipal: String, cache: String? = nil) {
        self.servicePrincipal = servicePrincipal
        self.cache = cache
    }

    /// The GSSAPI name: "cifs/host" (no realm) as the host-based "cifs@host" (RFC 2743 4.1),
    /// so krb5.conf maps the host to its realm; with a realm, a Kerberos principal name.
    var gssName: String {
        guard !servicePrincipal.contains("@"), let slash = servicePrincipal.firstIndex(of: "/") else { return servicePrincipal }
        return servicePrincipal[..<slash] + "@" + servicePrincipal[servicePrincipal.index(after: slash)...]
    }

    /// Reads the cache: the principal whose ticket will be used and the seconds it stays valid.
    /// Throws a GSSError (`isMissingTicket`) when the cache has no valid ticket.
    public func check() throws -> (principal: String, lifetime: UInt32) {
        let c = try GSS.Credential(cache: cache)
        return (c.principal, c.lifetime)
    }
}

/// Kerberos V5 through MIT GSSAPI (RFC 4121; OID 1.2.840.113554.1.2.2) as SPNEGO runs it:
/// an AP-REQ with mutual authentication, then the server's AP-REP (MS-SMB2 3.2.4.2.3: MutualAuth).
/// The session key is the context's (GSS_C_INQ_SSPI_SESSION_KEY); MS-SMB2 3.2.5.3.1 takes its
/// first 16 bytes, and the 256-bit ciphers all of it.
public struct KerberosMechanism: SPNEGOMechanism {
    public static let name = "Kerberos"
    /// The RFC 4121 OID, then the one older Windows servers answer with (MS-SPNG 3.3.5.1).
    public static let oids: [[UInt8]] = [
        [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02],
        [0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02],
    ]
    public static let mustBeAdvertised = true

    private let context: GSS.InitiatorContext
    private var key: [UInt8]?
    /// The client principal ("alice@EXAMPLE.COM").
    public let principal: String

    /// Reads a ticket from the cache for `credentials.servicePrincipal`; fails (GSSError) when
    /// there is none.
    public init(credentials: KerberosCredentials) throws {
        let credential = try GSS.Credential(cache: credentials.cache)
        let target = try GSS.Name(credentials.gssName)
        // GSS_C_MUTUAL_FLAG | GSS_C_SEQUENCE_FLAG | GSS_C_INTEG_FLAG: the server proves itself,
        // and the MICs carry sequence numbers.
        context = GSS.InitiatorContext(target: target, credential: credential, flags: 2 | 8 | 32)
        principal = credential.principal
    }

    public var isComplete: Bool { key != nil }
    public var sessionKey: [UInt8]? { key }

    public mutating func step(_ input: [UInt8]?) throws -> [UInt8] {
        let out = try context.step(input)
        if context.isComplete { key = try context.sessionKey() }
        return out
    }

    public func mic(_ message: [UInt8]) throws -> [UInt8] { try context.mic(message) }
    public func verifyMIC(_ message: [UInt8], _ mic: [UInt8]) -> Bool { context.verifyMIC(message, mic) }
}
