import SMBProtocol
#if canImport(Glibc)
import Glibc
#endif

/// A bad command line, options or credentials file: one line for the user.
/// `--help` or `--version`: answered on standard output, exit status 0.
enum InformationRequest: Error { case help, version }

struct UsageError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// What the command line asks for (mount.cifs option names where the meaning is the same).
struct MountOptions {
    var host = ""
    var port = 445 { didSet { portGiven = true } }
    /// A port was named (`port=` or //HOST:PORT): no fallback to another.
    var portGiven = false
    /// `netbios_fallback`: port 139 when nothing answers on 445 (only without a port named).
    var netbiosFallback = false
    /// `nodfs`: DFS links are not followed (EREMOTE below one).
    var dfs = true
    /// `servern=`: the server's NetBIOS name on port 139.
    var serverNetBIOSName: String?
    /// `netbiosname=`: this client's NetBIOS name on port 139.
    var clientNetBIOSName: String?
    var share = ""
    /// Subdirectory of the share to mount, "/"-separated, "" for the share root.
    var path = ""
    var mountpoint = ""
    var username: String?
    var password: String?
    var passwordOnCommandLine = false
    var domain: String?
    var credentialsFile: String?
    /// `sec=krb5` (or krb5i): a Kerberos ticket from the credential cache, never NTLM.
    var kerberos = false
    /// `spn=`: the service principal for Kerberos; default cifs/HOST.
    var servicePrincipal: String?
    /// `cruid=`: whose credential cache to use (root mounting for a user).
    var cruid: UInt32?
    /// `ip=`/`addr=`: the address to dial, HOST staying the name (tree path, principal).
    var address: String?
    var dialects: [Dialect] = Dialect.allCases
    /// `min_vers=`: dialects below it are never offered.
    var minDialect: Dialect?
    /// What NEGOTIATE offers: `vers=` cut to `min_vers=`.
    var offeredDialects: [Dialect] { dialects.filter { $0 >= (minDialect ?? .smb202) } }
    var uid: UInt32 = getuid()
    var gid: UInt32 = getgid()
    var fileMode: UInt32 = 0o644
    var dirMode: UInt32 = 0o755
    var signing = true
    /// `guest`: no password; a guest session is accepted (unsigned).
    var guest = false
    /// `seal` (true) / `noseal` (false); nil: encrypt when the server asks.
    var seal: Bool?
    /// `cipher=`: ciphers offered, in order.
    var ciphers: [Cipher]?
    /// `require_cipher=`: encrypt, with one of these only.
    var requiredCiphers: [Cipher]?
    /// Read-write unless `ro` is given (the last of `ro`/`rw` wins).
    var readOnly = false
    /// `nobrl`: byte-range locks stay local (mount.cifs's name).
    var localLocks = false
    /// `direct_io` (mount.cifs: `forcedirectio`): no page cache for file data.
    var directIO = false
    /// `perm` (default): the kernel checks access against the modes shown
    /// (default_permissions); `noperm`: the server alone decides.
    var checkPermissions = true
    var mapPosixNames = true
    var ignoreChown = false
    /// `cifsacl`: modes and owners from each file's security descriptor; `idsfromsid`: chown
    /// writes S-1-5-88 SIDs.
    var cifsacl = false
    var idsFromSID = false
    /// `sfu`: FIFOs, sockets and device nodes as Interix system files.
    var sfu = false
    /// `posix` (default) / `noposix`: ask the server for the SMB3 POSIX extensions.
    var posix = true
    var hard = true
    var echoInterval = 60
    /// multichannel: TCP connections per mount when the server offers it (`max_channels=`).
    var maxChannels = 4
    /// `actimeo=`, when given; otherwise `cache=` decides.
    var attributeTimeoutOption: Double?
    /// `cache=`: strict (default), loose (longer attribute caching), none (every call asks the server).
    var cache = "strict"
    var attributeTimeout: Double { attributeTimeoutOption ?? (cache == "none" ? 0 : cache == "loose" ? 30 : 1) }
    /// `closetimeo=`: seconds a read-only open is kept after its close (0, the default: none).
    var closeTimeout: Double = 0
    /// `max_inodes=`: inodes kept known before the kernel is asked to drop least recently
    /// used file names (Filesystem.Options.maxInodes).
    var maxInodes = 131_072
    /// Write-behind bytes in flight; none with cache=none.
    var writeBehindBytes: Int { cache == "none" ? 0 : 32 << 20 }
    /// `rasize=`, when given; otherwise 8 MiB, none with cache=none.
    var readAheadOption: Int?
    var readAheadBytes: Int { readAheadOption ?? (cache == "none" ? 0 : 8 << 20) }
    /// `nonotify`: no CHANGE_NOTIFY watches on listed directories.
    var notify = true
    var foreground = false
    /// mount(8)'s -f given to the mount.smb3fs helper: everything checked, nothing mounted.
    var fake = false
    var debug = false
    var fsname: String?
    var fuseOptions: [String] = []

    static let usage = "usage: smb3fs //HOST[:PORT]/SHARE[/PATH] MOUNTPOINT [-o OPTIONS] [-f] [-d]"

    /// Options that mount(8) and mount.fuse3 pass for every filesystem; they mean nothing here.
    static let ignored: Set<String> = [
        "auto", "noauto", "_netdev", "nofail", "user", "users", "nouser", "owner", "group", "defaults",
        "exec", "noexec", "suid", "nosuid", "dev", "nodev", "atime", "noatime", "relatime",
        "norelatime", "strictatime", "nodiratime", "diratime", "async", "sync", "lazytime",
        "sign",
    ]

    /// `asMountHelper`: run as mount(8)'s helper `mount.smb3fs SOURCE DIR [-sfnv] [-o OPTS]
    /// [-t TYPE]`, where -f means "fake" (check everything, mount nothing), -s (sloppy), -n (no
    /// mtab) and -v change nothing here, and -t names the type mount(8) was given.
    static func parse(_ argv: [String], asMountHelper: Bool = false) throws -> MountOptions {
        var o = MountOptions()
        let (optionStrings, positional) = try scan(argv, usage: usage) { a, next in
            switch a {
            case "-V", "--version": throw InformationRequest.version
            case "-f" where asMountHelper: o.fake = true
            case "-s" where asMountHelper, "-n" where asMountHelper, "-v" where asMountHelper: break
            case "-t" where asMountHelper: _ = try next("-t needs a type")
            case "-f": o.foreground = true
            case "-d": o.debug = true; o.foreground = true
            default: return false
            }
            return true
        }
        guard positional.count == 2 else { throw UsageError(usage) }
        try o.parseSource(positional[0])
        o.mountpoint = positional[1]
        try o.applyAll(optionStrings)
        return o
    }

    /// `smb3fs list //HOST[:PORT] [-o OPTIONS] [--all] [--json] [-d]`: the options of a mount
    /// (authentication, signing, sealing, versions, port), the share left as IPC$.
    static func parseList(_ argv: [String]) throws -> (options: MountOptions, all: Bool, json: Bool) {
        var o = MountOptions()
        var all = false, json = false
        let (optionStrings, positional) = try scan(argv, usage: listUsage) { a, _ in
            switch a {
            case "-a", "--all": all = true
            case "--json": json = true
            case "-d": o.debug = true
            default: return false
            }
            return true
        }
        guard positional.count == 1 else { throw UsageError(listUsage) }
        try o.parseSource(positional[0], shareRequired: false)
        o.share = "IPC$"
        o.path = ""
        try o.applyAll(optionStrings)
        return (o, all, json)
    }

    /// The command line's -o lists and other arguments, in order. `flag` takes the arguments
    /// of one command (true when it knew one; `next` hands it the argument after it).
    private static func scan(_ argv: [String], usage: String,
                             flag: (String, _ next: (String) throws -> String) throws -> Bool) throws
        -> (options: [String], positional: [String]) {
        var optionStrings: [String] = []
        var positional: [String] = []
        var i = 0
        func next(_ missing: String) throws -> String {
            guard i + 1 < argv.count else { throw UsageError(missing) }
            i += 1
            return argv[i]
        }
        while i < argv.count {
            let a = argv[i]
            if a == "-o" {
                optionStrings.append(try next("-o needs a list of options"))
            } else if a == "-h" || a == "--help" {
                throw InformationRequest.help
            } else if try flag(a, next) {
            } else if a.hasPrefix("-o") && a.count > 2 {
                optionStrings.append(String(a.dropFirst(2)))
            } else if a.hasPrefix("-") && a.count > 1 {
                throw UsageError("unknown argument \(a); \(usage)")
            } else {
                positional.append(a)
            }
            i += 1
        }
        return (optionStrings, positional)
    }

    /// Applies the -o lists, then checks what only the whole set can tell.
    mutating func applyAll(_ optionStrings: [String]) throws {
        for s in optionStrings {
            for item in Self.splitOptions(s) where !item.isEmpty { try apply(item) }
        }
        if guest && kerberos { throw UsageError("guest and sec=krb5 exclude each other") }
        if offeredDialects.isEmpty { throw UsageError("vers= and min_vers= leave no dialect to offer") }
    }

    /// Splits at commas not escaped with a backslash (so a password may contain "\,").
    static func splitOptions(_ s: String) -> [String] {
        var out: [String] = []
        var cur = ""
        var escaped = false
        for c in s {
            if escaped { cur.append(c); escaped = false; continue }
            if c == "\\" { escaped = true; continue }
            if c == "," { out.append(cur); cur = ""; continue }
            cur.append(c)
        }
        out.append(cur)
        return out
    }

    static let listUsage = "usage: smb3fs list //HOST[:PORT] [-o OPTIONS] [--all] [--json]"

    /// //HOST[:PORT]/SHARE[/PATH]; HOST may be [IPv6]. Without `shareRequired`, //HOST alone.
    mutating func parseSource(_ s: String, shareRequired: Bool = true) throws {
        let bad = UsageError("bad share \"\(s)\": expected \(shareRequired ? "//HOST/SHARE[/PATH]" : "//HOST")")
        var rest = Substring(s)
        if rest.hasPrefix("\\\\") { rest = Substring(rest.map { $0 == "\\" ? "/" : $0 }) }
        guard rest.hasPrefix("//") else { throw bad }
        rest = rest.dropFirst(2)
        let parts = rest.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
        guard !parts[0].isEmpty, !shareRequired || (parts.count >= 2 && !parts[1].isEmpty) else { throw bad }
        var hostPart = parts[0]
        if hostPart.hasPrefix("[") {
            guard let close = hostPart.firstIndex(of: "]") else { throw bad }
            host = String(hostPart[hostPart.index(after: hostPart.startIndex)..<close])
            hostPart = hostPart[hostPart.index(after: close)...]
            if hostPart.hasPrefix(":") { port = try Self.port(String(hostPart.dropFirst())) } else if !hostPart.isEmpty { throw bad }
        } else if let colon = hostPart.firstIndex(of: ":") {
            host = String(hostPart[..<colon])
            port = try Self.port(String(hostPart[hostPart.index(after: colon)...]))
        } else {
            host = String(hostPart)
        }
        guard !host.isEmpty else { throw bad }
        share = parts.count >= 2 ? String(parts[1]) : ""
        if parts.count == 3 {
            path = parts[2].split(separator: "/").joined(separator: "/")
        }
    }

    static func port(_ s: String) throws -> Int {
        guard let p = Int(s), (1...65535).contains(p) else { throw UsageError("bad port \"\(s)\"") }
        return p
    }

    static func mode(_ key: String, _ s: String) throws -> UInt32 {
        guard let m = UInt32(s, radix: 8), m <= 0o7777 else { throw UsageError("bad \(key) \"\(s)\": expected an octal mode such as 0644") }
        return m
    }

    static func id(_ key: String, _ s: String, user: Bool) throws -> UInt32 {
        if let n = UInt32(s) { return n }
        if user, let pw = getpwnam(s) { return pw.pointee.pw_uid }
        if !user, let gr = getgrnam(s) { return gr.pointee.gr_gid }
        throw UsageError("bad \(key) \"\(s)\": no such \(user ? "user" : "group")")
    }

    static func dialects(_ s: String) throws -> [Dialect] {
        switch s {
        case "2.0", "2.0.2", "2.02": return [.smb202]
        case "2.1": return [.smb210]
        case "3.0", "3.00": return [.smb300]
        case "3.0.2", "3.02": return [.smb302]
        case "3.1.1", "3.11": return [.smb311]
        case "3": return [.smb300, .smb302, .smb311]
        case "default": return Dialect.allCases
        case "1.0", "1": throw UsageError("vers=\(s): SMB1 is not supported (it is insecure); use 2.0.2 or later")
        default: throw UsageError("bad vers \"\(s)\": expected 2.0.2, 2.1, 3.0, 3.0.2, 3.1.1, 3 or default")
        }
    }

    /// A `:`-separated list of cipher names (MS-SMB2 2.2.3.1.2), e.g. `aes-256-gcm:aes-128-gcm`.
    static func ciphers(_ key: String, _ s: String) throws -> [Cipher] {
        var out: [Cipher] = []
        for name in s.split(separator: ":", omittingEmptySubsequences: false) {
            let n = String(name.lowercased().map { $0 == "_" ? "-" : $0 })
            guard let c = Cipher.allCases.first(where: { $0.description.lowercased() == n }) else {
                throw UsageError("bad \(key) \"\(name)\": expected aes-128-gcm, aes-256-gcm, aes-128-ccm or aes-256-ccm, separated by ':'")
            }
            if !out.contains(c) { out.append(c) }
        }
        return out
    }

    mutating func apply(_ item: String) throws {
        let key: String
        let value: String?
        if let eq = item.firstIndex(of: "=") {
            key = String(item[..<eq])
            value = String(item[item.index(after: eq)...])
        } else {
            key = item
            value = nil
        }
        func need() throws -> String {
            guard let value, !value.isEmpty || key == "password" || key == "pass" else {
                throw UsageError("option \(key) needs a value")
            }
            return value
        }
        switch key {
        case "username", "user":
            guard let v = value else { if key == "user" { return }; throw UsageError("option username needs a value") }
            try setUser(v)
        case "password", "pass":
            password = try need()
            passwordOnCommandLine = true
        case "credentials", "cred": credentialsFile = try need()
        case "domain", "dom", "workgroup": domain = try need()
        case "port": port = try Self.port(try need())
        case "netbios_fallback": netbiosFallback = true
        case "nodfs": dfs = false
        case "servern": serverNetBIOSName = try Self.netbiosName(key, try need())
        case "netbiosname": clientNetBIOSName = try Self.netbiosName(key, try need())
        case "vers": dialects = try Self.dialects(try need())
        case "min_vers":
            guard let lowest = try Self.dialects(try need()).min() else { throw UsageError("option min_vers needs a value") }
            minDialect = lowest
        case "uid": uid = try Self.id("uid", try need(), user: true)
        case "gid": gid = try Self.id("gid", try need(), user: false)
        case "file_mode": fileMode = try Self.mode("file_mode", try need())
        case "dir_mode": dirMode = try Self.mode("dir_mode", try need())
        case "nosign": signing = false
        case "guest": guest = true
        case "seal": seal = true
        case "noseal": seal = false
        case "cipher", "ciphers": ciphers = try Self.ciphers(key, try need())
        case "require_cipher": requiredCiphers = try Self.ciphers(key, try need())
        case "ro": readOnly = true
        case "rw": readOnly = false
        case "nobrl": localLocks = true
        case "ignore_chown": ignoreChown = true
        case "cifsacl": cifsacl = true
        case "nocifsacl": cifsacl = false
        case "idsfromsid": idsFromSID = true
        case "sfu": sfu = true
        case "posix", "unix", "linux": posix = true
        case "noposix", "nounix", "nolinux": posix = false
        case "nosfu": sfu = false
        case "hard": hard = true
        case "soft": hard = false
        case "echo_interval":
            guard let n = Int(try need()), (1...600).contains(n) else {
                throw UsageError("bad echo_interval \"\(value ?? "")\": expected seconds from 1 to 600")
            }
            echoInterval = n
        case "max_channels":
            guard let n = Int(try need()), (1...16).contains(n) else {
                throw UsageError("bad max_channels \"\(value ?? "")\": expected 1 to 16")
            }
            maxChannels = n
        case "multichannel": if maxChannels == 1 { maxChannels = 4 }
        case "nomultichannel": maxChannels = 1
        case "cache":
            let v = try need()
            guard ["strict", "loose", "none"].contains(v) else {
                throw UsageError("bad cache \"\(v)\": expected strict, loose or none")
            }
            cache = v
        case "rasize":
            // mount.cifs's name; bytes, at most what the mount reads ahead in all (FileReadAhead.swift).
            guard let n = Int(try need()), (0...(64 << 20)).contains(n) else {
                throw UsageError("bad rasize \"\(value ?? "")\": expected bytes from 0 to 67108864")
            }
            readAheadOption = n
        case "notify": notify = true
        case "nonotify": notify = false
        case "mapposix": mapPosixNames = true
        case "nomapposix": mapPosixNames = false
        case "brl": localLocks = false
        case "direct_io", "directio", "forcedirectio": directIO = true
        case "nodirect_io", "nodirectio": directIO = false
        case "actimeo":
            guard let t = Double(try need()), t >= 0, t <= 86400 else { throw UsageError("bad actimeo \"\(value ?? "")\": expected seconds") }
            attributeTimeoutOption = t
        case "closetimeo":
            guard let t = Double(try need()), t >= 0, t <= 60 else {
                throw UsageError("bad closetimeo \"\(value ?? "")\": expected seconds from 0 to 60")
            }
            closeTimeout = t
        case "max_inodes":
            guard let n = Int(try need()), n >= 1024, n <= 100_000_000 else {
                throw UsageError("bad max_inodes \"\(value ?? "")\": expected a number from 1024 to 100000000")
            }
            maxInodes = n
        case "sec":
            switch try need() {
            case "ntlmssp", "ntlmsspi", "ntlmv2", "ntlmv2i": kerberos = false
            case "krb5", "krb5i": kerberos = true
            case let v: throw UsageError("sec=\(v) is not supported; use sec=ntlmssp or sec=krb5")
            }
        case "spn":
            let v = try need()
            guard v.contains("/"), !v.hasPrefix("/"), !v.contains(where: { $0 == " " || $0 == "\n" }) else {
                throw UsageError("bad spn \"\(v)\": expected a service principal like cifs/server.example.com")
            }
            servicePrincipal = v
        case "cruid": cruid = try Self.id("cruid", try need(), user: true)
        case "ip", "addr":
            let v = try need()
            guard Self.isAddress(v) else { throw UsageError("bad \(key) \"\(v)\": expected an IPv4 or IPv6 address") }
            address = v
        case "allow_other", "allow_root": fuseOptions.append(key)
        case "perm", "default_permissions": checkPermissions = true
        case "noperm": checkPermissions = false
        case "fsname": fsname = try need()
        case "comment": return
        default:
            if value == nil && Self.ignored.contains(key) { return }
            if key.hasPrefix("x-") { return }
            throw UsageError("unknown option \"\(key)\"")
        }
    }

    /// A NetBIOS name (RFC 1001 14.1): 1 to 15 printable ASCII characters, no spaces; kept
    /// upper-cased as sent.
    static func netbiosName(_ key: String, _ v: String) throws -> String {
        guard (1...15).contains(v.utf8.count), v.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw UsageError("bad \(key) \"\(v)\": expected a NetBIOS name of 1 to 15 printable characters")
        }
        return v.uppercased()
    }

    /// A numeric IPv4 or IPv6 address (inet_pton).
    static func isAddress(_ s: String) -> Bool {
        var buf = [UInt8](repeating: 0, count: 16)
        return inet_pton(AF_INET, s, &buf) == 1 || inet_pton(AF_INET6, s, &buf) == 1
    }

    /// "user", "DOMAIN\user", "DOMAIN/user" or "user@domain" (mount.cifs accepts the same).
    mutating func setUser(_ v: String) throws {
        if let sep = v.firstIndex(where: { $0 == "\\" || $0 == "/" }) {
            domain = String(v[..<sep])
            username = String(v[v.index(after: sep)...])
        } else {
            username = v
        }
        guard let u = username, !u.isEmpty else { throw UsageError("empty user name") }
    }
}
