import Foundation
import XCTest

/// What crosses the wire, captured with tcpdump on loopback: a file's bytes are in the capture
/// of a signed-only mount, and in no capture of an encrypted one (`seal`, or a share that
/// requires encryption), whether written or read.
final class EncryptionMountTests: MountTestCase {
    override var mountsInSetUp: Bool { false }

    /// Starts tcpdump on the main server's SMB traffic and returns once it captures.
    private func startCapture(_ name: String) throws -> (child: Child, file: String) {
        let file = work + "/\(name).pcap", log = work + "/\(name).tcpdump.log"
        // --immediate-mode: each packet is written as it comes, not when a kernel block fills
        // (otherwise the last packets are still in the kernel's buffer when tcpdump stops).
        guard let child = spawn(["tcpdump", "-i", "lo", "--immediate-mode", "-U", "-s", "0", "-n", "-w", file,
                                 "host \(env.host) and tcp port 445"], stderrPath: log) else {
            XCTFail("tcpdump did not start")
            throw SetUpFailed(what: "tcpdump")
        }
        // tcpdump says "listening on lo" once its capture is open.
        let ready = waitUntil(20) { ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("listening on") }
        XCTAssertTrue(ready, "tcpdump: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        return (child, file)
    }

    private func stopCapture(_ c: (child: Child, file: String)) -> Data {
        kill(c.child.pid, SIGTERM)
        var child = c.child
        XCTAssertTrue(child.wait(20), "tcpdump did not stop")
        return (try? Data(contentsOf: URL(fileURLWithPath: c.file))) ?? Data()
    }

    /// A marker no packet carries by chance: 48 KiB of a random line.
    private func marker() -> Data {
        let line = "smb3fs-marker-\(UUID().uuidString)-\(UUID().uuidString)\n"
        return Data(String(repeating: line, count: 48 * 1024 / line.utf8.count).utf8)
    }

    /// The first 64 bytes of the marker: enough to be unique, short enough to sit inside one
    /// TCP segment somewhere in a cleartext capture.
    private func contains(_ capture: Data, _ m: Data) -> Bool { capture.range(of: m.prefix(64)) != nil }

    private func exercise(share: String, sharePath: String, options: [String], name: String) throws -> (written: Data, read: Data, capture: Data) {
        let written = marker(), read = marker()
        let serverFile = sharePath + "/\(name)-read.txt"
        try read.write(to: URL(fileURLWithPath: serverFile))
        defer { try? FileManager.default.removeItem(atPath: serverFile) }
        let point = makeDir(name)
        let capture = try startCapture(name)
        var data = Data()
        if mountOK(source: "//\(env.host)/\(share)", at: point, options: ["credentials=\(credentials!)"] + options) {
            XCTAssertTrue(FileManager.default.createFile(atPath: point + "/\(name)-written.txt", contents: written))
            XCTAssertEqual(FileManager.default.contents(atPath: point + "/\(name)-read.txt"), read, "\(name): read")
            unmount(point)
            XCTAssertEqual(FileManager.default.contents(atPath: sharePath + "/\(name)-written.txt"), written, "\(name): on the server")
            try? FileManager.default.removeItem(atPath: sharePath + "/\(name)-written.txt")
        }
        data = stopCapture(capture)
        XCTAssertGreaterThan(data.count, 2 * written.count, "\(name): the capture holds the traffic")
        return (written, read, data)
    }

    func testSealedMountsCarryNoPlaintext() throws {
        let plain = try exercise(share: env.share, sharePath: env.sharePath, options: [], name: "plain")
        XCTAssertTrue(contains(plain.capture, plain.written), "a signed-only mount's writes are visible on the wire")
        XCTAssertTrue(contains(plain.capture, plain.read), "a signed-only mount's reads are visible on the wire")

        let sealed = try exercise(share: env.share, sharePath: env.sharePath, options: ["seal"], name: "sealed")
        XCTAssertFalse(contains(sealed.capture, sealed.written), "seal: written bytes on the wire")
        XCTAssertFalse(contains(sealed.capture, sealed.read), "seal: read bytes on the wire")

        let encPath = (env.sharePath as NSString).deletingLastPathComponent + "/enc"
        let required = try exercise(share: "enc", sharePath: encPath, options: [], name: "required")
        XCTAssertFalse(contains(required.capture, required.written), "encrypted share: written bytes on the wire")
        XCTAssertFalse(contains(required.capture, required.read), "encrypted share: read bytes on the wire")
    }

    /// A server whose address is not on a local network is encrypted without being asked
    /// (SMB3FS_TREAT_AS_PUBLIC makes the loopback server look public); `noseal` opts out.
    func testPublicAddressIsSealedByDefault() throws {
        extraEnvironment["SMB3FS_TREAT_AS_PUBLIC"] = env.host
        let auto = try exercise(share: env.share, sharePath: env.sharePath, options: [], name: "public")
        XCTAssertFalse(contains(auto.capture, auto.written), "public address: written bytes on the wire")
        XCTAssertFalse(contains(auto.capture, auto.read), "public address: read bytes on the wire")
        let optedOut = try exercise(share: env.share, sharePath: env.sharePath, options: ["noseal"], name: "noseal")
        XCTAssertTrue(contains(optedOut.capture, optedOut.written), "noseal: the session is not encrypted")
    }

    /// Mount options: a cipher outside require_cipher= is refused with one line; seal against
    /// a server that cannot encrypt is refused; both before any file is touched.
    func testCipherOptions() throws {
        let point = makeDir("opts")
        if mountOK(at: point, options: ["credentials=\(credentials!)", "require_cipher=aes-256-ccm"]) {
            let name = "cipher-\(UUID().uuidString).txt"
            XCTAssertTrue(FileManager.default.createFile(atPath: point + "/" + name, contents: Data("256\n".utf8)))
            XCTAssertEqual(FileManager.default.contents(atPath: env.sharePath + "/" + name), Data("256\n".utf8))
            try? FileManager.default.removeItem(atPath: env.sharePath + "/" + name)
            // Samba's view: this user's sessions and their ciphers.
            let conf = ((env.sharePath as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent + "/etc/smb.conf"
            let json = runCmd(["smbstatus", "-s", conf, "--json"]).stdoutData
            let sessions = (try? JSONSerialization.jsonObject(with: json) as? [String: Any])?["sessions"] as? [String: [String: Any]] ?? [:]
            let ciphers = sessions.values.filter { $0["username"] as? String == env.user }
                .compactMap { ($0["encryption"] as? [String: Any])?["cipher"] as? String }
            XCTAssertTrue(ciphers.contains("AES-256-CCM"), "smbstatus ciphers: \(ciphers)")
            unmount(point)
        }
        let bad = mount(at: point, options: ["credentials=\(credentials!)", "cipher=aes-512-gcm"])
        assertCleanFailure(bad, mountPoint: point, "unknown cipher")
        XCTAssertTrue(bad.stderr.contains("aes-512-gcm"), bad.summary)
        if let v21 = env.dialectServers.first(where: { $0.vers == "2.1" }) {
            let r = mount(source: "//\(v21.host)/rw", at: point, options: ["credentials=\(credentials!)", "seal"])
            assertCleanFailure(r, mountPoint: point, "seal on SMB 2.1")
            XCTAssertTrue(r.stderr.contains("cannot encrypt"), r.summary)
        } else {
            XCTFail("no 2.1 server")
        }
    }
}
