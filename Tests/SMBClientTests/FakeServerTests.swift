import Foundation
import Logging
import SMBAuth
import SMBClient
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// A scripted server for what no real server sends: after reading the client's first frame it
/// writes fixed bytes (one at a time, a moment apart, when `trickle`), then keeps the
/// connection open.
final class ScriptedServer: @unchecked Sendable {
    let port: UInt16
    private let fd: Int32

    init(reply: [UInt8], trickle: Bool = false) throws {
        let (s, p) = try Loopback.listen()
        fd = s
        port = p
        Thread {
            let c = accept(s, nil, nil)
            guard c >= 0 else { return }
            var buf = [UInt8](repeating: 0, count: 65536)
            _ = read(c, &buf, buf.count)
            if trickle {
                for b in reply {
                    var one = b
                    _ = write(c, &one, 1)
                    usleep(2000)
                }
            } else if !reply.isEmpty {
                _ = reply.withUnsafeBytes { write(c, $0.baseAddress, reply.count) }
            }
            // Hold the connection until the client closes it.
            while read(c, &buf, buf.count) > 0 {}
            close(c)
        }.start()
    }

    deinit { close(fd) }
}

final class FakeServerTests: XCTestCase {
    private func connect(to server: ScriptedServer) async throws -> SMBError {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        var config = ClientConfiguration(host: "127.0.0.1", share: "x",
                                         credentials: NTLMCredentials(user: "u", password: "p", domain: "", workstation: "W"),
                                         logger: logger)
        config.port = Int(server.port)
        config.requestTimeout = .seconds(2)
        do {
            let s = try await Share.connect(config)
            await s.disconnect()
        } catch let e as SMBError {
            return e
        }
        XCTFail("connected to a scripted server")
        throw CancellationError()
    }

    func testOversizedFrameClosesTheConnection() async throws {
        let server = try ScriptedServer(reply: [0x00, 0xFF, 0xFF, 0xFF] + Array(repeating: 0, count: 1000))
        guard case .frameTooLarge(let length, let limit) = try await connect(to: server) else { return XCTFail("not a frame error") }
        XCTAssertEqual(length, 0xFF_FFFF)
        XCTAssertLessThan(limit, length)
    }

    func testNonDirectTCPBytesCloseTheConnection() async throws {
        let server = try ScriptedServer(reply: Array("HTTP/1.1 400 Bad Request\r\n\r\n".utf8))
        guard case .connectionClosed(let reason) = try await connect(to: server) else { return XCTFail("not closed") }
        XCTAssertTrue(reason.contains("Direct TCP"), reason)
    }

    func testGarbageMessageClosesTheConnection() async throws {
        let server = try ScriptedServer(reply: [0, 0, 0, 8] + Array(repeating: 0x41, count: 8))
        guard case .malformed = try await connect(to: server) else { return XCTFail("not malformed") }
    }

    /// The same frame arriving a byte at a time (its length prefix split across reads) is put
    /// together and read as one message.
    func testFrameArrivingInPiecesIsAssembled() async throws {
        let server = try ScriptedServer(reply: [0, 0, 0, 8] + Array(repeating: 0x41, count: 8), trickle: true)
        guard case .malformed = try await connect(to: server) else { return XCTFail("not read as one frame") }
    }

    func testSilentServerTimesOut() async throws {
        let server = try ScriptedServer(reply: [])
        guard case .timeout(let command) = try await connect(to: server) else { return XCTFail("no timeout") }
        XCTAssertEqual(command, .negotiate)
    }
}
