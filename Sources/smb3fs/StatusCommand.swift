import Foundation
import SMBClient
import SMBFS
#if canImport(Glibc)
import Glibc
#endif

/// `smb3fs status MOUNTPOINT [--json]`: asks the mount's daemon (StatusSocket) how it is.
enum StatusCommand {
    static let usage = "usage: smb3fs status MOUNTPOINT [--json]"

    static func main(_ argv: [String]) -> Never {
        var json = false
        var points: [String] = []
        for a in argv {
            switch a {
            case "--json": json = true
            case "-h", "--help": print(Help.text, terminator: ""); exit(0)
            default:
                if a.hasPrefix("-") && a.count > 1 {
                    printError("unknown argument \(a); \(usage)")
                    exit(1)
                }
                points.append(a)
            }
        }
        guard points.count == 1 else { printError(usage); exit(1) }
        let data: Data
        do {
            data = try StatusSocket.query(mountpoint: points[0])
        } catch let f as StatusSocket.Failure {
            printError(f.message)
            exit(1)
        } catch {
            printError("\(error)")
            exit(1)
        }
        guard let status = try? JSONDecoder().decode(FilesystemStatus.self, from: data) else {
            printError("\(points[0]) answered something that is not a status")
            exit(1)
        }
        if json {
            FileHandle.standardOutput.write(encode(status) + Data("\n".utf8))
        } else {
            print(text(status, mountpoint: StatusSocket.absolute(points[0])), terminator: "")
        }
        exit(0)
    }

    static func encode(_ s: FilesystemStatus) -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return (try? e.encode(s)) ?? Data("{}".utf8)
    }

    static func ago(_ seconds: Double?) -> String {
        guard let seconds else { return "" }
        if seconds < 120 { return String(format: "%.0f s ago", seconds) }
        if seconds < 7200 { return String(format: "%.0f min ago", seconds / 60) }
        return String(format: "%.1f h ago", seconds / 3600)
    }

    static func text(_ f: FilesystemStatus, mountpoint: String) -> String {
        let s = f.share
        var rows: [(String, String)] = []
        rows.append(("server", "\(s.server) port \(s.port)" + (s.channels.first?.address.map { " (\($0))" } ?? "")))
        rows.append(("dialect", s.dialect))
        rows.append(("signing", s.signing ?? "off"))
        rows.append(("encryption", s.encryption ?? "off"))
        rows.append(("authentication", s.authentication + (s.user.map { " as \($0)" } ?? "")))
        rows.append(("posix", s.posixExtensions))
        rows.append(("state", s.state))
        let channels = s.channels.enumerated().map { i, c in
            "#\(i) \(c.state) \(c.address ?? "?"), \(c.inFlight) in flight, \(c.credits) credits"
        }
        rows.append(("channels", channels.isEmpty ? "none" : "\(channels.count): " + channels.joined(separator: "; ")))
        rows.append(("reconnects", "\(s.reconnects)" + (s.secondsSinceReconnect.map { ", last " + ago($0) } ?? "")))
        rows.append(("opens", "\(s.opens) on the server (\(s.durableOpens) durable), \(f.openFiles) files and \(f.openDirectories) directories open here"))
        rows.append(("requests", "\(s.requestsInFlight) in flight"))
        rows.append(("writes behind", "\(f.writeBehindBytes) bytes"))
        rows.append(("read ahead", "\(f.readAheadBytes) bytes"))
        rows.append(("inodes", "\(f.inodes)"))
        rows.append(("modes", f.modes))
        rows.append(("permissions", f.permissions == "kernel" ? "checked here against the modes shown (perm)"
                                                               : "left to the server (noperm)"))
        let kinds = f.cache.keys.sorted().map { k in "\(k) \(f.cache[k]!.hits) hits, \(f.cache[k]!.misses) misses" }
        rows.append(("cache", kinds.joined(separator: "; ")))
        rows.append(("last error", s.lastError.map { "\($0) (\(ago(s.secondsSinceError)))" } ?? "none"))
        for l in s.dfsLinks ?? [] {
            rows.append(("dfs link", "\(l.path) -> \(l.target) \(l.state)" + (l.address.map { " (\($0))" } ?? "")
                         + ", \(l.reconnects) reconnects, referral for \(Int(max(0, l.secondsToLive))) s more"))
        }
        var out = "//\(s.server)/\(s.share) on \(mountpoint)\n"
        for (k, v) in rows { out += "  " + k.padding(toLength: 16, withPad: " ", startingAt: 0) + v + "\n" }
        return out
    }
}
