import Foundation
import XCTest

/// The command line: every failure is one "smb3fs: " line on stderr, exit status ≠ 0 and
/// no mount left; the accepted spellings of options and sources mount.
final class CLIFailureTests: MountTestCase {
    override var mountsInSetUp: Bool { false }

    func testWrongPasswordFromPASSWD() {
        let r = mount(options: ["username=\(env.user)"], passwd: "wrong-\(env.password)")
        assertCleanFailure(r, "wrong password in $PASSWD")
    }

    func testWrongPasswordInCredentialsFile() throws {
        let bad = try writeCredentials(username: env.user, password: "not-the-password", name: "bad.cred")
        assertCleanFailure(mount(options: ["credentials=\(bad)"]), "wrong password in credentials file")
    }

    func testUnknownUser() throws {
        let bad = try writeCredentials(username: "nosuchuser", password: "whatever", name: "nouser.cred")
        assertCleanFailure(mount(options: ["credentials=\(bad)"]), "unknown user")
    }

    func testUnknownShare() {
        assertCleanFailure(mount(source: "//\(env.host)/no-such-share", options: ["credentials=\(credentials!)"]),
                           "unknown share")
    }

    func testUnknownOption() {
        assertCleanFailure(mount(options: ["credentials=\(credentials!)", "no_such_option=1"]), "unknown option")
        assertCleanFailure(mount(options: ["credentials=\(credentials!)", "frobnicate"]), "unknown flag option")
    }

    /// SMB1 is never spoken; an unknown dialect is an error, not a fallback.
    func testInvalidVers() {
        assertCleanFailure(mount(options: ["credentials=\(credentials!)", "vers=1.0"]), "vers=1.0")
    }

    /// sec=, spn=, cruid= and ip= values that cannot be right: one line each, naming the value.
    func testBadSecuritySpnCruidAndIp() {
        let cases: [(String, String)] = [
            ("sec=lanman", "smb3fs: sec=lanman is not supported; use sec=ntlmssp or sec=krb5"),
            ("spn=cifs", "smb3fs: bad spn \"cifs\": expected a service principal like cifs/server.example.com"),
            ("cruid=no-such-user-here", "smb3fs: bad cruid \"no-such-user-here\": no such user"),
            ("ip=nas.example.com", "smb3fs: bad ip \"nas.example.com\": expected an IPv4 or IPv6 address"),
        ]
        for (option, line) in cases {
            let r = mount(options: ["credentials=\(credentials!)", "sec=krb5", option])
            assertCleanFailure(r, option)
            XCTAssertEqual(r.stderrLines, [line], option)
        }
        let both = mount(options: ["guest", "sec=krb5"])
        assertCleanFailure(both, "guest with sec=krb5")
        XCTAssertEqual(both.stderrLines, ["smb3fs: guest and sec=krb5 exclude each other"])
    }

    /// ip= dials that address; the source keeps the name it was given (here one that does not
    /// resolve), as mount.cifs does. sec=ntlmssp is the default spelled out.
    func testAddressOption() {
        let point = makeDir("byip")
        XCTAssertTrue(mountOK(source: "//no-such-name.invalid/\(env.share)", at: point,
                              options: ["credentials=\(credentials!)", "ip=\(env.host)", "sec=ntlmssp"]))
        XCTAssertEqual(mountEntry(at: point)?.source, "//no-such-name.invalid/\(env.share)")
        unmount(point)
    }

    func testMissingMountPoint() {
        let missing = work + "/does-not-exist"
        assertCleanFailure(mount(at: missing, options: ["credentials=\(credentials!)"]), mountPoint: missing,
                           "missing mount point")
        XCTAssertFalse(FileManager.default.fileExists(atPath: missing), "the mount point must not be created")
    }

    func testNonEmptyMountPoint() {
        let full = makeDir("full")
        _ = FileManager.default.createFile(atPath: full + "/keep", contents: Data("x".utf8))
        assertCleanFailure(mount(at: full, options: ["credentials=\(credentials!)"]), mountPoint: full,
                           "non-empty mount point")
        XCTAssertTrue(FileManager.default.fileExists(atPath: full + "/keep"))
    }

    func testUnreadableCredentialsFile() {
        assertCleanFailure(mount(options: ["credentials=\(work!)/no-such.cred"]), "missing credentials file")
        let dir = makeDir("cred-is-a-dir")
        assertCleanFailure(mount(options: ["credentials=\(dir)"]), "credentials file is a directory")
    }

    func testRefusedPort() {
        assertCleanFailure(mount(options: ["credentials=\(credentials!)", "port=1"]), "port=1")
        assertCleanFailure(mount(source: "//\(env.host):1/\(env.share)", options: ["credentials=\(credentials!)"]),
                           "//HOST:1/SHARE")
    }

    func testNoServerAtAddress() {
        // A loopback address nobody listens on: connection refused at once.
        assertCleanFailure(mount(source: "//127.0.0.99/\(env.share)", options: ["credentials=\(credentials!)"]),
                           "no server at 127.0.0.99")
    }

    /// No password anywhere and no terminal to ask on.
    func testNoPasswordWithoutTerminal() {
        assertCleanFailure(mount(options: ["username=\(env.user)"]), "no password, no tty")
    }

    func testDialectAboveServerMaximum() throws {
        guard let capped = env.dialectServers.first(where: { $0.vers == "2.0.2" }) else {
            return XCTFail("SMB3FS_DIALECT_SERVERS has no 2.0.2 server")
        }
        assertCleanFailure(mount(source: "//\(capped.host)/rw", options: ["credentials=\(credentials!)", "vers=3.1.1"]),
                           "vers=3.1.1 against a server capped at 2.0.2")
    }
    /// min_vers= refuses a server that offers less; together with vers= it must leave a dialect.
    func testMinimumDialect() throws {
        guard let capped = env.dialectServers.first(where: { $0.vers == "3.0.2" }) else {
            return XCTFail("SMB3FS_DIALECT_SERVERS has no 3.0.2 server")
        }
        let point = makeDir("minvers")
        let r = mount(source: "//\(capped.host)/rw", at: point, options: ["credentials=\(credentials!)", "min_vers=3.1.1"])
        assertCleanFailure(r, mountPoint: point, "min_vers=3.1.1 against a server capped at 3.0.2")
        XCTAssertTrue(mountOK(source: "//\(capped.host)/rw", at: point, options: ["credentials=\(credentials!)", "min_vers=3.0"]))
        unmount(point)
        let none = mount(at: point, options: ["credentials=\(credentials!)", "vers=2.1", "min_vers=3"])
        assertCleanFailure(none, mountPoint: point, "vers=2.1,min_vers=3")
        XCTAssertTrue(none.stderr.contains("no dialect"), none.summary)
    }

    /// A credentials file others (or the group) can read is refused, with the fix in the line.
    func testCredentialsFileReadableByOthersIsRefused() throws {
        for mode in [0o644, 0o640, 0o604] {
            let path = try writeCredentials(username: env.user, password: env.password, name: "open-\(mode).cred")
            XCTAssertEqual(chmod(path, mode_t(mode)), 0)
            let r = mount(options: ["credentials=\(path)"])
            assertCleanFailure(r, "credentials file mode \(String(mode, radix: 8))")
            XCTAssertTrue(r.stderr.contains("chmod 600"), r.summary)
        }
    }

    /// A guest session only with `guest`, which says once that it is neither signed nor
    /// encrypted; without it, a server that maps an unknown user to guest is refused.
    func testGuestOnlyWhenAsked() throws {
        let source = "//\(env.host)/guest"
        let bad = try writeCredentials(username: "no-such-user-\(getpid())", password: "x", name: "bad.cred")
        let refused = mount(source: source, options: ["credentials=\(bad)"])
        assertCleanFailure(refused, "unknown user mapped to guest")
        XCTAssertTrue(refused.stderr.contains("guest"), refused.summary)

        let r = mount(source: source, options: ["guest"])
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertEqual(r.stderrLines, ["smb3fs: warning: guest: the session is neither signed nor encrypted; anyone on the network path can read and alter it"])
        guard mountEntry(at: mnt) != nil else { return XCTFail("guest mount missing") }
        let name = "guest-\(getpid()).txt"
        XCTAssertTrue(FileManager.default.createFile(atPath: mnt + "/" + name, contents: Data("g\n".utf8)))
        XCTAssertEqual(FileManager.default.contents(atPath: mnt + "/" + name), Data("g\n".utf8))
        try? FileManager.default.removeItem(atPath: mnt + "/" + name)
        unmount(mnt)

        let sealed = mount(source: source, options: ["guest", "seal"])
        XCTAssertNotEqual(sealed.status, 0, "a guest session was accepted with seal: \(sealed.summary)")
        XCTAssertNil(mountEntry(at: mnt))
    }

    /// The daemon never dumps core (its memory holds the password and keys).
    func testDaemonDumpsNoCore() throws {
        guard mountOK(options: ["credentials=\(credentials!)"]) else { return }
        let pids = smb3fsProcesses(for: mnt)
        XCTAssertEqual(pids.count, 1)
        for pid in pids {
            let limits = (try? String(contentsOfFile: "/proc/\(pid)/limits", encoding: .utf8)) ?? ""
            let core = limits.split(separator: "\n").first { $0.hasPrefix("Max core file size") }
            XCTAssertEqual(core.map { $0.split(separator: " ", omittingEmptySubsequences: true).dropFirst(4).prefix(2).joined(separator: " ") },
                           "0 0", "core limit: \(String(describing: core))")
        }
    }
}

final class CLITests: MountTestCase {
    override var mountsInSetUp: Bool { false }

    func testPasswordOnCommandLineWarnsButMounts() {
        let r = mount(options: ["username=\(env.user)", "password=\(env.password)"])
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertNotNil(mountEntry(at: mnt), r.summary)
        XCTAssertFalse(r.stderrLines.isEmpty, "password= on argv must warn")
        XCTAssertTrue(r.stderrLines.allSatisfy { $0.hasPrefix("smb3fs: ") }, r.summary)
        XCTAssertTrue(r.stderr.lowercased().contains("password"), r.summary)
        XCTAssertFalse(r.stderr.contains(env.password), "the warning must not repeat the password")
        XCTAssertEqual(sh(#"ls -- "$1" >/dev/null"#, mnt).status, 0)
        // Once parsed, the password is overwritten where ps reads it.
        let pids = smb3fsProcesses(for: mnt)
        XCTAssertEqual(pids.count, 1)
        for pid in pids {
            let cmdline = (FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") ?? Data())
                .split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            XCTAssertFalse(cmdline.joined(separator: " ").contains(env.password), "password in /proc/\(pid)/cmdline")
            XCTAssertTrue(cmdline.contains { $0.contains("password=" + String(repeating: "X", count: env.password.count)) },
                          "\(cmdline.filter { !$0.contains(env.password) })")
        }
    }

    func testPASSWDAndShortOptionNames() {
        guard mountOK(options: ["user=\(env.user)", "dom=WORKGROUP"], passwd: env.password) else { return }
        XCTAssertEqual(sh(#"ls -- "$1" >/dev/null"#, mnt).status, 0)
    }

    func testPassAlias() {
        let r = mount(options: ["user=\(env.user)", "pass=\(env.password)"])
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertNotNil(mountEntry(at: mnt))
    }

    func testCredentialsFileWithDomain() throws {
        let cred = try writeCredentials(username: env.user, password: env.password, domain: "WORKGROUP",
                                        name: "domain.cred")
        mountOK(options: ["credentials=\(cred)"])
    }

    func testExplicitPortSpellings() {
        mountOK(source: "//\(env.host):445/\(env.share)", options: ["credentials=\(credentials!)"])
        let second = makeDir("port")
        mountOK(at: second, options: ["credentials=\(credentials!)", "port=445"])
    }

    /// What mount(8) / mount.fuse3 and fstab lines pass along is ignored.
    func testGenericMountOptionsAreIgnored() {
        let generic = ["auto", "noauto", "_netdev", "nofail", "user", "users", "defaults", "exec", "noexec",
                       "suid", "nosuid", "dev", "nodev", "atime", "noatime", "relatime", "ro"]
        mountOK(options: ["credentials=\(credentials!)"] + generic)
    }

    func testRepeatedDashO() {
        guard mountOK(options: ["credentials=\(credentials!)"], extraArgs: ["-o", "uid=4321", "-o", "gid=4322"])
        else { return }
        XCTAssertEqual(sh(#"stat -c '%u %g' -- "$1""#, mnt).stdout, "4321 4322\n")
    }

    func testAllowOtherAndDefaultPermissions() {
        guard mountOK(options: ["credentials=\(credentials!)", "allow_other", "default_permissions"]) else { return }
        let superOptions = mountEntry(at: mnt)?.superOptions ?? ""
        XCTAssertTrue(superOptions.contains("allow_other"), superOptions)
        XCTAssertTrue(superOptions.contains("default_permissions"), superOptions)
    }

    func testProcMountsShowsTypeAndSource() throws {
        guard mountOK(options: ["credentials=\(credentials!)"]) else { return }
        let mounts = try String(contentsOfFile: "/proc/mounts", encoding: .utf8)
        let line = mounts.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
            .first { $0.count > 2 && $0[1] == mnt }
        XCTAssertEqual(line?[0], env.source, "source in /proc/mounts")
        XCTAssertEqual(line?[2], "fuse.smb3fs", "type in /proc/mounts")
    }

    /// -f stays in the foreground: mounted while it runs; SIGTERM unmounts and ends it;
    /// so does fusermount3 -u.
    func testForegroundEndsOnSIGTERMAndOnUnmount() throws {
        for way in ["SIGTERM", "fusermount3 -u", "-d + SIGTERM"] {
            let point = makeDir("fg-\(way.filter(\.isLetter))")
            let mode = way.hasPrefix("-d") ? "-d" : "-f"
            guard var p = spawn([env.binary, env.source, point, "-o", "credentials=\(credentials!)", mode],
                                environment: childEnvironment(), stderrPath: work + "/fg.err")
            else { return XCTFail("cannot start \(env.binary)") }
            let up = waitUntil(30) { mountEntry(at: point) != nil || !p.poll() }
            XCTAssertTrue(up && p.poll(), "\(way): not mounted in the foreground, status \(String(describing: p.status))")
            XCTAssertEqual(mountEntry(at: point)?.fsType, "fuse.smb3fs", way)
            XCTAssertEqual(sh(#"ls -- "$1" >/dev/null"#, point).status, 0, way)
            if way == "fusermount3 -u" {
                XCTAssertEqual(runCmd(["fusermount3", "-u", point]).status, 0, way)
            } else {
                kill(p.pid, SIGTERM)
            }
            XCTAssertTrue(p.wait(15), "\(way): smb3fs \(mode) did not exit")
            XCTAssertEqual(p.status, 0, "\(way): exit status of smb3fs \(mode)")
            XCTAssertTrue(waitUntil(5) { mountEntry(at: point) == nil }, "\(way): still mounted")
            if p.poll() { kill(p.pid, SIGKILL); _ = p.wait(10) }
            if mountEntry(at: point) != nil { _ = runCmd(["umount", "-l", point]) }
        }
    }

    /// Detached (the default), the daemon works on a thread made after fork() and that thread
    /// alone takes SIGTERM, SIGINT and SIGHUP: each still unmounts and ends it, after a read
    /// that kept the connection's and Swift's threads busy.
    func testDetachedDaemonEndsOnSIGTERMSIGINTAndSIGHUP() throws {
        XCTAssertEqual(sh(#"head -c 3145728 /dev/urandom > "$1/mt-detached.bin""#, env.sharePath).status, 0)
        defer { try? FileManager.default.removeItem(atPath: env.sharePath + "/mt-detached.bin") }
        for (name, sig) in [("SIGTERM", SIGTERM), ("SIGINT", SIGINT), ("SIGHUP", SIGHUP)] {
            let point = makeDir("detached-\(name)")
            guard mountOK(at: point, options: ["credentials=\(credentials!)"]) else { return }
            let pids = smb3fsProcesses(for: point)
            XCTAssertEqual(pids.count, 1, "\(name): daemons \(pids)")
            XCTAssertEqual(sha(point + "/mt-detached.bin"), sha(env.sharePath + "/mt-detached.bin"), name)
            for pid in pids { kill(pid, sig) }
            XCTAssertTrue(waitUntil(15) { smb3fsProcesses(for: point).isEmpty }, "\(name): the daemon did not end")
            XCTAssertTrue(waitUntil(5) { mountEntry(at: point) == nil }, "\(name): still mounted")
            if mountEntry(at: point) != nil { _ = runCmd(["umount", "-l", point]) }
        }
    }

    /// The fstab path: mount -t fuse.smb3fs → mount.fuse3 → `smb3fs SOURCE DIR -o OPTS`,
    /// with smb3fs found in mount's own PATH (Scripts/setup installs /usr/local/bin/smb3fs).
    func testMountHelperFuseSmb3fs() throws {
        let installed = "/usr/local/bin/smb3fs"
        XCTAssertTrue(FileManager.default.contentsEqual(atPath: installed, andPath: env.binary),
                      "\(installed) is not \(env.binary): run Scripts/setup (Scripts/test does)")
        let r = runCmd(["mount", "-t", "fuse.smb3fs", "-o", "credentials=\(credentials!),uid=1000,_netdev,noatime",
                        env.source, mnt], environment: childEnvironment(), timeout: 60)
        XCTAssertEqual(r.status, 0, r.summary)
        guard let entry = mountEntry(at: mnt) else { return XCTFail("mount -t fuse.smb3fs: nothing mounted") }
        track(mnt)
        XCTAssertEqual(entry.fsType, "fuse.smb3fs")
        XCTAssertEqual(entry.source, env.source, "the fstab source, so that mount -a does not mount twice")
        XCTAssertEqual(sh(#"stat -c %u -- "$1""#, mnt).stdout, "1000\n")
        let u = runCmd(["umount", mnt])
        XCTAssertEqual(u.status, 0, u.summary)
        XCTAssertTrue(waitUntil(15) { mountEntry(at: mnt) == nil })
        XCTAssertTrue(waitUntil(15) { smb3fsProcesses(for: mnt).isEmpty }, "daemon left after umount")
    }
}
