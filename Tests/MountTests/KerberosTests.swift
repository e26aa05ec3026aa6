import Foundation
import XCTest

/// `sec=krb5` against a real KDC: Samba as an AD domain controller (Scripts/kdc-server, started
/// by Scripts/test), tickets from `kinit` with the user's keytab, the service principal
/// cifs/dc.smbtest.lan reached at the DC's loopback address with `ip=` (or named with `spn=`).
final class KerberosTests: MountTestCase {
    override var mountsInSetUp: Bool { false }

    static let realm = "SMBTEST.LAN"
    static let name = "dc.smbtest.lan"
    var dcDir: String!
    var dcIP: String!
    /// The test's own credential cache.
    var cache: String!

    override func setUpWithError() throws {
        try super.setUpWithError()
        let e = ProcessInfo.processInfo.environment
        guard let dir = e["SMB3FS_KDC_DIR"], !dir.isEmpty, let ip = e["SMB3FS_KDC_IP"], !ip.isEmpty else {
            XCTFail("SMB3FS_KDC_DIR and SMB3FS_KDC_IP are not set: run through Scripts/test")
            throw SetUpFailed(what: "the Kerberos domain controller")
        }
        dcDir = dir
        dcIP = ip
        cache = work + "/krb5cc"
        // The system's krb5.conf names other realms: only the DC's is used.
        extraEnvironment = ["KRB5_CONFIG": dir + "/krb5.conf", "KRB5CCNAME": "FILE:" + cache]
    }

    var source: String { "//\(Self.name)/share" }
    var sharePath: String { dcDir + "/shares/share" }

    @discardableResult
    func kinit(lifetime: String? = nil, file: StaticString = #filePath, line: UInt = #line) -> Bool {
        var argv = ["kinit"]
        if let lifetime { argv += ["-l", lifetime] }
        argv += ["-kt", dcDir + "/alice.keytab", "alice@\(Self.realm)"]
        let r = runCmd(argv, environment: childEnvironment())
        XCTAssertEqual(r.status, 0, "kinit: \(r.summary)", file: file, line: line)
        return r.status == 0
    }

    /// smbstatus of the DC (it runs in its own mount namespace, for its private /run/samba).
    func smbstatus(_ args: String...) -> String {
        let pid = (try? String(contentsOfFile: dcDir + "/run/samba.pid", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        return runCmd(["nsenter", "--target", pid, "--mount", "smbstatus", "-s", dcDir + "/etc/smb.conf"] + args).stdout
    }

    /// Data the server did not make: written through the mount, compared on the DC's disk, and
    /// the other way round.
    func roundTrip(_ point: String, _ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let written = Data((0..<(3 << 20)).map { _ in UInt8.random(in: 0...255) })
        let src = work + "/\(name).src"
        try written.write(to: URL(fileURLWithPath: src))
        XCTAssertEqual(runCmd(["cp", src, point + "/\(name)"]).status, 0, "cp to the mount", file: file, line: line)
        XCTAssertEqual(FileManager.default.contents(atPath: sharePath + "/\(name)"), written, "on the server", file: file, line: line)
        let other = Data("from the server \(UUID())\n".utf8)
        try other.write(to: URL(fileURLWithPath: sharePath + "/\(name).back"))
        XCTAssertEqual(FileManager.default.contents(atPath: point + "/\(name).back"), other, "read back", file: file, line: line)
        try? FileManager.default.removeItem(atPath: sharePath + "/\(name)")
        try? FileManager.default.removeItem(atPath: sharePath + "/\(name).back")
    }

    /// Signed (the DC requires signing), then sealed, as alice: data equal both ways; smbstatus
    /// shows the user the ticket names, its signing and, with `seal`, its cipher.
    func testMountReadWriteSignedAndSealed() throws {
        guard kinit() else { return }
        let point = makeDir("signed")
        guard mountOK(source: source, at: point, options: ["sec=krb5", "ip=\(dcIP!)"]) else { return }
        try roundTrip(point, "signed.bin")
        let sessions = smbstatus("-b")
        let row = sessions.split(separator: "\n").first { $0.contains("SMBTEST\\alice") }
        XCTAssertNotNil(row, "no session of alice: \(sessions)")
        XCTAssertTrue(row?.contains("AES-128-GMAC") ?? false, "not signed: \(sessions)")
        XCTAssertFalse(row?.contains("AES-128-GCM") ?? true, "encrypted without seal: \(sessions)")
        unmount(point)

        let sealed = makeDir("sealed")
        guard mountOK(source: source, at: sealed, options: ["sec=krb5", "ip=\(dcIP!)", "seal", "require_cipher=aes-256-gcm"])
        else { return }
        try roundTrip(sealed, "sealed.bin")
        let after = smbstatus("-b")
        XCTAssertTrue(after.split(separator: "\n").contains { $0.contains("SMBTEST\\alice") && $0.contains("AES-256-GCM") },
                      "no sealed session of alice: \(after)")
        unmount(sealed)
    }

    /// The share that requires encryption, mounted without `seal`, and named by `spn=` with the
    /// server given by address.
    func testEncryptedShareBySPN() throws {
        guard kinit() else { return }
        let point = makeDir("enc")
        guard mountOK(source: "//\(dcIP!)/enc", at: point, options: ["sec=krb5", "spn=cifs/\(Self.name)"]) else { return }
        let data = Data("sealed by the share \(UUID())\n".utf8)
        XCTAssertTrue(FileManager.default.createFile(atPath: point + "/enc.txt", contents: data))
        XCTAssertEqual(FileManager.default.contents(atPath: dcDir + "/shares/enc/enc.txt"), data)
        try? FileManager.default.removeItem(atPath: dcDir + "/shares/enc/enc.txt")
        let status = smbstatus("-b")
        XCTAssertTrue(status.split(separator: "\n").contains { $0.contains("SMBTEST\\alice") && $0.contains("AES-") && $0.contains("GCM") },
                      "not encrypted: \(status)")
        unmount(point)
    }

    /// No ticket: one line that says what to do, exit status 1, nothing mounted, no password
    /// asked for and no NTLM tried. A service the KDC does not know: one line naming it.
    func testNoTicketAndUnknownService() throws {
        let point = makeDir("none")
        let r = mount(source: source, at: point, options: ["sec=krb5", "ip=\(dcIP!)"])
        assertCleanFailure(r, mountPoint: point, "no ticket")
        XCTAssertEqual(r.stderrLines, ["smb3fs: no Kerberos ticket for cifs/\(Self.name) (run kinit)"])

        guard kinit() else { return }
        let unknown = mount(source: "//\(dcIP!)/share", at: point, options: ["sec=krb5", "spn=cifs/nosuch.smbtest.lan"])
        assertCleanFailure(unknown, mountPoint: point, "unknown service")
        XCTAssertTrue(unknown.stderr.contains("cifs/nosuch.smbtest.lan") && unknown.stderr.contains("not found in Kerberos database"),
                      unknown.summary)
    }

    /// sec=ntlmssp never tries Kerberos, sec=krb5 never NTLM: with a ticket and no password,
    /// the default mount fails asking for a password; with a password and no ticket, sec=krb5
    /// fails for the ticket.
    func testMechanismsDoNotFallBack() throws {
        guard kinit() else { return }
        let point = makeDir("fallback")
        let ntlm = mount(source: source, at: point, options: ["ip=\(dcIP!)", "username=alice"])
        assertCleanFailure(ntlm, mountPoint: point, "sec=ntlmssp without a password")
        XCTAssertTrue(ntlm.stderr.contains("no password for alice"), ntlm.summary)

        extraEnvironment["KRB5CCNAME"] = "FILE:" + work + "/no-such-cache"
        let creds = try writeCredentials(username: "alice", password: "Passw0rd.1", domain: "SMBTEST", name: "alice.cred")
        let krb = mount(source: source, at: point, options: ["sec=krb5", "ip=\(dcIP!)", "credentials=\(creds)"])
        assertCleanFailure(krb, mountPoint: point, "sec=krb5 with a password but no ticket")
        XCTAssertEqual(krb.stderrLines, ["smb3fs: no Kerberos ticket for cifs/\(Self.name) (run kinit)"])
        // The same password works over NTLM on this DC: the refusal above was sec=krb5's.
        XCTAssertTrue(mountOK(source: source, at: point, options: ["ip=\(dcIP!)", "credentials=\(creds)"]))
        unmount(point)
    }

    /// cruid=: root mounts with the cache of another user (found at /tmp/krb5cc_UID), not with
    /// its own KRB5CCNAME, which has no ticket.
    func testCruidUsesThatUsersCache() throws {
        let uid: UInt32 = 4_000_000_000 - UInt32.random(in: 0..<1_000_000)
        let userCache = "/tmp/krb5cc_\(uid)"
        extraEnvironment["KRB5CCNAME"] = "FILE:" + userCache
        guard kinit() else { return }
        defer { try? FileManager.default.removeItem(atPath: userCache) }
        XCTAssertEqual(chown(userCache, uid, 0), 0)
        extraEnvironment["KRB5CCNAME"] = "FILE:" + work + "/root-has-none"
        let point = makeDir("cruid")
        guard mountOK(source: source, at: point, options: ["sec=krb5", "ip=\(dcIP!)", "cruid=\(uid)"]) else { return }
        try roundTrip(point, "cruid.bin")
        unmount(point)

        let other = mount(source: source, at: point, options: ["sec=krb5", "ip=\(dcIP!)", "cruid=\(uid + 1)"])
        assertCleanFailure(other, mountPoint: point, "cruid of a user without a cache")
        XCTAssertTrue(other.stderr.contains("cruid=\(uid + 1): no credential cache"), other.summary)
    }

    /// A ticket that runs out during the mount: the server ends the session
    /// (STATUS_NETWORK_SESSION_EXPIRED) when the service ticket does. With no valid ticket the
    /// call fails with EKEYEXPIRED and a new mount says "run kinit"; once the user has run
    /// kinit, the same mount, daemon and SessionId go on: the session is authenticated again
    /// (MS-SMB2 3.2.4.2.3.1), no new session or connection is made.
    func testTicketExpiryDuringMountIsRenewedInPlace() throws {
        // The DC issues no service ticket for less than about two minutes.
        guard kinit(lifetime: "130s") else { return }
        let expires = Date().addingTimeInterval(130)
        let point = makeDir("expiry")
        let log = work + "/expiry.log"
        guard var daemon = spawn([env.binary, source, point, "-d", "-o", "sec=krb5,ip=\(dcIP!),cache=none"],
                                 environment: childEnvironment(), stderrPath: log) else { return XCTFail("no smb3fs") }
        defer { if daemon.poll() { kill(daemon.pid, SIGTERM); _ = daemon.wait(15) } }
        XCTAssertTrue(waitUntil(30) { mountEntry(at: point) != nil }, "not mounted")
        track(point)
        try "before\n".write(toFile: point + "/before.txt", atomically: false, encoding: .utf8)

        // Until the ticket's end the session works; then the server says it has expired.
        XCTAssertTrue(waitUntil(200) { Date() > expires.addingTimeInterval(2) })
        XCTAssertNotEqual(runCmd(["klist", "-s"], environment: childEnvironment()).status, 0, "the ticket has not expired")
        let late = sh(#"cat -- "$1""#, point + "/before.txt")
        XCTAssertNotEqual(late.status, 0, "read with an expired ticket: \(late.summary)")
        XCTAssertTrue(late.stderr.contains("Key has expired"), "errno of a read without a ticket: \(late.summary)")
        let again = mount(source: source, at: makeDir("again"), options: ["sec=krb5", "ip=\(dcIP!)"])
        assertCleanFailure(again, mountPoint: work + "/again", "mount with an expired ticket")
        XCTAssertEqual(again.stderrLines, ["smb3fs: no Kerberos ticket for cifs/\(Self.name) (run kinit)"])

        guard kinit() else { return }
        XCTAssertEqual(try String(contentsOfFile: point + "/before.txt", encoding: .utf8), "before\n")
        try roundTrip(point, "renewed.bin")
        XCTAssertTrue(daemon.poll(), "the daemon ended")
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        let established = text.split(separator: "\n").filter { $0.contains("session established") }
        let renewed = text.split(separator: "\n").filter { $0.contains("session re-authenticated") }
        XCTAssertEqual(established.count, 1, "a new session was made:\n\(established.joined(separator: "\n"))")
        XCTAssertFalse(renewed.isEmpty, "no re-authentication in the log")
        let id = { (line: Substring) in line.split(separator: " ").first { $0.hasPrefix("session=") } }
        XCTAssertEqual(established.first.flatMap(id), renewed.first.flatMap(id), "re-authenticated another session")
        XCTAssertFalse(text.contains("reconnected"), "the connection was made again")
        unmount(point)
    }
}
