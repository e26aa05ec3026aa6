import Logging
import SMBAuth
import SMBProtocol

/// What a mount asks of the client layer.
public struct ClientConfiguration: Sendable {
    public var host: String
    public var port: Int = 445
    public var share: String
    /// Dialects offered, lowest first (`vers=`).
    public var dialects: [Dialect] = Dialect.allCases
    public var credentials: NTLMCredentials
    /// `sec=krb5`: authenticate with a Kerberos ticket from this cache instead of NTLM.
    public var kerberos: KerberosCredentials?
    /// `ip=`: the address to dial; `host` stays the server's name (tree path, service principal).
    public var address: String?
    var dialHost: String { address ?? host }
    /// Host names with their addresses, answered instead of the system's resolver
    /// (SMB3FS_HOSTS="name=address,address;...", for tests): "name=address,..." per entry.
    public var hostTable: [String: [String]] = [:]
    /// Seconds a DFS referral is kept at most, below its time to live (SMB3FS_DFS_TTL_MAX,
    /// for tests: servers give minutes).
    public var dfsTTLMax: Int?
    /// Follow DFS referrals (MS-DFSC) where a path crosses a link; `nodfs` turns it off.
    public var dfs = true
    /// `netbios_fallback`: when nothing answers on port 445, the NetBIOS session service on 139
    /// (port 139 itself always speaks it).
    public var netbiosFallback = false
    /// `servern=`: the server's NetBIOS name for port 139 (default: the host name's first label,
    /// or *SMBSERVER for an address).
    public var serverNetBIOSName: String?
    /// `netbiosname=`: this client's NetBIOS name for port 139 (default: the workstation name).
    public var clientNetBIOSName: String?
    /// Sign every request and require signed responses. Only `nosign` turns it off.
    public var signing = true
    /// Encrypt every request and require encrypted responses (`seal`). Without it the session is
    /// still encrypted when the server asks for it (session or share flagged encrypt-data).
    public var seal = false
    /// Offer the SMB3 POSIX extensions in NEGOTIATE (`noposix` turns it off).
    public var posixExtensions = true
    /// Accept a guest or anonymous session (`guest`): it can be neither signed nor encrypted.
    public var guest = false
    /// Encrypt when the server's address is not loopback, link-local or private (`noseal`
    /// turns it off), AddressScope.
    public var autoSeal = true
    /// Addresses to treat as public for `autoSeal` (SMB3FS_TREAT_AS_PUBLIC, for tests): can only
    /// make a session encrypt, never the reverse.
    public var treatAsPublic: Set<String> = []
    /// Ciphers offered, in order of preference (`cipher=`), MS-SMB2 2.2.3.1.2.
    public var ciphers: [Cipher] = ClientConfiguration.defaultCiphers
    /// `require_cipher=`: encrypt, and only with one of these.
    public var requiredCiphers: [Cipher]?
    public var connectTimeout: Duration = .seconds(5)
    /// `hard` (true): operations wait through an outage; `soft`: they fail while disconnected.
    public var hard = true
    /// ECHO after this long without traffic; a connection silent for twice as long is dead.
    public var echoInterval: Duration = .seconds(60)
    public var requestTimeout: Duration = .seconds(60)
    /// Largest READ payload asked for; the server's MaxReadSize caps it.
    public var maxIOSize = 1 << 20
    /// TCP connections bound to the session when the server offers SMB3 multichannel
    /// (MS-SMB2 3.2.4.2.3); 1 turns it off.
    public var maxChannels = 4
    /// Map characters SMB forbids in names to private-use characters (`mapposix`, default on).
    public var mapPosixNames = true
    public var logger: Logger

    /// GCM before CCM (it is several times faster, TOOLCHAIN-NOTES.md section 3), 128-bit keys
    /// first (AES-128 is not the weak point of a session; 256 costs speed).
    public static let defaultCiphers: [Cipher] = [.aes128GCM, .aes256GCM, .aes128CCM, .aes256CCM]

    /// What NEGOTIATE offers: `cipher=` order, cut to `require_cipher=` when given.
    var offeredCiphers: [Cipher] {
        guard let required = requiredCiphers else { return ciphers }
        let inOrder = ciphers.filter { required.contains($0) }
        return inOrder + required.filter { !inOrder.contains($0) }
    }

    /// Reads SMB3FS_HOSTS's form: "name=address,address;name=address".
    public static func hostTable(_ spec: String) -> [String: [String]] { HostTableResolver.table(spec) }

    public init(host: String, share: String, credentials: NTLMCredentials, logger: Logger) {
        self.host = host
        self.share = share
        self.credentials = credentials
        self.logger = logger
    }
}
