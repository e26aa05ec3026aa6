import Foundation
import XCTest

/// `smb3fs list //HOST` against a Samba of the test's own with 200 extra shares (a response of
/// many DCE/RPC fragments), names and comments outside ASCII, and a hidden share: the disk
/// shares equal those `smbclient -L` reports, with their comments.
final class ShareListTests: OwnServerTestCase {
    static let extra = 200
    static let unicodeName = "Ünïcødé-ß-共有"
    static let unicodeComment = "Ζήτα, comment with spaces"

    override func setUpWithError() throws {
        try super.setUpWithError()
        stopServer()
        var text = try String(contentsOfFile: conf, encoding: .utf8) + "\n"
        for i in 0..<Self.extra {
            text += "[share-\(i)]\n  path = \(sharePath)\n  comment = comment number \(i)\n"
        }
        text += "[\(Self.unicodeName)]\n  path = \(sharePath)\n  comment = \(Self.unicodeComment)\n"
        text += "[hidden$]\n  path = \(sharePath)\n  comment = not shown by default\n"
        try text.write(toFile: conf, atomically: true, encoding: .utf8)
        try startServer()
    }

    func list(_ args: [String], credentials: String? = nil) -> ProcResult {
        runCmd([env.binary, "list", "//\(ip!)", "-o", "credentials=\(credentials ?? self.credentials!)"] + args,
               environment: childEnvironment(), timeout: 120)
    }

    /// (name, type, comment) from `smb3fs list` lines.
    func rows(_ r: ProcResult) -> [[String]] {
        r.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map {
            $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        }
    }

    func testListEqualsSmbclientAndHidesDollarShares() throws {
        let r = list([])
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertEqual(r.stderr, "")
        let ours = rows(r)
        XCTAssertTrue(ours.allSatisfy { $0.count == 3 }, r.stdout)
        // smbclient's grepable form: "Disk|name|comment".
        let theirs = runCmd(["smbclient", "-L", "//\(ip!)", "-U", "\(env.user)%\(env.password)", "-g"], timeout: 120)
        XCTAssertEqual(theirs.status, 0, theirs.summary)
        let disk = theirs.stdout.split(separator: "\n").compactMap { line -> [String]? in
            let f = line.split(separator: "|", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            return f.count == 3 && f[0] == "Disk" ? [f[1], "disk", f[2]] : nil
        }
        XCTAssertGreaterThan(disk.count, Self.extra, theirs.stdout)
        XCTAssertEqual(Set(ours.map { $0.joined(separator: "|") }),
                       Set(disk.filter { !$0[0].hasSuffix("$") }.map { $0.joined(separator: "|") }))
        XCTAssertTrue(ours.contains([Self.unicodeName, "disk", Self.unicodeComment]), r.stdout)
        XCTAssertTrue(ours.contains(["share-199", "disk", "comment number 199"]))
        XCTAssertFalse(ours.contains { $0[0].hasSuffix("$") }, "hidden shares need --all")

        // --all adds the hidden shares, IPC$ as ipc; --json holds the same.
        let all = list(["--all"])
        XCTAssertEqual(all.status, 0, all.summary)
        let allRows = rows(all)
        XCTAssertTrue(allRows.contains(["hidden$", "disk", "not shown by default"]), all.stdout)
        XCTAssertTrue(allRows.contains { $0[0] == "IPC$" && $0[1] == "ipc" }, all.stdout)
        XCTAssertEqual(allRows.count, ours.count + 2)

        let json = list(["--all", "--json"])
        XCTAssertEqual(json.status, 0, json.summary)
        let parsed = try JSONSerialization.jsonObject(with: json.stdoutData) as? [[String: Any]] ?? []
        XCTAssertEqual(Set(parsed.map { "\($0["name"] ?? "")|\($0["type"] ?? "")|\($0["comment"] ?? "")" }),
                       Set(allRows.map { $0.joined(separator: "|") }))
        XCTAssertEqual(parsed.filter { $0["hidden"] as? Bool == true }.count, 2)
    }

    /// Sealed, and at dialect 3.0 (FSCTL_VALIDATE_NEGOTIATE_INFO on IPC$): the same list.
    func testSealedAndThreeZeroListTheSame() {
        let plain = list([])
        XCTAssertEqual(plain.status, 0, plain.summary)
        for options in ["seal", "vers=3.0", "vers=2.1"] {
            let r = runCmd([env.binary, "list", "//\(ip!)", "-o", "credentials=\(credentials!),\(options)"],
                           environment: childEnvironment(), timeout: 120)
            XCTAssertEqual(r.status, 0, "\(options): \(r.summary)")
            XCTAssertEqual(r.stdout, plain.stdout, options)
        }
    }

    /// A wrong password, a host with nothing on 445, a bad source, IPC$ as a mount: one line each.
    func testFailuresAreOneLine() throws {
        let bad = try writeCredentials(username: env.user, password: "wrong", name: "bad-cred")
        for (r, what) in [(list([], credentials: bad), "logon failure"),
                          (runCmd([env.binary, "list", "//127.0.0.2", "-o", "credentials=\(credentials!)"], timeout: 60),
                           "connection refused"),
                          (runCmd([env.binary, "list", "nohost"], timeout: 60), "bad share"),
                          (runCmd([env.binary, "//\(ip!)/IPC$", mnt, "-o", "credentials=\(credentials!)"], timeout: 60),
                           "cannot be mounted")] {
            XCTAssertNotEqual(r.status, 0, r.summary)
            XCTAssertEqual(r.stderrLines.count, 1, r.summary)
            XCTAssertTrue(r.stderr.hasPrefix("smb3fs: ") && r.stderr.contains(what), r.summary)
            XCTAssertEqual(r.stdout, "")
        }
    }

    /// The autofs program map Scripts/setup installs: given the host, one multi-mount entry
    /// with every disk share and the host's credentials file, and an entry that mounts as
    /// automount would mount it (mount -t fuse.smb3fs with the entry's options).
    func testProgramMapListsTheDiskSharesAndItsEntriesMount() throws {
        let map = "/etc/auto.smb3fs"
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: map), "run Scripts/setup (Scripts/test does)")
        let creds = makeDir("creds")
        try FileManager.default.copyItem(atPath: credentials, toPath: creds + "/\(ip!).cred")
        var environment = childEnvironment()
        environment["SMB3FS_CREDDIR"] = creds
        environment["SMB3FS"] = env.binary
        let r = runCmd([map, ip], environment: environment, timeout: 120)
        XCTAssertEqual(r.status, 0, r.summary)
        var lines = r.stdout.split(separator: "\n").map(String.init)
        guard !lines.isEmpty else { return XCTFail("empty map entry") }
        let options = lines.removeFirst()
        XCTAssertEqual(options, "-fstype=fuse.smb3fs,allow_other,credentials=\(creds)/\(ip!).cred \\")
        var entries: [String: String] = [:]
        for l in lines {
            let quoted = l.split(separator: "\"").map(String.init)       // \t, /NAME, space, ://IP/NAME
            guard quoted.count >= 4 else { XCTFail("bad line \(l)"); continue }
            entries[quoted[1]] = quoted[3]
        }
        let listed = rows(list([])).map { $0[0] }
        XCTAssertEqual(Set(entries.keys), Set(listed.map { "/" + $0 }))
        XCTAssertEqual(entries["/" + Self.unicodeName], "://\(ip!)/\(Self.unicodeName)")
        // Without a credentials file for the host, nothing (and a line for automount's log).
        let none = runCmd([map, "127.0.0.2"], environment: environment, timeout: 60)
        XCTAssertNotEqual(none.status, 0)
        XCTAssertEqual(none.stdout, "")
        XCTAssertTrue(none.stderr.contains("no \(creds)/127.0.0.2.cred"), none.summary)

        let point = makeDir("auto-unicode")
        try "through the map\n".write(toFile: sharePath + "/map-probe.txt", atomically: true, encoding: .utf8)
        let mountOptions = String(options.dropFirst("-fstype=fuse.smb3fs,".count).dropLast(2))
        let m = runCmd(["mount", "-t", "fuse.smb3fs", "-o", mountOptions, "//\(ip!)/\(Self.unicodeName)", point],
                       environment: childEnvironment(), timeout: 60)
        XCTAssertEqual(m.status, 0, m.summary)
        guard mountEntry(at: point) != nil else { return XCTFail("not mounted: \(m.summary)") }
        track(point)
        XCTAssertEqual(sh(#"cat "$1/map-probe.txt""#, point).stdout, "through the map\n")
        unmount(point)
    }
}
