import SMBCrypto

/// What NTLM needs to know about the user (MS-NLMP 3.1.1: User, UserDom, Passwd, Workstation).
/// The password itself is not kept: only NTOWFv1 of it, MD4(UNICODE(Passwd)) (3.3.1), which
/// is all NTLMv2 derives its keys from (NTOWFv2, 3.3.2).
public struct NTLMCredentials: Sendable {
    public var user: String
    public var domain: String
    public var workstation: String
    /// NTOWFv1: the NT hash of the password.
    let ntHash: [UInt8]

    public init(user: String, password: String, domain: String, workstation: String) {
        var unicode = UTF16LE.encode(password)
        defer { Secret.wipe(&unicode) }
        self.init(user: user, ntHash: Digest.md4(unicode), domain: domain, workstation: workstation)
    }

    /// From a password given as UTF-8 bytes (a credentials file, getpass), never made a String.
    public init(user: String, passwordUTF8: [UInt8], domain: String, workstation: String) {
        var unicode = UTF16LE.encode(utf8: passwordUTF8)
        defer { Secret.wipe(&unicode) }
        self.init(user: user, ntHash: Digest.md4(unicode), domain: domain, workstation: workstation)
    }

    init(user: String, ntHash: [UInt8], domain: String, workstation: String) {
        self.user = user
        self.ntHash = ntHash
        self.domain = domain
        self.workstation = workstation
    }
}
