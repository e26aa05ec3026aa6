import XCTest
@testable import SMBAuth

final class SPNEGOTokenTests: XCTestCase {
    static let kerberosOID: [UInt8] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02]
    static let msKerberosOID: [UInt8] = [0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02]

    func testNegTokenInitRoundTrip() throws {
        let token = SPNEGO.NegTokenInit(mechTypes: [SPNEGO.ntlmsspOID, Self.kerberosOID],
                                        mechToken: [1, 2, 3], mechListMIC: [9, 9])
        XCTAssertEqual(try SPNEGO.decodeInit(SPNEGO.encodeInitialContextToken(token)), token)
        XCTAssertEqual(try SPNEGO.decodeInit(SPNEGO.encode(token)), token)
        let bare = SPNEGO.NegTokenInit(mechTypes: [SPNEGO.ntlmsspOID], mechToken: nil, mechListMIC: nil)
        XCTAssertEqual(try SPNEGO.decodeInit(SPNEGO.encodeInitialContextToken(bare)), bare)
    }

    func testNegTokenRespRoundTrip() throws {
        let token = SPNEGO.NegTokenResp(negState: .acceptIncomplete, supportedMech: SPNEGO.ntlmsspOID,
                                        responseToken: [UInt8](repeating: 7, count: 300), mechListMIC: [1])
        XCTAssertEqual(try SPNEGO.decodeResp(SPNEGO.encode(token)), token)
        let empty = SPNEGO.NegTokenResp()
        XCTAssertEqual(try SPNEGO.decodeResp(SPNEGO.encode(empty)), empty)
    }

    /// The initial token bytes: 60 .. 06 06 2b0601050502 a0 .. 30 .. a0 0e 30 0c 06 0a <NTLMSSP> a2 .. 04 ..
    func testInitialTokenLayout() {
        let bytes = SPNEGO.encodeInitialContextToken(SPNEGO.NegTokenInit(mechTypes: [SPNEGO.ntlmsspOID], mechToken: [0xab], mechListMIC: nil))
        XCTAssertEqual(hexString(bytes), "60" + "21" + "06062b0601050502" + "a017" + "3015"
                       + "a00e300c060a2b06010401823702020a" + "a203" + "0401ab")
    }

    /// MS-SPNG 2.2.1 NegTokenInit2 as servers send it in the NEGOTIATE response.
    func testNegTokenInit2Hint() throws {
        let hints = DER.tlv(DER.sequence, DER.tlv(DER.context(0), DER.tlv(DER.generalString, Array("not_defined_in_RFC4178@please_ignore".utf8))))
        let mechs = SPNEGO.encodeMechTypeList([Self.msKerberosOID, Self.kerberosOID, SPNEGO.ntlmsspOID])
        let body = DER.tlv(DER.sequence, DER.tlv(DER.context(0), mechs) + DER.tlv(DER.context(3), hints))
        let blob = DER.tlv(DER.application0, DER.tlv(DER.oid, SPNEGO.spnegoOID) + DER.tlv(DER.context(0), body))
        let decoded = try SPNEGO.decodeInit(blob)
        XCTAssertEqual(decoded.mechTypes.count, 3)
        XCTAssertNil(decoded.mechToken)
        var client = SPNEGOClient(ntlm: Fixtures.credentials)
        XCTAssertFalse(try client.nextToken(serverToken: blob).isEmpty)
    }

    func testLongFormLengths() throws {
        let big = [UInt8](repeating: 1, count: 70_000)
        let token = SPNEGO.NegTokenResp(negState: nil, supportedMech: nil, responseToken: big, mechListMIC: nil)
        let encoded = SPNEGO.encode(token)
        XCTAssertEqual(Array(encoded[0..<2]), [0xa1, 0x83])
        XCTAssertEqual(try SPNEGO.decodeResp(encoded), token)
    }

    func testDERRejects() {
        XCTAssertThrowsError(try SPNEGO.decodeResp([0xa1, 0x80, 0x30, 0x00, 0x00, 0x00]))       // indefinite
        XCTAssertThrowsError(try SPNEGO.decodeResp([0xa1, 0x85, 1, 1, 1, 1, 1]))                 // 5 length octets
        XCTAssertThrowsError(try SPNEGO.decodeResp([0xa1, 0x84, 0xff, 0xff, 0xff, 0xff, 0x30]))  // length past end
        XCTAssertThrowsError(try SPNEGO.decodeResp([0xbf, 0x01, 0x00]))                          // high tag
        XCTAssertThrowsError(try SPNEGO.decodeResp(SPNEGO.encode(SPNEGO.NegTokenResp()) + [0]))  // trailing byte
        XCTAssertThrowsError(try SPNEGO.decodeResp([0xa1, 0x05, 0x30, 0x03, 0xa0, 0x01, 0x0a]))  // truncated inner
        // Fields out of order.
        let swapped = DER.tlv(DER.context(1), DER.tlv(DER.sequence,
            DER.tlv(DER.context(2), DER.tlv(DER.octetString, [1])) + DER.tlv(DER.context(0), DER.tlv(DER.enumerated, [1]))))
        XCTAssertThrowsError(try SPNEGO.decodeResp(swapped))
        // Unknown negState.
        XCTAssertThrowsError(try SPNEGO.decodeResp(DER.tlv(DER.context(1), DER.tlv(DER.sequence, DER.tlv(DER.context(0), DER.tlv(DER.enumerated, [9]))))))
    }

    /// Nesting deeper than DER.maxDepth is refused without recursion blowing up.
    func testDeepNesting() {
        var blob = DER.tlv(DER.octetString, [])
        for _ in 0..<40 { blob = DER.tlv(DER.context(0), blob) }
        XCTAssertThrowsError(try SPNEGO.decodeInit(blob))
        var reader = try? DER.Reader(blob)
        var depth = 0
        while var r = reader, let e = try? r.read(), let child = try? r.children(of: e) {
            reader = child
            depth += 1
        }
        XCTAssertEqual(depth, DER.maxDepth)
    }

    func testEveryTruncationThrows() {
        let initToken = SPNEGO.encodeInitialContextToken(SPNEGO.NegTokenInit(mechTypes: [SPNEGO.ntlmsspOID], mechToken: Array(0..<40), mechListMIC: [1, 2]))
        for n in 0..<initToken.count {
            XCTAssertThrowsError(try SPNEGO.decodeInit(Array(initToken[0..<n])), "init \(n)")
        }
        let resp = SPNEGO.encode(SPNEGO.NegTokenResp(negState: .acceptCompleted, supportedMech: SPNEGO.ntlmsspOID, responseToken: Array(0..<40), mechListMIC: [3]))
        for n in 0..<resp.count {
            XCTAssertThrowsError(try SPNEGO.decodeResp(Array(resp[0..<n])), "resp \(n)")
        }
    }

    func testRandomMutationsNeverTrap() {
        var rng = SplitMix(seed: 42)
        let seeds = [
            SPNEGO.encodeInitialContextToken(SPNEGO.NegTokenInit(mechTypes: [SPNEGO.ntlmsspOID, Self.kerberosOID], mechToken: Array(0..<30), mechListMIC: nil)),
            SPNEGO.encode(SPNEGO.NegTokenResp(negState: .acceptIncomplete, supportedMech: SPNEGO.ntlmsspOID, responseToken: Fixtures.challenge(), mechListMIC: [1, 2, 3])),
        ]
        for _ in 0..<20_000 {
            var m = seeds[Int(rng.next() % 2)]
            for _ in 0..<(Int(rng.next() % 4) + 1) {
                m[Int(rng.next() % UInt64(m.count))] = UInt8(truncatingIfNeeded: rng.next())
            }
            _ = try? SPNEGO.decodeInit(m)
            _ = try? SPNEGO.decodeResp(m)
        }
    }
}
