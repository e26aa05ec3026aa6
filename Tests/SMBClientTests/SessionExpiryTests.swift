import Foundation
import Locking
@testable import SMBClient
import SMBCrypto
import SMBProtocol
import XCTest

/// STATUS_NETWORK_SESSION_EXPIRED (MS-SMB2 3.2.5.1.6): the client authenticates the same
/// session again on the same connection (3.2.4.2.3.1, here with NTLM) and retries the request;
/// the caller sees only the data. Samba sends it only when a Kerberos
/// ticket runs out, so a relay in front of the real server answers one READ with it, signed
/// with the session's key as the server would.
final class SessionExpiryTests: XCTestCase {
    static let read: UInt16 = 0x08
    static let networkSessionExpired: UInt32 = 0xC000_035C

    /// The session key to sign the forged answer with, used once.
    final class OneExpiry: Sendable {
        let signer = Locked<MessageSigner?>(nil)
        let used = Locked(false)
        func take() -> Bool { used.withLock { u in defer { u = true }; return !u && signer.withLock { $0 != nil } } }
        func sign(_ m: inout [UInt8]) { _ = try? signer.withLock { try $0?.sign(&m) } }
    }

    func testExpiredSessionIsAuthenticatedAgainAndTheReadRetried() async throws {
        let server = try TestServer.main()
        let name = "expiry-\(UUID().uuidString).bin"
        let content = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        try Data(content).write(to: URL(fileURLWithPath: server.sharePath + "/" + name))
        defer { try? FileManager.default.removeItem(atPath: server.sharePath + "/" + name) }
        let expiry = OneExpiry()
        let setups = Locked(0)
        let proxy = try TamperingProxy(targetHost: server.host) { command, status in
            if command == 0x01 && status == 0 { setups.withLock { $0 += 1 } }
            return command == Self.read && status == 0 && expiry.take()
                ? .failWith(Self.networkSessionExpired, sign: { expiry.sign(&$0) }) : .pass
        }
        defer { proxy.stop() }
        var config = server.configuration()
        config.host = "127.0.0.1"
        config.port = Int(proxy.port)
        config.maxChannels = 1
        let share = try await Share.connect(config)
        let first = try XCTUnwrap(share.link.current)
        expiry.signer.withLock { $0 = first.connection.sessionSigner }
        let f = try await share.create(path: name, access: [.readData, .synchronize])
        let data = try await share.read(f.fileId, offset: 0, length: content.count)
        XCTAssertEqual(proxy.tamperedCount, 1, "the expiry was not delivered")
        XCTAssertTrue(data == content, "data after authenticating again")
        let now = try XCTUnwrap(share.link.current)
        XCTAssertEqual(now.sessionId, first.sessionId, "a new session was made")
        XCTAssertEqual(now.generation, first.generation, "the connection was made again")
        XCTAssertEqual(setups.withLock { $0 }, 2, "successful SESSION_SETUPs: the first, and one to authenticate again")
        XCTAssertEqual(share.link.reclaimCounts.lost, 0)
        try await share.close(f.fileId)
        await share.disconnect()
    }
}
