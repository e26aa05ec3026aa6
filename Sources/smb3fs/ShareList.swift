import Foundation
import Logging
import SMBAuth
import SMBClient
import SMBProtocol
#if canImport(Glibc)
import Glibc
#endif

/// `smb3fs list //HOST`: the host's shares, over IPC$ with the same authentication, signing
/// and sealing as a mount. One share a line, "NAME<TAB>TYPE<TAB>COMMENT" (so names with spaces
/// survive `cut -f1`), or a JSON array with `--json`. Shares whose name ends in `$` (hidden by
/// convention: C$, IPC$, print$) only with `--all`.
enum ShareList {
    static func main(_ argv: [String]) -> Never {
        let options: MountOptions, all: Bool, json: Bool
        var credentials = NTLMCredentials(user: "", password: "", domain: "", workstation: "")
        var kerberos: KerberosCredentials?
        do {
            (options, all, json) = try MountOptions.parseList(argv)
            if options.passwordOnCommandLine {
                hidePasswordsInArgv()
                printError("warning: a password given with -o password= is visible to other users in the process list; use credentials= or $PASSWD")
            }
            if options.kerberos {
                kerberos = try KerberosCache.credentials(options)
            } else {
                credentials = try SMB3FS.resolveCredentials(options)
            }
        } catch {
            SMB3FS.finish(startupError: error)
        }
        LoggingSystem.bootstrap { _ in LineLogHandler(sink: .stderr, logLevel: options.debug ? .debug : .warning) }
        var logger = Logger(label: "smb3fs")
        logger[metadataKey: "share"] = "//\(options.host)/IPC$"
        var config = SMB3FS.clientConfiguration(options, credentials: credentials, kerberos: kerberos, logger: logger)
        config.maxChannels = 1
        let frozen = config
        let shares: [SRVS.ShareInfo1]
        do {
            shares = try runBlocking {
                let share = try await Share.connect(frozen)
                do {
                    let list = try await share.enumerateShares(server: options.host)
                    await share.disconnect()
                    return list
                } catch {
                    await share.disconnect()
                    throw error
                }
            }
        } catch {
            printError("cannot list the shares of //\(options.host): \(SMB3FS.describe(error))")
            exit(1)
        }
        let shown = shares.filter { all || !$0.name.hasSuffix("$") }
        print(json ? jsonText(shown) : shown.map(line).joined(separator: "\n"), terminator: shown.isEmpty && !json ? "" : "\n")
        exit(0)
    }

    /// disk, printer, device, ipc (MS-SRVS 2.2.2.4), or the number for a kind it does not name.
    static func kind(_ s: SRVS.ShareInfo1) -> String {
        switch s.kind {
        case .disk: "disk"
        case .printQueue: "printer"
        case .device: "device"
        case .ipc: "ipc"
        case nil: "type-\(s.type & 0x0FFF_FFFF)"
        }
    }

    /// A name or comment in one field of one line: control characters (a tab or a newline
    /// would break the line's shape) shown as \t, \n or \xHH.
    static func field(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            switch u {
            case "\t": out += "\\t"
            case "\n": out += "\\n"
            case "\\": out += "\\\\"
            case _ where u.value < 0x20 || u.value == 0x7F: out += String(format: "\\x%02x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }

    static func line(_ s: SRVS.ShareInfo1) -> String { "\(field(s.name))\t\(kind(s))\t\(field(s.remark))" }

    static func jsonText(_ shares: [SRVS.ShareInfo1]) -> String {
        struct Entry: Encodable { let name: String; let type: String; let comment: String; let hidden: Bool }
        let entries = shares.map { Entry(name: $0.name, type: kind($0), comment: $0.remark, hidden: $0.name.hasSuffix("$")) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(entries)).flatMap { String(data: $0, encoding: .utf8) } ?? "[]"
    }
}
