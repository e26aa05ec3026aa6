import Foundation
import Locking
@testable import SMBClient
import SMBProtocol
import Synchronization
import XCTest

/// SMB 3.x encryption against real Samba (MS-SMB2 3.1.4.3, 3.2.4.1.8, 3.2.5.1.1.1): every
/// cipher, each way a session comes to be encrypted, what the server saw (smbstatus), and
/// responses altered on the way back.
final class EncryptionTests: XCTestCase {
    /// Samba's own view of a session: the cipher it encrypts with ("-" when none).
    private func serverCipher(confOf sharePath: String, sessionId: UInt64) throws -> String? {
        let conf = URL(fileURLWithPath: sharePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("etc/smb.conf").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/smbstatus")
        p.arguments = ["-s", conf, "--json"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let json = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let sessions = json?["sessions"] as? [String: [String: Any]] ?? [:]
        for s in sessions.values where (s["session_id"] as? String).flatMap({ UInt64($0) }) == sessionId {
            return (s["encryption"] as? [String: Any])?["cipher"] as? String
        }
        XCTFail("session \(sessionId) not in smbstatus: \(sessions.keys.sorted())")
        return nil
    }

    private func sessionId(_ share: Share) -> UInt64 { share.link.current?.sessionId ?? 0 }

    /// Writes and reads back `size` bytes (several multi-credit WRITEs and READs), lists the
    /// directory and stats the file (compounds), then removes it.
    private func roundTrip(_ share: Share, size: Int, _ what: String) async throws {
        let name = "enc-\(UUID().uuidString).bin"
        let content = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 29 &+ $0 >> 10) }
        let f = try await share.create(path: name, access: [.readData, .writeData, .delete, .synchronize],
                                       disposition: .create)
        try await share.write(f.fileId, offset: 0, data: content)
        let back = try await share.read(f.fileId, offset: 0, length: size)
        XCTAssertTrue(back == content, "content read back, \(what)")
        let listing = try await share.listDirectory(path: "")
        XCTAssertTrue(listing.contains { $0.name == name }, "listing, \(what)")
        let info = try await share.queryAllInformation(path: name)
        XCTAssertEqual(info.basics.endOfFile, UInt64(size), "size, \(what)")
        try await share.close(f.fileId)
        try await share.setInfo(path: name, access: [.delete], .disposition(deletePending: true))
    }

    /// Each of the four ciphers, asked for with require_cipher= on a 3.1.1 server that offers
    /// them all: the session uses it, and Samba says so.
    func testEachCipherOn311() async throws {
        let server = try TestServer.main()
        for cipher in Cipher.allCases {
            var config = server.configuration()
            config.requiredCiphers = [cipher]
            config.seal = true
            let share = try await Share.connect(config)
            XCTAssertEqual(share.dialect, .smb311)
            XCTAssertEqual(share.encryption, cipher)
            try await roundTrip(share, size: 3 << 20, "\(cipher)")
            XCTAssertEqual(try serverCipher(confOf: server.sharePath, sessionId: sessionId(share)), "\(cipher)")
            await share.disconnect()
        }
    }

    /// 3.0 and 3.0.2 encrypt with AES-128-CCM, 3.1.1 with the first cipher of the default
    /// order; channels bound to the session encrypt too, with the session's keys.
    func testSealOnEvery3xDialectWithChannels() async throws {
        let expected: [String: Cipher] = ["3.0": .aes128CCM, "3.0.2": .aes128CCM, "3.1.1": .aes128GCM]
        for (name, server) in try TestServer.dialectServers() {
            guard let cipher = expected[name] else { continue }
            var config = server.configuration()
            config.seal = true
            config.maxChannels = 3
            let share = try await Share.connect(config)
            XCTAssertEqual(share.encryption, cipher, name)
            let deadline = ContinuousClock.now + .seconds(20)
            while share.connectionCount < 3 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            XCTAssertEqual(share.connectionCount, 3, "channels at \(name)")
            for c in share.link.current?.channels.all ?? [] { XCTAssertTrue(c.isEncrypting, "channel at \(name)") }
            try await roundTrip(share, size: 4 << 20, name)
            XCTAssertEqual(try serverCipher(confOf: server.sharePath, sessionId: sessionId(share)), "\(cipher)", name)
            await share.disconnect()
        }
    }

    /// A share with `smb encrypt = required` is used encrypted without being asked, with the
    /// first cipher of the default order; a share without it is not encrypted by default.
    func testShareThatRequiresEncryption() async throws {
        let server = try TestServer.main()
        let plain = try await Share.connect(server.configuration())
        XCTAssertNil(plain.encryption)
        await plain.disconnect()
        let share = try await Share.connect(server.configuration(share: "enc"))
        XCTAssertEqual(share.encryption, .aes128GCM)
        let encPath = URL(fileURLWithPath: server.sharePath).deletingLastPathComponent().appendingPathComponent("enc").path
        try await roundTrip(share, size: 1 << 20, "enc share")
        XCTAssertEqual(try serverCipher(confOf: encPath, sessionId: sessionId(share)), "AES-128-GCM")
        await share.disconnect()
    }

    func testSealIsRefusedWhereTheServerCannotEncrypt() async throws {
        let servers = try TestServer.dialectServers()
        for (name, required) in [("2.1", nil), ("3.0", [Cipher.aes256GCM])] as [(String, [Cipher]?)] {
            guard let server = servers.first(where: { $0.dialect == name })?.server else { XCTFail(name); continue }
            var config = server.configuration()
            config.seal = true
            config.requiredCiphers = required
            do {
                let share = try await Share.connect(config)
                await share.disconnect()
                XCTFail("an unencrypted session was accepted with seal at \(name)")
            } catch let e as SMBError {
                guard case .securityPolicy(let why) = e else { XCTFail("\(e)"); continue }
                XCTAssertTrue(why.contains(required == nil ? "cannot encrypt" : "require_cipher"), why)
            }
        }
    }

    // MARK: - responses altered on the way back

    private func readThroughProxy(size: Int = 20000, replace: @escaping @Sendable (_ frame: [UInt8], _ cipher: SessionCipher?) -> [UInt8]?)
        async throws -> (SMBError?, Share, TamperingProxy) {
        let server = try TestServer.main()
        let name = "enc-tamper-\(UUID().uuidString).bin"
        let content = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        try Data(content).write(to: URL(fileURLWithPath: server.sharePath + "/" + name))
        defer { try? FileManager.default.removeItem(atPath: server.sharePath + "/" + name) }
        let cipher = Locked<SessionCipher?>(nil)
        let armed = Atomic<Bool>(false)
        // Only the READ response is large; the proxy cannot read the command of an encrypted frame.
        let proxy = try TamperingProxy(targetHost: server.host, decide: { _, _ in .pass }, replaceEncrypted: { frame in
            guard frame.count > content.count, armed.load(ordering: .relaxed) else { return nil }
            armed.store(false, ordering: .relaxed)
            return replace(frame, cipher.withLock { $0 })
        })
        var config = server.configuration()
        config.host = "127.0.0.1"
        config.port = Int(proxy.port)
        config.seal = true
        let share = try await Share.connect(config)
        cipher.withLock { $0 = share.link.current?.connection.sessionCipher }
        let f = try await share.create(path: name, access: [.readData, .synchronize])
        armed.store(true, ordering: .relaxed)
        do {
            let data = try await share.read(f.fileId, offset: 0, length: content.count)
            XCTAssertNotEqual(data, content, "an altered response must never be returned as data")
            return (nil, share, proxy)
        } catch let e as SMBError {
            return (e, share, proxy)
        }
    }

    /// One bit flipped in the ciphertext: the READ fails (nothing reaches the caller), the
    /// connection that carried it is replaced, and the session encrypts again after the reconnect.
    func testTamperedEncryptedResponseIsRejected() async throws {
        let (error, share, proxy) = try await readThroughProxy { frame, _ in
            var f = frame
            f[f.count - 100] ^= 0x04
            return f
        }
        defer { Task { await share.disconnect() } }
        XCTAssertEqual(proxy.tamperedCount, 1)
        guard case .decryptionFailed? = error else { return XCTFail("accepted: \(String(describing: error))") }
        try await share.echo()
        XCTAssertEqual(share.encryption, .aes128GCM, "encrypting after the reconnect")
    }

    /// A large READ response is decrypted as it arrives (GCM): one bit flipped in the middle of
    /// its ciphertext, or in its tag, fails the READ all the same; nothing decrypted before the
    /// tag was checked reaches the caller.
    func testTamperedLargeEncryptedResponseIsRejected() async throws {
        for inTag in [false, true] {
            let (error, share, proxy) = try await readThroughProxy(size: 600_000) { frame, _ in
                var f = frame
                // The frame starts at its TRANSFORM_HEADER, whose Signature is bytes 4..<20.
                f[inTag ? 7 : f.count / 2] ^= 0x10
                return f
            }
            defer { Task { await share.disconnect() } }
            XCTAssertEqual(proxy.tamperedCount, 1)
            guard case .decryptionFailed? = error else { return XCTFail("accepted: \(String(describing: error))") }
            try await share.echo()
        }
    }

    /// The genuine response, decrypted and sent in clear: refused all the same (an attacker who
    /// strips encryption gets nothing through), and the connection stays usable.
    func testUnencryptedResponseOnEncryptedSessionIsRejected() async throws {
        let (error, share, proxy) = try await readThroughProxy { frame, cipher in
            guard let cipher, let plain = try? cipher.open(frame) else { return nil }
            return plain
        }
        defer { Task { await share.disconnect() } }
        XCTAssertEqual(proxy.tamperedCount, 1)
        guard case .notEncrypted(let command, _)? = error else { return XCTFail("accepted: \(String(describing: error))") }
        XCTAssertEqual(command, .read)
        let before = share.link.current?.generation
        try await share.echo()
        XCTAssertEqual(share.link.current?.generation, before, "no reconnect was needed")
    }
}

/// Encryption by default off the local network: the address is made to look public
/// (`treatAsPublic`) without leaving loopback.
final class AutoSealTests: XCTestCase {
    func testPublicAddressIsEncryptedUnlessNoseal() async throws {
        let server = try TestServer.main()
        var config = server.configuration()
        config.treatAsPublic = [server.host]
        let sealed = try await Share.connect(config)
        XCTAssertEqual(sealed.encryption, .aes128GCM)
        await sealed.disconnect()
        config.autoSeal = false
        let plain = try await Share.connect(config)
        XCTAssertNil(plain.encryption)
        await plain.disconnect()
        let local = try await Share.connect(server.configuration())
        XCTAssertNil(local.encryption, "a loopback server is not encrypted by default")
        await local.disconnect()
    }

    func testPublicServerThatCannotEncryptIsRefusedUnlessNoseal() async throws {
        guard let server = try TestServer.dialectServers().first(where: { $0.dialect == "2.1" })?.server else {
            return XCTFail("no 2.1 server")
        }
        var config = server.configuration()
        config.treatAsPublic = [server.host]
        do {
            let share = try await Share.connect(config)
            await share.disconnect()
            XCTFail("an unencrypted session to a public address was accepted")
        } catch let e as SMBError {
            guard case .securityPolicy(let why) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(why.contains("not on a local network") && why.contains("noseal"), why)
        }
        config.autoSeal = false
        let share = try await Share.connect(config)
        XCTAssertNil(share.encryption)
        await share.disconnect()
    }
}
