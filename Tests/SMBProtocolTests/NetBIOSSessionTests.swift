import SMBProtocol
import XCTest

/// The NetBIOS session service's packets (RFC 1002 4.3) and name encoding (RFC 1001 14.1).
final class NetBIOSSessionTests: XCTestCase {
    /// RFC 1001 14.1's own example: "FRED" padded with spaces, each half-byte as 'A' + nibble.
    func testFirstLevelEncodingMatchesTheRFCExample() {
        let encoded = NetBIOSSession.encodeName("Fred", suffix: 0x20)
        XCTAssertEqual(encoded.count, 34)
        XCTAssertEqual(encoded.first, 32)                        // the label's length
        XCTAssertEqual(encoded.last, 0)                          // the root label: no scope
        XCTAssertEqual(String(decoding: encoded[1...32], as: UTF8.self), "EGFCEFEECACACACACACACACACACACACA")
        // The sixteenth byte is the service suffix: 0x00 encodes as "AA".
        XCTAssertEqual(String(decoding: NetBIOSSession.encodeName("FRED", suffix: 0)[31...32], as: UTF8.self), "AA")
        // Longer names are cut to 15 characters.
        XCTAssertEqual(NetBIOSSession.encodeName("ABCDEFGHIJKLMNOPQ", suffix: 0x20),
                       NetBIOSSession.encodeName("ABCDEFGHIJKLMNO", suffix: 0x20))
    }

    func testSessionRequestLayout() {
        let r = NetBIOSSession.request(called: "*SMBSERVER", calling: "CLIENT")
        XCTAssertEqual(Array(r[0..<4]), [0x81, 0, 0, 68])         // type, flags, 68-byte trailer
        XCTAssertEqual(r.count, 4 + 68)
        XCTAssertEqual(Array(r[4..<38]), NetBIOSSession.encodeName("*SMBSERVER", suffix: 0x20))
        XCTAssertEqual(Array(r[38..<72]), NetBIOSSession.encodeName("CLIENT", suffix: 0x00))
    }

    func testResponses() throws {
        XCTAssertEqual(try NetBIOSSession.decodeResponse(type: 0x82, trailer: []), .positive)
        XCTAssertEqual(try NetBIOSSession.decodeResponse(type: 0x83, trailer: [0x82]), .negative(0x82))
        XCTAssertEqual(try NetBIOSSession.decodeResponse(type: 0x84, trailer: [127, 0, 0, 9, 0x01, 0xBD]),
                       .retarget(address: "127.0.0.9", port: 445))
        XCTAssertEqual(NetBIOSSession.describe(negative: 0x82), "called name not present")
        XCTAssertEqual(NetBIOSSession.describe(negative: 0x42), "error code 0x42")
        // Wrong trailer sizes and types other than the three responses are refused.
        for (type, trailer) in [(UInt8(0x82), [UInt8(0)]), (0x83, []), (0x83, [1, 2]), (0x84, [1, 2, 3]),
                                (0x00, []), (0x85, []), (0x81, [])] {
            XCTAssertThrowsError(try NetBIOSSession.decodeResponse(type: type, trailer: trailer), "type \(type) \(trailer)")
        }
    }

    /// The length is 17 bits: the E flag is its top bit; other flag bits are reserved.
    func testTrailerLength() throws {
        XCTAssertEqual(try NetBIOSSession.trailerLength([0x82, 0, 0, 0]), 0)
        XCTAssertEqual(try NetBIOSSession.trailerLength([0x00, 1, 0xFF, 0xFF]), 0x1_FFFF)
        XCTAssertThrowsError(try NetBIOSSession.trailerLength([0x00, 2, 0, 0]))
        XCTAssertThrowsError(try NetBIOSSession.trailerLength([0x00, 0, 0]))
    }

    /// The name called by default: a host name's first label; none for an address.
    func testNameOfHost() {
        XCTAssertEqual(NetBIOSSession.name(ofHost: "nas.example.com"), "NAS")
        XCTAssertEqual(NetBIOSSession.name(ofHost: "a-very-long-server-name"), "A-VERY-LONG-SER")
        XCTAssertNil(NetBIOSSession.name(ofHost: "127.0.0.1"))
        XCTAssertNil(NetBIOSSession.name(ofHost: "::1"))
        XCTAssertNil(NetBIOSSession.name(ofHost: ""))
    }
}
