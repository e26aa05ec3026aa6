import SMBProtocol
import XCTest

/// Lease contexts (MS-SMB2 2.2.13.2.8/2.2.13.2.10), durable handle v2 contexts (2.2.13.2.11,
/// 2.2.13.2.12, 2.2.14.2.12), lease break notification and acknowledgment (2.2.23.2, 2.2.24.2),
/// laid out field by field; decoders fed truncations and mutations.
final class LeaseDurableTests: XCTestCase {
    let key: [UInt8] = Array(0x10..<0x20)
    let guid: [UInt8] = Array(0xA0..<0xB0)

    func testLeaseStateValues() {
        XCTAssertEqual(LeaseState.readCaching.rawValue, 1)
        XCTAssertEqual(LeaseState.handleCaching.rawValue, 2)
        XCTAssertEqual(LeaseState.writeCaching.rawValue, 4)
        XCTAssertEqual(LeaseState([.readCaching, .handleCaching, .writeCaching]).description, "RHW")
        XCTAssertEqual(OplockLevel.lease, 0xFF)
    }

    func testLeaseV2Layout() throws {
        let c = LeaseContext(key: key, state: [.readCaching, .handleCaching], epoch: 7).encodeV2()
        XCTAssertEqual(c.name, Array("RqLs".utf8))
        let b = c.data
        XCTAssertEqual(b.count, 52)
        XCTAssertEqual(Array(b[0..<16]), key)                    // LeaseKey
        XCTAssertEqual(le32(b, 16), 3)                           // LeaseState RH
        XCTAssertEqual(le32(b, 20), 0)                           // Flags
        XCTAssertEqual(le64(b, 24), 0)                           // LeaseDuration
        XCTAssertEqual(Array(b[32..<48]), Array(repeating: 0, count: 16))  // ParentLeaseKey
        XCTAssertEqual(le16(b, 48), 7)                           // Epoch
        XCTAssertEqual(le16(b, 50), 0)
        XCTAssertEqual(try LeaseContext.decode(b), LeaseContext(key: key, state: [.readCaching, .handleCaching], epoch: 7))
    }

    func testLeaseV1ResponseAndBadSizes() throws {
        var v1 = key
        v1 += [5, 0, 0, 0] + [0, 0, 0, 0] + Array(repeating: 0, count: 8)
        XCTAssertEqual(try LeaseContext.decode(v1), LeaseContext(key: key, state: [.readCaching, .writeCaching]))
        for n in [0, 16, 31, 33, 51, 53] {
            XCTAssertThrowsError(try LeaseContext.decode(Array(repeating: 0, count: n)), "\(n) bytes")
        }
    }

    func testDurableV2RequestAndReconnectLayout() throws {
        let q = DurableHandleRequestV2(timeout: 60000, createGuid: guid).encode()
        XCTAssertEqual(q.name, Array("DH2Q".utf8))
        XCTAssertEqual(q.data.count, 32)
        XCTAssertEqual(le32(q.data, 0), 60000)                   // Timeout
        XCTAssertEqual(le32(q.data, 4), 0)                       // Flags
        XCTAssertEqual(le64(q.data, 8), 0)                       // Reserved
        XCTAssertEqual(Array(q.data[16..<32]), guid)             // CreateGuid

        let fid = FileId(persistent: 0x0102_0304_0506_0708, volatile: 0x1112_1314_1516_1718)
        let c = DurableHandleReconnectV2(fileId: fid, createGuid: guid, flags: DurableHandleRequestV2.persistent).encode()
        XCTAssertEqual(c.name, Array("DH2C".utf8))
        XCTAssertEqual(c.data.count, 36)
        XCTAssertEqual(le64(c.data, 0), fid.persistent)
        XCTAssertEqual(le64(c.data, 8), fid.volatile)
        XCTAssertEqual(Array(c.data[16..<32]), guid)
        XCTAssertEqual(le32(c.data, 32), 2)

        let resp = try DurableHandleResponseV2.decode([0x60, 0xEA, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(resp.timeout, 60000)
        XCTAssertEqual(resp.flags, 0)
        assertPrefixes([0x60, 0xEA, 0, 0, 0, 0, 0, 0], failBelow: 8) { _ = try DurableHandleResponseV2.decode($0) }
    }

    func leaseBreakBody(flags: UInt32 = 1, current: UInt32 = 7, new: UInt32 = 3) -> [UInt8] {
        var b: [UInt8] = [44, 0, 2, 0]                           // StructureSize, NewEpoch
        b += [UInt8(flags), 0, 0, 0] + key
        b += [UInt8(current), 0, 0, 0, UInt8(new), 0, 0, 0]
        b += Array(repeating: 0, count: 12)                      // BreakReason, AccessMaskHint, ShareMaskHint
        return b
    }

    func testLeaseBreakNotification() throws {
        let m = responseMessage(.oplockBreak, body: leaseBreakBody())
        XCTAssertTrue(LeaseBreakNotification.isLeaseBreak(message: m))
        let n = try LeaseBreakNotification.decode(message: m)
        XCTAssertEqual(n.newEpoch, 2)
        XCTAssertTrue(n.needsAcknowledgment)
        XCTAssertEqual(n.leaseKey, key)
        XCTAssertEqual(n.currentState, [.readCaching, .handleCaching, .writeCaching])
        XCTAssertEqual(n.newState, [.readCaching, .handleCaching])
        XCTAssertFalse(try LeaseBreakNotification.decode(message: responseMessage(.oplockBreak, body: leaseBreakBody(flags: 0))).needsAcknowledgment)
        // An oplock break (StructureSize 24) is not a lease break.
        let oplock = responseMessage(.oplockBreak, body: [24, 0, 1, 0] + Array(repeating: 0, count: 20))
        XCTAssertFalse(LeaseBreakNotification.isLeaseBreak(message: oplock))
        XCTAssertThrowsError(try LeaseBreakNotification.decode(message: oplock))
        assertPrefixes(m, failBelow: m.count) { _ = try LeaseBreakNotification.decode(message: $0) }
        fuzzBytes(m) { _ = try LeaseBreakNotification.decode(message: $0) }
    }

    func testLeaseBreakAcknowledgment() throws {
        let b = LeaseBreakAcknowledgment(leaseKey: key, state: [.readCaching]).encodeBody()
        XCTAssertEqual(b.count, 36)
        XCTAssertEqual(le16(b, 0), 36)                           // StructureSize
        XCTAssertEqual(le16(b, 2), 0)                            // Reserved
        XCTAssertEqual(le32(b, 4), 0)                            // Flags
        XCTAssertEqual(Array(b[8..<24]), key)
        XCTAssertEqual(le32(b, 24), 1)                           // LeaseState
        XCTAssertEqual(le64(b, 28), 0)                           // LeaseDuration
        let m = responseMessage(.oplockBreak, body: b)
        XCTAssertEqual(try LeaseBreakAcknowledgment.decodeResponse(message: m),
                       LeaseBreakAcknowledgment(leaseKey: key, state: [.readCaching]))
        assertPrefixes(m, failBelow: m.count) { _ = try LeaseBreakAcknowledgment.decodeResponse(message: $0) }
    }
}
