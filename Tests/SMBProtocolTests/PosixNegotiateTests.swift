import SMBProtocol
import XCTest

/// SMB3_POSIX_EXTENSIONS_AVAILABLE (POSIX-SMB2 2.2.3.1.8): offered with the POSIX version's
/// 16-byte tag, and taken as agreed only when the server answers with the same tag.
final class PosixNegotiateTests: XCTestCase {
    /// The NEGOTIATE response of DecoderRobustnessTests with one more context appended.
    func response(withContext type: UInt16, data: [UInt8]) throws -> NegotiateResponse {
        var m = DecoderRobustnessTests.negotiateResponse311()
        while m.count % 8 != 0 { m.append(0) }
        var c = WireWriter()
        c.u16(type); c.u16(UInt16(data.count)); c.u32(0); c.bytes(data)
        m += c.bytes
        m[64 + 6] += 1                                   // NegotiateContextCount
        return try NegotiateResponse.decode(message: m)
    }

    func testTheContextIsOfferedWithTheTag() throws {
        var req = NegotiateRequest(dialects: [.smb300, .smb311], securityMode: [.signingEnabled], capabilities: [],
                                   clientGuid: Array(repeating: 1, count: 16), preauthSalt: Array(repeating: 2, count: 32),
                                   ciphers: [], signingAlgorithms: [], serverName: "")
        XCTAssertFalse(req.encodeBody().contains(0x93))
        req.posixExtensions = true
        let b = req.encodeBody()
        var r = WireReader(b, position: 32)
        let count = try r.u16()
        XCTAssertEqual(count, 2)                         // preauth integrity, POSIX
        // The last context: type 0x100, 16 bytes, reserved, the tag.
        let tail = Array(b.suffix(24))
        XCTAssertEqual(Array(tail.prefix(8)), [0x00, 0x01, 16, 0, 0, 0, 0, 0])
        XCTAssertEqual(Array(tail.suffix(16)), posixExtensionsTag)
        XCTAssertEqual(posixExtensionsTag.map { String(format: "%02X", $0) }.joined(), "93AD25509CB411E7B42383DE968BCD7C")
    }

    func testOnlyTheSameTagInTheAnswerCounts() throws {
        XCTAssertFalse(try NegotiateResponse.decode(message: DecoderRobustnessTests.negotiateResponse311()).posixExtensions)
        XCTAssertTrue(try response(withContext: 0x100, data: posixExtensionsTag).posixExtensions)
        // Another version, or one listed after it, and a length that is no whole version.
        XCTAssertFalse(try response(withContext: 0x100, data: Array(repeating: 0x30, count: 16)).posixExtensions)
        XCTAssertTrue(try response(withContext: 0x100, data: Array(repeating: 0x30, count: 16) + posixExtensionsTag).posixExtensions)
        XCTAssertFalse(try response(withContext: 0x100, data: Array(posixExtensionsTag.prefix(15))).posixExtensions)
        XCTAssertFalse(try response(withContext: 0x100, data: []).posixExtensions)
    }
}
