import Foundation
import SMBClient
import SMBProtocol
import XCTest

/// A man in the middle who rewrites the negotiation or a security flag is caught (MS-SMB2
/// 3.2.5.2 preauth integrity on 3.1.1, 3.2.5.5 VALIDATE_NEGOTIATE_INFO on 3.0/3.0.2, signed
/// SESSION_SETUP and TREE_CONNECT responses): the mount is refused, never weakened.
final class DowngradeTests: XCTestCase {
    static let negotiate: UInt16 = 0x00, sessionSetup: UInt16 = 0x01, treeConnect: UInt16 = 0x03
    /// Offsets in the message (after the 4-byte transport header): the body starts at 64.
    static let securityModeAt = 64 + 2, dialectAt = 64 + 4, sessionFlagsAt = 64 + 2, shareFlagsAt = 64 + 4

    private func connect(through server: TestServer, share: String? = nil, seal: Bool = false,
                         when command: UInt16, _ change: @escaping @Sendable (inout [UInt8]) -> Void) async throws -> (SMBError?, Int) {
        let proxy = try TamperingProxy(targetHost: server.host) { c, status in
            c == command && status == 0 ? .patch(change) : .pass
        }
        var config = server.configuration(share: share)
        config.host = "127.0.0.1"
        config.port = Int(proxy.port)
        config.seal = seal
        config.maxChannels = 1
        do {
            let s = try await Share.connect(config)
            await s.disconnect()
            return (nil, proxy.tamperedCount)
        } catch let e as SMBError {
            return (e, proxy.tamperedCount)
        }
    }

    private func server(_ dialect: String) throws -> TestServer {
        guard let s = try TestServer.dialectServers().first(where: { $0.dialect == dialect })?.server else {
            XCTFail("no \(dialect) server")
            throw CancellationError()
        }
        return s
    }

    private func assertRefused(_ r: (SMBError?, Int), containing text: String, _ what: String) {
        XCTAssertEqual(r.1, 1, "\(what): tampered once")
        guard let e = r.0 else { return XCTFail("\(what): the altered session was accepted") }
        XCTAssertTrue("\(e)".contains(text), "\(what): \(e)")
    }

    /// 3.0: the server's SIGNING_REQUIRED cleared in NEGOTIATE. The client signs anyway (it
    /// requires signing itself), and VALIDATE_NEGOTIATE_INFO shows the change.
    func testClearedSigningRequiredOn30IsCaughtByValidateNegotiate() async throws {
        for dialect in ["3.0", "3.0.2"] {
            let r = try await connect(through: try server(dialect), when: Self.negotiate) { m in m[Self.securityModeAt] &= ~0x02 }
            assertRefused(r, containing: "VALIDATE_NEGOTIATE_INFO", "\(dialect) SIGNING_REQUIRED cleared")
        }
    }

    /// 3.0: a capability removed from NEGOTIATE (LEASING) is caught the same way.
    func testRemovedCapabilityOn30IsCaught() async throws {
        let r = try await connect(through: try server("3.0"), when: Self.negotiate) { m in
            m[64 + 24] &= ~0x02                                   // Capabilities: LEASING
        }
        assertRefused(r, containing: "VALIDATE_NEGOTIATE_INFO", "3.0 LEASING cleared")
    }

    /// 3.1.1: any change to NEGOTIATE changes the preauth hash, so the keys differ from the
    /// server's and its signed SESSION_SETUP response does not verify.
    func testAlteredNegotiateOn311IsCaughtByPreauthIntegrity() async throws {
        let main = try TestServer.main()
        let r = try await connect(through: main, when: Self.negotiate) { m in m[Self.securityModeAt] &= ~0x02 }
        assertRefused(r, containing: "signature", "3.1.1 SIGNING_REQUIRED cleared")
    }

    /// The server chose 3.1.1; the response is rewritten to say 3.0.2 (a downgrade past
    /// preauth integrity). The server keeps its 3.1.1 keys: the session does not verify.
    func testDialectRewrittenFrom311IsRefused() async throws {
        let main = try TestServer.main()
        let r = try await connect(through: main, when: Self.negotiate) { m in
            if m[Self.dialectAt] == 0x11 && m[Self.dialectAt + 1] == 0x03 { m[Self.dialectAt] = 0x02 }
        }
        XCTAssertEqual(r.1, 1)
        XCTAssertNotNil(r.0, "a session rewritten from 3.1.1 to 3.0.2 was accepted")
    }

    /// SHARE_FLAG_ENCRYPT_DATA (0x8000) dropped from the TREE_CONNECT response of a share that
    /// requires encryption, so that the client would go on in clear: the response is signed,
    /// the change is caught, the mount refused.
    func testDroppedEncryptFlagIsRefused() async throws {
        let main = try TestServer.main()
        let r = try await connect(through: main, share: "enc", when: Self.treeConnect) { m in m[Self.shareFlagsAt + 1] &= ~0x80 }
        XCTAssertEqual(r.1, 1, "tampered once")
        XCTAssertNotNil(r.0, "a TREE_CONNECT response without its encrypt flag was accepted")
        // The same share with seal: the TREE_CONNECT response comes encrypted and cannot be
        // read or altered at all by the proxy (it sees no clear TREE_CONNECT).
        let sealed = try await connect(through: main, share: "enc", seal: true, when: Self.treeConnect) { m in m[Self.shareFlagsAt + 1] &= ~0x80 }
        XCTAssertEqual(sealed.1, 0, "a sealed session's TREE_CONNECT is not visible to the proxy")
        XCTAssertNil(sealed.0)
    }
}
