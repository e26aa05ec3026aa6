import Foundation
import XCTest

/// /etc/fstab as mount(8) reads it, through an alternate fstab (`mount -T`): type
/// `fuse.smb3fs` goes through mount.fuse3, type `smb3fs` through /sbin/mount.smb3fs (a link
/// to smb3fs, installed by Scripts/setup); both mount, neither mounts twice, umount ends the
/// daemon.
final class FstabTests: MountTestCase {
    override var mountsInSetUp: Bool { false }

    /// An fstab in the test's directory with one line per (type, mount point).
    func writeFstab(_ lines: [(type: String, point: String, options: String)]) throws -> String {
        let path = work + "/fstab"
        let text = lines.map { "\(env.source) \($0.point) \($0.type) \($0.options) 0 0\n" }.joined()
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func mountCount(_ point: String) -> Int {
        mountTable().filter { $0.mountPoint == point }.count
    }

    func testBothTypesMountOnceAndUmountEndsTheDaemon() throws {
        XCTAssertEqual(try? FileManager.default.destinationOfSymbolicLink(atPath: "/sbin/mount.smb3fs"),
                       "/usr/local/bin/smb3fs", "run Scripts/setup (Scripts/test does)")
        let points = ["fuse.smb3fs": makeDir("fuse"), "smb3fs": makeDir("plain")]
        let options = "credentials=\(credentials!),uid=1000,_netdev,nofail,x-systemd.requires=network-online.target,comment=test"
        let fstab = try writeFstab(points.sorted { $0.key < $1.key }.map { ($0.key, $0.value, options) })
        for (type, point) in points.sorted(by: { $0.key < $1.key }) {
            let r = runCmd(["mount", "-T", fstab, point], environment: childEnvironment(), timeout: 60)
            XCTAssertEqual(r.status, 0, "\(type): \(r.summary)")
            guard let entry = mountEntry(at: point) else { XCTFail("\(type): nothing mounted at \(point)"); continue }
            track(point)
            XCTAssertEqual(entry.fsType, "fuse.smb3fs", type)
            XCTAssertEqual(entry.source, env.source, type)
            XCTAssertEqual(sh(#"stat -c %u -- "$1""#, point).stdout, "1000\n", type)
            XCTAssertEqual(sh(#"echo "$2" > "$1/fstab-$2.txt" && cat "$1/fstab-$2.txt""#, point, type).stdout, "\(type)\n")
        }
        // mount -a sees both lines mounted (same source, same mount point) and mounts nothing.
        for _ in 0..<2 {
            let r = runCmd(["mount", "-a", "-T", fstab], environment: childEnvironment(), timeout: 60)
            XCTAssertEqual(r.status, 0, r.summary)
        }
        for (type, point) in points {
            XCTAssertEqual(mountCount(point), 1, "\(type): mount -a mounted again")
            let u = runCmd(["umount", point], timeout: 60)
            XCTAssertEqual(u.status, 0, "\(type): \(u.summary)")
            XCTAssertTrue(waitUntil(15) { mountEntry(at: point) == nil }, "\(type): still mounted")
            XCTAssertTrue(waitUntil(15) { smb3fsProcesses(for: point).isEmpty }, "\(type): daemon left after umount")
        }
        // mount -a mounts both again (from nothing), then umount -a -t takes both down.
        let r = runCmd(["mount", "-a", "-T", fstab], environment: childEnvironment(), timeout: 60)
        XCTAssertEqual(r.status, 0, r.summary)
        for (type, point) in points {
            XCTAssertEqual(mountCount(point), 1, "\(type): mount -a")
            track(point)
            XCTAssertEqual(sh(#"cat "$1/fstab-$2.txt""#, point, type).stdout, "\(type)\n")
        }
        for point in points.values { unmount(point) }
    }

    /// `noauto` lines are left to `mount MOUNTPOINT`; a failing line fails `mount -a` with the
    /// helper's one line, and the good line still mounts.
    func testNoautoAndAFailingLine() throws {
        let good = makeDir("good"), later = makeDir("later"), bad = makeDir("bad")
        let fstab = try writeFstab([
            ("fuse.smb3fs", good, "credentials=\(credentials!)"),
            ("smb3fs", later, "credentials=\(credentials!),noauto"),
            ("smb3fs", bad, "credentials=\(credentials!),no_such_option"),
        ])
        let r = runCmd(["mount", "-a", "-T", fstab], environment: childEnvironment(), timeout: 60)
        XCTAssertNotEqual(r.status, 0, r.summary)
        XCTAssertTrue(r.stderr.contains("smb3fs: unknown option \"no_such_option\""), r.summary)
        XCTAssertNotNil(mountEntry(at: good), "the good line")
        track(good)
        XCTAssertNil(mountEntry(at: bad))
        XCTAssertNil(mountEntry(at: later), "noauto")
        let m = runCmd(["mount", "-T", fstab, later], environment: childEnvironment(), timeout: 60)
        XCTAssertEqual(m.status, 0, m.summary)
        XCTAssertNotNil(mountEntry(at: later))
        track(later)
        unmount(good)
        unmount(later)
    }

    /// mount -f (fake) hands -f to the helper: everything is checked, nothing mounted.
    func testFakeMountChecksAndMountsNothing() throws {
        let point = makeDir("fake")
        let ok = runCmd(["mount", "-f", "-t", "smb3fs", "-o", "credentials=\(credentials!)", env.source, point],
                        environment: childEnvironment(), timeout: 60)
        XCTAssertEqual(ok.status, 0, ok.summary)
        XCTAssertNil(mountEntry(at: point))
        XCTAssertTrue(smb3fsProcesses(for: point).isEmpty)
        let bad = runCmd(["mount", "-f", "-t", "smb3fs", "-o", "credentials=\(credentials!),vers=1.0", env.source, point],
                         environment: childEnvironment(), timeout: 60)
        XCTAssertNotEqual(bad.status, 0, bad.summary)
        XCTAssertTrue(bad.stderr.contains("smb3fs: vers=1.0: SMB1 is not supported"), bad.summary)
    }
}

/// --help, --version and the man page: every option documented in both, help on stdout.
final class HelpTests: XCTestCase {
    var binary: String { (try? TestEnv.load().binary) ?? "/usr/local/bin/smb3fs" }

    static var repository: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    func testHelpAndVersionGoToStdoutWithStatusZero() {
        let help = runCmd([binary, "--help"])
        XCTAssertEqual(help.status, 0, help.summary)
        XCTAssertEqual(help.stderr, "")
        XCTAssertTrue(help.stdout.contains("usage: smb3fs //HOST"), help.summary)
        XCTAssertTrue(help.stdout.contains("(default: 0644)"), help.summary)
        XCTAssertEqual(runCmd([binary, "-h"]).stdout, help.stdout)
        // Anywhere on the line, before or after the other arguments, like other tools.
        XCTAssertEqual(runCmd([binary, "//h/s", "/nonexistent", "--help"]).stdout, help.stdout)
        let version = runCmd([binary, "--version"])
        XCTAssertEqual(version.status, 0, version.summary)
        XCTAssertEqual(version.stderr, "")
        XCTAssertNotNil(version.stdout.range(of: #"^smb3fs [0-9]+\.[0-9]+\.[0-9]+\n$"#, options: .regularExpression), version.summary)
        XCTAssertEqual(runCmd([binary, "-V"]).stdout, version.stdout)
    }

    func testHelpListsExactlyTheOptionsOfTheManPage() throws {
        let man = try String(contentsOf: Self.repository.appendingPathComponent("man/smb3fs.8"), encoding: .utf8)
        let fromMan = Self.manOptions(man)
        let help = runCmd([binary, "--help"])
        XCTAssertEqual(help.status, 0, help.summary)
        let fromHelp = Self.helpOptions(help.stdout)
        XCTAssertGreaterThan(fromMan.count, 40, "man page OPTIONS not found")
        XCTAssertEqual(fromHelp.subtracting(fromMan).sorted(), [], "in --help, not in man/smb3fs.8")
        XCTAssertEqual(fromMan.subtracting(fromHelp).sorted(), [], "in man/smb3fs.8, not in --help")
    }

    /// Option names in a tag: each comma-separated item's leading name (`-o`, `--help`,
    /// `username`, `x-`), whatever follows it (`=NAME`, `|loose`, ` (default)`).
    static func names(inTag tag: String) -> Set<String> {
        var out: Set<String> = []
        for item in tag.split(separator: ",") {
            let t = item.trimmingCharacters(in: .whitespaces)
            if let r = t.range(of: #"^-{0,2}[a-z_][a-z0-9_]*-?"#, options: .regularExpression) {
                out.insert(String(t[r]))
            }
        }
        return out
    }

    /// Tags of --help: the lines indented by exactly two spaces.
    static func helpOptions(_ text: String) -> Set<String> {
        var out: Set<String> = []
        for line in text.split(separator: "\n") where line.hasPrefix("  ") && !line.hasPrefix("   ") {
            out.formUnion(names(inTag: String(line)))
        }
        return out
    }

    /// Tags of the man page's OPTIONS section: the line after each .TP, its font macro's
    /// arguments joined as roff joins them, font escapes removed.
    static func manOptions(_ roff: String) -> Set<String> {
        var out: Set<String> = []
        var inOptions = false
        var afterTP = false
        for line in roff.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix(".SH") { inOptions = line.hasPrefix(".SH OPTIONS"); continue }
            guard inOptions else { continue }
            if line == ".TP" { afterTP = true; continue }
            guard afterTP else { continue }
            afterTP = false
            var text = line
            if line.hasPrefix(".") {
                // .B/.BI/.BR/...: arguments separated by spaces, "quoted" ones kept whole.
                let body = line.drop { $0 != " " }
                var args: [String] = []
                var cur = "", quoted = false, any = false
                for c in body {
                    if c == "\"" { quoted.toggle(); any = true; continue }
                    if c == " " && !quoted { if any { args.append(cur) }; cur = ""; any = false; continue }
                    cur.append(c); any = true
                }
                if any { args.append(cur) }
                text = line.hasPrefix(".B ") || line.hasPrefix(".I ") ? args.joined(separator: " ") : args.joined()
            }
            text = text.replacingOccurrences(of: #"\\f[BIRP]"#, with: "", options: .regularExpression)
                .replacingOccurrences(of: "\\-", with: "-")
            out.formUnion(names(inTag: text))
        }
        return out
    }
}
