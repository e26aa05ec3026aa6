import SMBProtocol
import XCTest

/// TRANSFORM_HEADER (MS-SMB2 2.2.41) and the multi-protocol NEGOTIATE (3.2.4.2.1).
final class TransformCodecTests: XCTestCase {
    func frame(size: UInt32, flags: UInt16 = 1, body: Int) -> [UInt8] {
        var w = WireWriter()
        TransformHeader(nonce: Array(1...12), originalMessageSize: size, flags: flags, sessionId: 0x1122_3344_5566_7788)
            .encode(into: &w)
        return w.bytes + Array(repeating: 0xEE, count: body)
    }

    func testRoundTripAndLayout() throws {
        let f = frame(size: 100, body: 100)
        XCTAssertEqual(Array(f[0..<4]), [0xFD, 0x53, 0x4D, 0x42])
        XCTAssertTrue(TransformHeader.isTransform(f))
        XCTAssertEqual(Array(f[20..<32]), Array(1...12))                  // Nonce, then 4 zero bytes
        XCTAssertEqual(Array(f[32..<36]), [0, 0, 0, 0])
        XCTAssertEqual(Array(f[36..<40]), [100, 0, 0, 0])                 // OriginalMessageSize
        XCTAssertEqual(Array(f[42..<44]), [1, 0])                         // Flags / EncryptionAlgorithm
        let h = try TransformHeader.decode(f)
        XCTAssertEqual(h.originalMessageSize, 100)
        XCTAssertEqual(h.sessionId, 0x1122_3344_5566_7788)
        XCTAssertEqual(Array(h.nonce.prefix(12)), Array(1...12))
    }

    func testHostileHeadersAreErrors() {
        XCTAssertThrowsError(try TransformHeader.decode(Array(frame(size: 100, body: 100).prefix(51))), "truncated")
        XCTAssertThrowsError(try TransformHeader.decode(frame(size: 101, body: 100)), "size past the frame")
        XCTAssertThrowsError(try TransformHeader.decode(frame(size: 0xFFFF_FFFF, body: 100)), "huge size")
        XCTAssertThrowsError(try TransformHeader.decode(frame(size: 63, body: 100)), "smaller than an SMB2 header")
        XCTAssertThrowsError(try TransformHeader.decode(frame(size: 100, flags: 2, body: 100)), "unknown flags")
        var wrongId = frame(size: 100, body: 100); wrongId[0] = 0xFE
        XCTAssertThrowsError(try TransformHeader.decode(wrongId), "not a transform")
        XCTAssertFalse(TransformHeader.isTransform([0xFD, 0x53]))
    }

    /// No SMB1 dialect is offered: only the two SMB2 strings of MS-SMB2 3.2.4.2.1.
    func testMultiProtocolNegotiateOffersOnlySMB2() {
        let m = MultiProtocolNegotiate.request()
        XCTAssertTrue(MultiProtocolNegotiate.isSMB1(m))
        XCTAssertEqual(m[4], 0x72)
        XCTAssertEqual(m[32], 0)                                           // WordCount
        let count = Int(m[33]) | Int(m[34]) << 8
        XCTAssertEqual(count, m.count - 35)
        XCTAssertEqual(Array(m[35...]), [0x02] + Array("SMB 2.002".utf8) + [0, 0x02] + Array("SMB 2.???".utf8) + [0])
    }
}
