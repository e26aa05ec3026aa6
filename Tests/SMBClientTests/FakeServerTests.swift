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
    var requestTimeout: Duration = .seconds(2)

    /// A response header (MS-SMB2 2.2.1): server to client, for NEGOTIATE (MessageId 0).
    static func header(status: UInt32, credits: UInt16, async: Bool) -> [UInt8] {
        var h: [UInt8] = [0xFE, 0x53, 0x4D, 0x42, 64, 0, 0, 0]
        for i in 0..<4 { h.append(UInt8(truncatingIfNeeded: status >> (8 * UInt32(i)))) }
        h += [0, 0, UInt8(credits & 0xff), UInt8(credits >> 8)]          // Command NEGOTIATE, CreditResponse
        h += [async ? 0x03 : 0x01, 0, 0, 0, 0, 0, 0, 0]                 // Flags, NextCommand
        h += Array(repeating: 0, count: 8)                              // MessageId 0
        h += async ? [7, 0, 0, 0, 0, 0, 0, 0] : Array(repeating: 0, count: 8)   // AsyncId, or Reserved + TreeId
        h += Array(repeating: 0, count: 24)                             // SessionId, Signature
        return h
    }

    static func frame(_ message: [UInt8]) -> [UInt8] {
        [0, UInt8(message.count >> 16 & 0xff), UInt8(message.count >> 8 & 0xff), UInt8(message.count & 0xff)] + message
    }

    /// STATUS_PENDING for NEGOTIATE, and then nothing: the request fails after the longer wait
    /// of an async request (five request timeouts), it does not hang.
    func testEndlessPendingTimesOut() async throws {
        requestTimeout = .milliseconds(400)
        let interim = Self.header(status: 0x0000_0103, credits: 1, async: true) + [9, 0, 0, 0, 0, 0, 0, 0, 0]
        let server = try ScriptedServer(reply: Self.frame(interim))
        let start = ContinuousClock.now
        guard case .timeout(let command) = try await connect(to: server) else { return XCTFail("no timeout") }
        XCTAssertEqual(command, .negotiate)
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - start, .milliseconds(1900), "the interim response extends the wait")
    }

    /// A NEGOTIATE (2.1) that grants no credit: SESSION_SETUP cannot be sent; a clear error,
    /// not a wait.
    func testZeroCreditGrantFails() async throws {
        var body: [UInt8] = [65, 0, 1, 0, 0x10, 0x02, 0, 0]           // StructureSize, SecurityMode, 2.1, count
        body += Array(repeating: 0x11, count: 16)                       // ServerGuid
        body += [0, 0, 0, 0]                                            // Capabilities
        for _ in 0..<3 { body += [0, 0, 1, 0] }                         // MaxTransact/Read/WriteSize 65536
        body += Array(repeating: 0, count: 16)                          // SystemTime, ServerStartTime
        body += [128, 0, 0, 0, 0, 0, 0, 0, 0]                           // no security buffer, no contexts, pad
        let server = try ScriptedServer(reply: Self.frame(Self.header(status: 0, credits: 0, async: false) + body))
        let e = try await connect(to: server)
        guard case .malformed(let why) = e else { return XCTFail("\(e)") }
        XCTAssertTrue(why.contains("no credits"), why)
    }

    private func connect(to server: ScriptedServer) async throws -> SMBError {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        var config = ClientConfiguration(host: "127.0.0.1", share: "x",
                                         credentials: NTLMCredentials(user: "u", password: "p", domain: "", workstation: "W"),
                                         logger: logger)
        config.port = Int(server.port)
        config.requestTimeout = requestTimeout
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

    /// An encrypted frame arriving a byte at a time: its TRANSFORM_HEADER and the rest are
    /// put together apart and handed over as one encrypted frame (refused here: no keys yet).
    func testEncryptedFrameArrivingInPiecesIsAssembled() async throws {
        let frame = [0xFD, 0x53, 0x4D, 0x42] + Array(repeating: UInt8(0x41), count: 48) + Array(repeating: 0x42, count: 64)
        let server = try ScriptedServer(reply: [0, 0, 0, UInt8(frame.count)] + frame, trickle: true)
        guard case .malformed(let why) = try await connect(to: server) else { return XCTFail("not read as one frame") }
        XCTAssertTrue(why.contains("without encryption keys"), why)
    }

    func testSilentServerTimesOut() async throws {
        let server = try ScriptedServer(reply: [])
        guard case .timeout(let command) = try await connect(to: server) else { return XCTFail("no timeout") }
        XCTAssertEqual(command, .negotiate)
    }
}
