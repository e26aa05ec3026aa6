import Foundation
import SMBClient
import SMBProtocol
import XCTest

/// Responses altered in transit are rejected (MS-SMB2 3.2.5.1.3), and a session the server
/// does not sign is refused.
final class SigningTests: XCTestCase {
    static let read: UInt16 = 0x08
    static let sessionSetup: UInt16 = 0x01

    private func prepareFile(_ server: TestServer) throws -> (name: String, content: [UInt8]) {
        let name = "signing-\(UUID().uuidString).bin"
        let content = (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        try Data(content).write(to: URL(fileURLWithPath: server.sharePath + "/" + name))
        return (name, content)
    }

    private func readThroughProxy(_ action: TamperingProxy.Action, expectData: Bool = false) async throws -> (SMBError?, Int) {
        let server = try TestServer.main()
        let (name, content) = try prepareFile(server)
        defer { try? FileManager.default.removeItem(atPath: server.sharePath + "/" + name) }
        let proxy = try TamperingProxy(targetHost: server.host) { command, status in
            command == Self.read && status == 0 ? action : .pass
        }
        var config = server.configuration()
        config.host = "127.0.0.1"
        config.port = Int(proxy.port)
        let share = try await Share.connect(config)
        defer { Task { await share.disconnect() } }
        let f = try await share.create(path: name, access: [.readData, .synchronize])
        do {
            let data = try await share.read(f.fileId, offset: 0, length: content.count)
            if expectData {
                XCTAssertEqual(data, content)
            } else {
                XCTAssertNotEqual(data, content, "a tampered response must never be returned as data")
            }
            return (nil, proxy.tamperedCount)
        } catch let e as SMBError {
            // The connection itself is still usable: only the tampered response failed.
            try await share.echo()
            return (e, proxy.tamperedCount)
        }
    }

    func testTamperedReadResponseIsRejected() async throws {
        let (error, tampered) = try await readThroughProxy(.flipLastByte)
        XCTAssertEqual(tampered, 1)
        guard case .signatureInvalid(let command, _)? = error else { return XCTFail("accepted: \(String(describing: error))") }
        XCTAssertEqual(command, .read)
    }

    func testUnsignedReadResponseIsRejected() async throws {
        let (error, tampered) = try await readThroughProxy(.stripSignature)
        XCTAssertEqual(tampered, 1)
        guard case .signatureInvalid(let command, _)? = error else { return XCTFail("accepted: \(String(describing: error))") }
        XCTAssertEqual(command, .read)
    }

    /// An unsigned interim response is not verified and completes nothing; the signed final
    /// response that follows carries the data (MS-SMB2 3.2.5.1.3, 3.2.5.1.5).
    func testInterimResponseIsAcceptedUnsigned() async throws {
        let (error, tampered) = try await readThroughProxy(.interimFirst, expectData: true)
        XCTAssertNil(error)
        XCTAssertEqual(tampered, 1)
    }

    func testUnsignedSessionIsRefused() async throws {
        let server = try TestServer.main()
        let proxy = try TamperingProxy(targetHost: server.host) { command, status in
            command == Self.sessionSetup && status == 0 ? .stripSignature : .pass
        }
        var config = server.configuration()
        config.host = "127.0.0.1"
        config.port = Int(proxy.port)
        do {
            let share = try await Share.connect(config)
            await share.disconnect()
            XCTFail("accepted a session whose setup response was not signed")
        } catch let e as SMBError {
            guard case .securityPolicy(let msg) = e else { return XCTFail("unexpected error \(e)") }
            XCTAssertTrue(msg.contains("did not sign"), msg)
        }
        XCTAssertEqual(proxy.tamperedCount, 1)
    }
}
