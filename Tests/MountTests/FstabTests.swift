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

/// `user` and `users` fstab lines mount for a user other than root through fusermount3, and
/// that user unmounts; what such a user lacks is one line from smb3fs.
/// systemd turns fstab lines into units with systemd-fstab-generator; PID 1 then runs
/// `mount WHAT WHERE -t TYPE -o OPTIONS` for a .mount unit. The generator is run on a test
/// fstab, the units it writes are checked, and each .mount unit's command is run as systemd
/// would run it.
final class SystemdUnitTests: MountTestCase {
    override var mountsInSetUp: Bool { false }
    static let generator = "/lib/systemd/system-generators/systemd-fstab-generator"

    /// The `[Section] Key=value` pairs of a unit file.
    func unit(_ path: String) -> [String: String] {
        var out: [String: String] = [:]
        for line in ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n") {
            guard let eq = line.firstIndex(of: "="), !line.hasPrefix("#") else { continue }
            out[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        return out
    }

    func testGeneratedMountAndAutomountUnits() throws {
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: Self.generator), "systemd's fstab generator (Debian's systemd)")
        let plain = makeDir("sd-plain"), auto = makeDir("sd-auto")
        let fstab = work + "/fstab"
        try """
        \(env.source) \(plain) fuse.smb3fs credentials=\(credentials!),uid=1000,_netdev,nofail 0 0
        \(env.source) \(auto) smb3fs credentials=\(credentials!),x-systemd.automount,x-systemd.idle-timeout=60,_netdev 0 0

        """.write(toFile: fstab, atomically: true, encoding: .utf8)
        let out = makeDir("generated")
        for d in ["normal", "early", "late"] { _ = makeDir("generated/" + d) }
        var environment = ProcessInfo.processInfo.environment
        environment["SYSTEMD_FSTAB"] = fstab
        let g = runCmd([Self.generator, out + "/normal", out + "/early", out + "/late"], environment: environment, timeout: 60)
        XCTAssertEqual(g.status, 0, g.summary)
        let escaped = { (p: String) in runCmd(["systemd-escape", "--path", p]).stdout.trimmingCharacters(in: .whitespacesAndNewlines) }
        // _netdev makes both network mounts: ordered before remote-fs.target, after the network.
        let plainUnit = out + "/normal/" + escaped(plain) + ".mount"
        let autoUnit = out + "/normal/" + escaped(auto) + ".mount"
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/normal/remote-fs.target.wants/" + escaped(plain) + ".mount"),
                      "not pulled in by remote-fs.target")
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/normal/remote-fs.target.requires/" + escaped(auto) + ".automount"))
        let automount = unit(out + "/normal/" + escaped(auto) + ".automount")
        XCTAssertEqual(automount["Where"], auto)
        XCTAssertEqual(automount["TimeoutIdleSec"], "1min")
        for (path, point, type) in [(plainUnit, plain, "fuse.smb3fs"), (autoUnit, auto, "smb3fs")] {
            let u = unit(path)
            XCTAssertEqual(u["What"], env.source, path)
            XCTAssertEqual(u["Where"], point)
            XCTAssertEqual(u["Type"], type)
            guard let what = u["What"], let options = u["Options"] else { XCTFail("incomplete unit \(path)"); continue }
            // What systemd runs for the unit (and, for an automount, on first access).
            let m = runCmd(["mount", what, point, "-t", type, "-o", options], environment: childEnvironment(), timeout: 60)
            XCTAssertEqual(m.status, 0, "\(type): \(m.summary)")
            guard mountEntry(at: point) != nil else { XCTFail("\(type): not mounted"); continue }
            track(point)
            XCTAssertEqual(sh(#"ls -d "$1/." > /dev/null && echo ok"#, point).stdout, "ok\n")
            let stop = runCmd(["umount", point], timeout: 60)
            XCTAssertEqual(stop.status, 0, stop.summary)
            XCTAssertTrue(waitUntil(15) { smb3fsProcesses(for: point).isEmpty }, "\(type): daemon left after umount")
        }
    }
}

final class UserMountTests: MountTestCase {
    override var mountsInSetUp: Bool { false }
    var savedFuseMode: mode_t?
    var dir: String!
    var uid: uid_t = 0, gid: gid_t = 0

    override func setUpWithError() throws {
        try super.setUpWithError()
        // Scripts/samba-server setup makes the user: without it the test servers are not set up.
        guard let pw = getpwnam(env.user) else {
            XCTFail("no Unix user \(env.user)")
            throw SetUpFailed(what: "the test's Unix user")
        }
        uid = pw.pointee.pw_uid
        gid = pw.pointee.pw_gid
        // udev makes /dev/fuse 0666 on a normal system; some machines have 0600.
        var st = stat()
        XCTAssertEqual(stat("/dev/fuse", &st), 0)
        savedFuseMode = st.st_mode & 0o7777
        dir = try reachableDirectory()
    }

    override func tearDownWithError() throws {
        if let m = savedFuseMode { chmod("/dev/fuse", m) }
        if let dir {
            for point in ["a", "b", "closed"].map({ dir + "/" + $0 }) where mountEntry(at: point) != nil {
                _ = runCmd(["umount", "-l", point])
            }
            try? FileManager.default.removeItem(atPath: dir)
        }
        try super.tearDownWithError()
    }

    /// A mount point and a credentials file owned by the user.
    func userFiles() throws -> (a: String, b: String, cred: String) {
        let a = dir + "/a", b = dir + "/b", cred = dir + "/user.cred"
        for p in [a, b] {
            mkdir(p, 0o755)
            chown(p, uid, gid)
        }
        try "username=\(env.user)\npassword=\(env.password)\n".write(toFile: cred, atomically: true, encoding: .utf8)
        chmod(cred, 0o600)
        chown(cred, uid, gid)
        return (a, b, cred)
    }

    func asUser(_ argv: [String]) -> ProcResult {
        runCmd(["runuser", "-u", env.user, "--"] + argv, timeout: 60)
    }

    func testUserLinesMountAndUnmountAsThatUser() throws {
        chmod("/dev/fuse", 0o666)
        let (a, b, cred) = try userFiles()
        let fstab = dir + "/fstab"
        try """
        \(env.source) \(a) fuse.smb3fs credentials=\(cred),user,noauto 0 0
        \(env.source) \(b) smb3fs credentials=\(cred),users,noauto 0 0

        """.write(toFile: fstab, atomically: true, encoding: .utf8)
        chmod(fstab, 0o644)
        for point in [a, b] {
            let r = asUser(["mount", "-T", fstab, point])
            XCTAssertEqual(r.status, 0, r.summary)
            guard let entry = mountEntry(at: point) else { XCTFail("nothing mounted at \(point)"); continue }
            XCTAssertEqual(entry.fsType, "fuse.smb3fs")
            XCTAssertEqual(entry.source, env.source)
            XCTAssertTrue(entry.superOptions.contains("user_id=\(uid)"), entry.superOptions)
            // The user's own mount: files show as the user's and the user can write.
            let w = asUser(["sh", "-c", #"echo hi > "$1/user-$2.txt" && stat -c %u "$1/user-$2.txt""#, "sh", point, (point as NSString).lastPathComponent])
            XCTAssertEqual(w.stdout, "\(uid)\n", w.summary)
            // The mount's owner asks it how it is, without root.
            let st = asUser([env.binary, "status", point])
            XCTAssertEqual(st.status, 0, st.summary)
            XCTAssertTrue(st.stdout.contains("  state           connected\n"), st.summary)
            // Not root's to see: without allow_other, other users (root included) are refused.
            XCTAssertNotEqual(runCmd(["ls", point]).status, 0, "root entered a user's mount without allow_other")
            let u = asUser(["umount", point])
            XCTAssertEqual(u.status, 0, u.summary)
            XCTAssertTrue(waitUntil(15) { mountEntry(at: point) == nil }, "still mounted after the user's umount")
            XCTAssertTrue(waitUntil(15) { smb3fsProcesses(for: point).isEmpty }, "daemon left after umount")
        }
    }

    func testWhatAUserLacksIsOneLine() throws {
        let (a, _, cred) = try userFiles()
        chmod("/dev/fuse", 0o600)
        var r = asUser([env.binary, env.source, a, "-o", "credentials=\(cred)"])
        assertCleanFailure(r, mountPoint: a, "/dev/fuse 0600")
        XCTAssertTrue(r.stderr.contains("/dev/fuse is not readable and writable"), r.summary)
        chmod("/dev/fuse", 0o666)
        let closed = dir + "/closed"
        mkdir(closed, 0o755)
        r = asUser([env.binary, env.source, closed, "-o", "credentials=\(cred)"])
        assertCleanFailure(r, mountPoint: closed, "mount point not the user's")
        XCTAssertTrue(r.stderr.contains("must be writable by the mounting user"), r.summary)
        let conf = (try? String(contentsOfFile: "/etc/fuse.conf", encoding: .utf8)) ?? ""
        let allowed = conf.split(separator: "\n").contains { $0.split(separator: "#", omittingEmptySubsequences: false).first?.trimmingCharacters(in: .whitespaces) == "user_allow_other" }
        r = asUser([env.binary, env.source, a, "-o", "credentials=\(cred),allow_other"])
        if allowed {
            XCTAssertEqual(r.status, 0, r.summary)
            XCTAssertNotNil(mountEntry(at: a))
            XCTAssertEqual(asUser(["fusermount3", "-u", a]).status, 0)
        } else {
            assertCleanFailure(r, mountPoint: a, "allow_other without user_allow_other")
            XCTAssertTrue(r.stderr.contains("needs user_allow_other in /etc/fuse.conf"), r.summary)
        }
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
