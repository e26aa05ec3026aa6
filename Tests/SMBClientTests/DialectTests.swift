import Foundation
import SMBClient
import SMBCrypto
import SMBProtocol
import XCTest

/// Each dialect against a Samba capped to it (`server max protocol`), signing mandatory.
final class DialectTests: XCTestCase {
    static let expected: [String: (Dialect, SigningAlgorithm)] = [
        "2.0.2": (.smb202, .hmacSHA256), "2.1": (.smb210, .hmacSHA256),
        "3.0": (.smb300, .aesCMAC), "3.0.2": (.smb302, .aesCMAC), "3.1.1": (.smb311, .aesGMAC),
    ]

    func testEveryDialectNegotiatesSignsAndReads() async throws {
        let servers = try TestServer.dialectServers()
        XCTAssertEqual(Set(servers.map(\.dialect)), Set(Self.expected.keys), "one capped server per dialect")
        for (name, server) in servers {
            guard let (dialect, algorithm) = Self.expected[name] else { XCTFail("unknown dialect \(name)"); continue }
            let file = "dialect-\(name)-\(UUID().uuidString).bin"
            // Large enough to need several READs below 2.1's 64 KiB limit.
            let content = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }
            let local = server.sharePath + "/" + file
            try Data(content).write(to: URL(fileURLWithPath: local))
            defer { try? FileManager.default.removeItem(atPath: local) }

            let share = try await Share.connect(server.configuration())
            XCTAssertEqual(share.dialect, dialect, "server capped at \(name)")
            XCTAssertEqual(share.signingAlgorithm, algorithm, "signing at \(name)")
            try await share.echo()
            let f = try await share.create(path: file, access: [.readData, .readAttributes, .synchronize])
            let data = try await share.read(f.fileId, offset: 0, length: content.count)
            XCTAssertEqual(data, content, "content read at \(name)")
            try await share.close(f.fileId)
            await share.disconnect()
        }
    }

    /// SMB3 multichannel (MS-SMB2 3.2.4.2.3) on every 3.x dialect: two more TCP connections are
    /// bound to the session (each with its own signing key, 3.2.5.3.3), bulk I/O goes over all
    /// three and reads back intact. 2.x has no multichannel: one connection.
    func testMultichannelOnEvery3xDialect() async throws {
        for (name, server) in try TestServer.dialectServers() {
            guard let (dialect, _) = Self.expected[name] else { continue }
            var config = server.configuration()
            config.maxChannels = 3
            let share = try await Share.connect(config)
            let file = "multichannel-\(name)-\(UUID().uuidString).bin"
            defer { try? FileManager.default.removeItem(atPath: server.sharePath + "/" + file) }
            if dialect.isSMB3 {
                let deadline = ContinuousClock.now + .seconds(20)
                while share.connectionCount < 3 && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(20))
                }
                XCTAssertEqual(share.connectionCount, 3, "channels at \(name)")
            }
            let content = (0..<(4 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ $0 >> 11) }
            let f = try await share.create(path: file, access: [.readData, .writeData, .synchronize], disposition: .create)
            try await share.write(f.fileId, offset: 0, data: content)
            let back = try await share.read(f.fileId, offset: 0, length: content.count)
            XCTAssertTrue(back == content, "content through the channels at \(name)")
            try await share.close(f.fileId)
            let onDisk = try Data(contentsOf: URL(fileURLWithPath: server.sharePath + "/" + file))
            XCTAssertTrue(Array(onDisk) == content, "content on the server at \(name)")
            XCTAssertEqual(share.connectionCount, dialect.isSMB3 ? 3 : 1, "connections at \(name)")
            await share.disconnect()
        }
    }

    /// The client's own cap (`vers=`) against the uncapped server.
    func testClientOffersOnlyTheRequestedDialect() async throws {
        let server = try TestServer.main()
        for (name, (dialect, algorithm)) in Self.expected {
            var config = server.configuration()
            config.dialects = [dialect]
            let share = try await Share.connect(config)
            XCTAssertEqual(share.dialect, dialect, "vers=\(name)")
            XCTAssertEqual(share.signingAlgorithm, algorithm, "signing with vers=\(name)")
            try await share.echo()
            await share.disconnect()
        }
    }
}
