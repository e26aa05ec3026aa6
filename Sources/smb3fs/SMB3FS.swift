import Dispatch
import Foundation
import FUSEAdapter
import Locking
import Logging
import SMBAuth
import SMBClient
import SMBCrypto
import SMBFS
#if canImport(Glibc)
import Glibc
#endif

@main
struct SMB3FS {
    static func main() {
        CryptoLibrary.keepUntilExit()
        // Crash dumps would hold the password and the session keys: this process never dumps
        // core, and (not dumpable) other processes of the same user cannot attach to it or read
        // its memory through /proc.
        var nocore = rlimit(rlim_cur: 0, rlim_max: 0)
        setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &nocore)
        setNotDumpable()

        if CommandLine.arguments.count > 1 && CommandLine.arguments[1] == "list" {
            ShareList.main(Array(CommandLine.arguments.dropFirst(2)))
        }
        if CommandLine.arguments.count > 1 && CommandLine.arguments[1] == "status" {
            StatusCommand.main(Array(CommandLine.arguments.dropFirst(2)))
        }
        let options: MountOptions
        var credentials = NTLMCredentials(user: "", password: "", domain: "", workstation: "")
        var kerberos: KerberosCredentials?
        do {
            let name = CommandLine.arguments.first.map { $0.split(separator: "/").last.map(String.init) ?? $0 } ?? ""
            options = try MountOptions.parse(Array(CommandLine.arguments.dropFirst()),
                                             asMountHelper: name.hasPrefix("mount."))
            if options.share.uppercased() == "IPC$" {
                throw UsageError("//\(options.host)/IPC$ holds named pipes, not files, and cannot be mounted; smb3fs list //\(options.host) lists the shares")
            }
            if options.passwordOnCommandLine {
                hidePasswordsInArgv()
                printError("warning: a password given with -o password= is visible to other users in the process list; use credentials= or $PASSWD")
            }
            if options.guest {
                printError("warning: guest: the session is neither signed nor encrypted; anyone on the network path can read and alter it")
            }
            if options.kerberos {
                kerberos = try KerberosCache.credentials(options)
            } else {
                credentials = try resolveCredentials(options)
            }
            try checkMountpoint(options.mountpoint)
            try UnprivilegedMount.check(mountpoint: options.mountpoint, allowOther: options.fuseOptions.contains("allow_other"))
            if options.fake { exit(0) }
        } catch {
            finish(startupError: error)
        }

        // Fork before any thread exists (NIO and Swift concurrency start theirs lazily); the
        // child goes on on a thread made after the fork (FUSEMount.runOnOwnThread says why).
        if options.foreground {
            serve(options, credentials: credentials, kerberos: kerberos, daemon: nil)
        }
        let daemon = Daemon.detach()
        FUSEMount.runOnOwnThread {
            serve(options, credentials: credentials, kerberos: kerberos, daemon: daemon)
        }
    }

    /// Ends the process for what stopped it before connecting: --help and --version on stdout
    /// with status 0, anything else as one line on stderr with status 1.
    static func finish(startupError error: Error) -> Never {
        switch error {
        case let request as InformationRequest:
            print(request == .help ? Help.text : "smb3fs \(Help.version)", terminator: request == .help ? "" : "\n")
            exit(0)
        case let e as UsageError:
            printError(e.message)
        default:
            printError("\(error)")
        }
        exit(1)
    }

    /// Connects, mounts and runs the FUSE session until unmounted; exits the process.
    static func serve(_ options: MountOptions, credentials: NTLMCredentials, kerberos: KerberosCredentials?,
                      daemon: Daemon?) -> Never {
        LoggingSystem.bootstrap { _ in
            if daemon != nil {
                openlog("smb3fs", LOG_PID, LOG_DAEMON)
                return LineLogHandler(sink: .syslog, logLevel: options.debug ? .debug : .info)
            }
            return LineLogHandler(sink: .stderr, logLevel: options.debug ? .debug : .warning)
        }
        var logger = Logger(label: "smb3fs")
        logger[metadataKey: "share"] = "//\(options.host)/\(options.share)"

        func fail(_ message: String) -> Never {
            if let daemon { daemon.failed(message) } else { printError(message) }
            exit(1)
        }

        let config = clientConfiguration(options, credentials: credentials, kerberos: kerberos, logger: logger)
        let fsOptions: Filesystem.Options = {
            var ownership = Ownership(uid: options.uid, gid: options.gid, fileMode: options.fileMode, dirMode: options.dirMode)
            if options.cifsacl { ownership.modeSource = .securityDescriptor }
            ownership.idsFromSID = options.idsFromSID
            var o = Filesystem.Options(ownership: ownership, rootPath: options.path)
            o.attributeTimeout = options.attributeTimeout
            o.closeTimeout = .milliseconds(Int(options.closeTimeout * 1000))
            o.writeBehindBytes = options.writeBehindBytes
            o.readAheadBytes = options.readAheadBytes
            o.watchDirectories = options.notify
            o.readOnly = options.readOnly
            o.localLocks = options.localLocks
            o.directIO = options.directIO
            o.checkPermissions = options.checkPermissions
            o.ignoreChown = options.ignoreChown
            o.sfu = options.sfu
            o.maxInodes = options.maxInodes
            return o
        }()

        let fs: Filesystem
        do {
            let config = config
            let logger = logger
            fs = try runBlocking {
                let (share, root) = try await Share.connect(config, below: options.path)
                var fsOptions = fsOptions
                fsOptions.rootPath = root
                let fs = Filesystem(share: share, options: fsOptions, logger: logger)
                do {
                    try await fs.checkRoot()
                } catch {
                    await share.disconnect()
                    throw FSRootError(path: options.path, error: error)
                }
                return fs
            }
        } catch let e as FSRootError {
            fail("cannot mount //\(options.host)/\(options.share)/\(e.path): \(describe(e.error))")
        } catch {
            fail("cannot mount //\(options.host)/\(options.share): \(describe(error))")
        }

        let fsname = options.fsname ?? "//\(options.host)/\(options.share)" + (options.path.isEmpty ? "" : "/" + options.path)
        var fuseOptions = [options.readOnly ? "ro" : "rw"] + (options.checkPermissions ? ["default_permissions"] : [])
            + options.fuseOptions
        fuseOptions = fuseOptions.reduce(into: []) { if !$0.contains($1) { $0.append($1) } }
        // The directory's real path, as /proc/self/mountinfo will show the mount (the status
        // socket is found through it); resolved now, while it is a plain directory.
        var resolved = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let realMountpoint = realpath(options.mountpoint, &resolved) != nil ? String(cString: resolved) : options.mountpoint
        var statusPath: String?
        do {
            try FUSEMount.run(fs: fs, mountpoint: options.mountpoint, fsname: fsname, fuseOptions: fuseOptions,
                              logger: logger) {
                logger.info("mounted", metadata: ["mountpoint": "\(options.mountpoint)", "dialect": "\(fs.share.dialect)"])
                let checks = options.checkPermissions ? "here against them (perm)" : "by the server only (noperm)"
                logger.info("modes and owners: \(fs.options.ownership.source); permissions checked \(checks)")
                statusPath = StatusSocket.serve(mountpoint: realMountpoint, owner: options.uid, status: {
                    (try? runBlocking { StatusCommand.encode(await fs.status()) }) ?? Data()
                }, warn: { logger.warning("\($0)") })
                daemon?.mounted()
            }
        } catch {
            if let statusPath { unlink(statusPath) }
            _ = try? runBlocking { await fs.shutdown() }
            fail("\(error)")
        }
        if let statusPath { unlink(statusPath) }
        _ = try? runBlocking { await fs.shutdown() }
        exit(0)
    }

    /// The connection the options ask for (a mount's, or `list`'s to IPC$).
    static func clientConfiguration(_ options: MountOptions, credentials: NTLMCredentials, kerberos: KerberosCredentials?,
                                    logger: Logger) -> ClientConfiguration {
        var config = ClientConfiguration(host: options.host, share: options.share, credentials: credentials, logger: logger)
        config.port = options.port
        config.dfs = options.dfs
        config.netbiosFallback = options.netbiosFallback && !options.portGiven
        config.serverNetBIOSName = options.serverNetBIOSName
        config.clientNetBIOSName = options.clientNetBIOSName
        config.kerberos = kerberos
        config.address = options.address
        config.dialects = options.offeredDialects
        config.signing = options.signing
        config.guest = options.guest
        config.seal = options.seal ?? false || options.requiredCiphers != nil
        config.posixExtensions = options.posix
        config.autoSeal = options.seal != false
        if let list = getenv("SMB3FS_TREAT_AS_PUBLIC") {
            config.treatAsPublic = Set(String(cString: list).split(separator: ",").map(String.init))
        }
        if let v = getenv("SMB3FS_DFS_TTL_MAX"), let n = Int(String(cString: v)), n > 0 { config.dfsTTLMax = n }
        if let table = getenv("SMB3FS_HOSTS") { config.hostTable = ClientConfiguration.hostTable(String(cString: table)) }
        if let c = options.ciphers { config.ciphers = c }
        config.requiredCiphers = options.requiredCiphers
        config.mapPosixNames = options.mapPosixNames
        config.hard = options.hard
        config.echoInterval = .seconds(options.echoInterval)
        config.maxChannels = options.maxChannels
        return config
    }

    struct FSRootError: Error { let path: String; let error: Error }

    static func describe(_ error: Error) -> String {
        if let e = error as? SMBError, e.ntStatus == .pathNotCovered {
            return "the path crosses a DFS link, which is not followed (nodfs)"
        }
        if let e = error as? SMBError { return e.description }
        if let e = error as? FSError { return String(cString: strerror(e.errno)) }
        return "\(error)"
    }

    static func resolveCredentials(_ o: MountOptions) throws -> NTLMCredentials {
        var user = o.username ?? (o.guest ? "guest" : nil)
        // The password as bytes, wiped once hashed (NTLMCredentials keeps only its NT hash).
        var password = o.password.map { Array($0.utf8) } ?? (o.guest ? [] : nil)
        defer { if password != nil { Secret.wipe(&password!) } }
        var domain = o.domain
        if let path = o.credentialsFile {
            var c = try CredentialsFile.load(path)
            defer { if c.password != nil { Secret.wipe(&c.password!) } }
            user = user ?? c.username
            password = password ?? c.password
            domain = domain ?? c.domain
        }
        if user == nil, let u = getenv("USER") { user = String(cString: u) }
        guard let user, !user.isEmpty else { throw UsageError("no user name: use -o username= or credentials=") }
        if password == nil, let p = getenv("PASSWD") { password = Array(UnsafeRawBufferPointer(start: p, count: strlen(p))) }
        if password == nil {
            guard isatty(0) != 0 else {
                throw UsageError("no password for \(user): use credentials=, $PASSWD, or run on a terminal to be asked")
            }
            guard let p = getpass("Password for \(user)@//\(o.host)/\(o.share): ") else {
                throw UsageError("cannot read the password")
            }
            // getpass answers in a static buffer: copied, then cleared.
            let n = strlen(p)
            password = Array(UnsafeRawBufferPointer(start: p, count: n))
            Secret.wipe(p, count: n)
        }
        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, host.count - 1)
        let hostname = host.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        let workstation = hostname.split(separator: ".").first.map { String($0).uppercased() } ?? "SMB3FS"
        return NTLMCredentials(user: user, passwordUTF8: password ?? [], domain: domain ?? "", workstation: workstation)
    }

    /// The mountpoint must be an existing, empty directory.
    static func checkMountpoint(_ path: String) throws {
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw UsageError("mountpoint \(path): \(String(cString: strerror(errno)))")
        }
        guard (st.st_mode & S_IFMT) == S_IFDIR else { throw UsageError("mountpoint \(path) is not a directory") }
        guard let d = opendir(path) else { throw UsageError("mountpoint \(path): \(String(cString: strerror(errno)))") }
        defer { closedir(d) }
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name != "." && name != ".." { throw UsageError("mountpoint \(path) is not empty") }
        }
    }
}

/// Runs async work from synchronous code (main and the FUSE loop are synchronous).
func runBlocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let result = Locked<Result<T, Error>?>(nil)
    let done = DispatchSemaphore(value: 0)
    Task {
        let r: Result<T, Error>
        do { r = .success(try await body()) } catch { r = .failure(error) }
        result.withLock { $0 = r }
        done.signal()
    }
    done.wait()
    return try result.withLock { $0! }.get()
}

/// prctl(PR_SET_DUMPABLE, 0). prctl is variadic in C, which Swift does not call; its integer
/// arguments are passed as with this fixed prototype.
private func setNotDumpable() {
    typealias Prctl = @convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32
    guard let sym = dlsym(nil, "prctl") else { return }
    let prSetDumpable: Int32 = 4                 // <linux/prctl.h>
    _ = unsafeBitCast(sym, to: Prctl.self)(prSetDumpable, 0, 0, 0, 0)
}
