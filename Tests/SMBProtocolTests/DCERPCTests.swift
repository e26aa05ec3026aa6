@testable import SMBProtocol
import XCTest

/// DCE/RPC over a pipe (C706 12, MS-RPCE 2.2.2) and NetrShareEnum level 1 (MS-SRVS 3.1.4.8):
/// the bytes this client sends, and every count, offset and fragment it is sent checked.
final class DCERPCTests: XCTestCase {
    func testBindCarriesSrvsvcOverNDR() {
        let b = DCERPC.bind(interface: SRVS.interface, callId: 7)
        XCTAssertEqual(b.count, 72)
        XCTAssertEqual(Array(b[0..<4]), [5, 0, 11, 3])                  // v5.0, BIND, first|last
        XCTAssertEqual(Array(b[8..<10]), [72, 0])                       // frag_length
        XCTAssertEqual(Array(b[12..<16]), [7, 0, 0, 0])                 // call_id
        // srvsvc 4b324fc8-1670-01d3-1278-5a47bf6ee188 v3.0, first three fields little-endian.
        XCTAssertEqual(Array(b[32..<52]), [0xc8, 0x4f, 0x32, 0x4b, 0x70, 0x16, 0xd3, 0x01, 0x12, 0x78,
                                           0x5a, 0x47, 0xbf, 0x6e, 0xe1, 0x88, 3, 0, 0, 0])
        // NDR 8a885d04-1ceb-11c9-9fe8-08002b104860 v2.0.
        XCTAssertEqual(Array(b[52..<72]), [0x04, 0x5d, 0x88, 0x8a, 0xeb, 0x1c, 0xc9, 0x11, 0x9f, 0xe8,
                                           0x08, 0x00, 0x2b, 0x10, 0x48, 0x60, 2, 0, 0, 0])
    }

    func testRequestIsCutIntoFragments() {
        let stub = [UInt8](repeating: 0xAA, count: 10_000)
        let f = DCERPC.request(opnum: 15, stub: stub, callId: 3, maxFragment: 4280)
        XCTAssertEqual(f.count, 3)
        XCTAssertTrue(f.allSatisfy { $0.count <= 4280 })
        XCTAssertEqual(f.map { $0[3] }, [DCERPC.firstFragment, 0, DCERPC.lastFragment])
        XCTAssertEqual(f.reduce(0) { $0 + $1.count - 24 }, stub.count)
        XCTAssertEqual(DCERPC.request(opnum: 15, stub: [1, 2, 3, 4], callId: 3, maxFragment: 4280).first?[3],
                       DCERPC.firstFragment | DCERPC.lastFragment)
    }

    func bindAck(result: UInt16 = 0, xmit: UInt16 = 4280, addressLength: Int = 13) -> [UInt8] {
        var w = WireWriter()
        w.bytes([5, 0, 12, 3, 0x10, 0, 0, 0]); w.u16(0); w.u16(0); w.u32(1)
        w.u16(xmit); w.u16(4280); w.u32(0x1234)
        w.u16(UInt16(addressLength)); w.bytes([UInt8](repeating: 0x5c, count: addressLength))
        w.align(4)
        w.u8(1); w.zeros(3); w.u16(result); w.u16(0); w.zeros(20)
        w.patchU16(at: 8, UInt16(w.count))
        return w.bytes
    }

    func testBindAckAcceptedRefusedAndMalformed() throws {
        XCTAssertEqual(try DCERPC.decodeBindAck(bindAck(), callId: 1), DCERPC.BindResult(maxTransmitFragment: 4280, maxReceiveFragment: 4280))
        XCTAssertEqual(try DCERPC.decodeBindAck(bindAck(addressLength: 0), callId: 1).maxReceiveFragment, 4280)
        XCTAssertThrowsError(try DCERPC.decodeBindAck(bindAck(result: 2), callId: 1))
        XCTAssertThrowsError(try DCERPC.decodeBindAck(bindAck(xmit: 100), callId: 1))
        XCTAssertThrowsError(try DCERPC.decodeBindAck(bindAck(), callId: 2))
        XCTAssertThrowsError(try DCERPC.decodeBindAck(Array(bindAck().dropLast()), callId: 1))
        var overrun = bindAck()
        overrun[24] = 0xA0; overrun[25] = 0x0F                     // sec_addr length 4000 in a short PDU
        XCTAssertThrowsError(try DCERPC.decodeBindAck(overrun, callId: 1))
        var nak = bindAck(); nak[2] = 13
        XCTAssertThrowsError(try DCERPC.decodeBindAck(nak, callId: 1))
    }

    /// A share list stub as a server marshals it.
    func shareList(_ shares: [(String?, UInt32, String?)], status: UInt32 = 0, count: Int? = nil) -> [UInt8] {
        var n = NDRWriter()
        n.u32(1); n.u32(1); n.u32(0x20000)
        n.u32(UInt32(shares.count)); n.u32(0x20004)
        n.u32(UInt32(count ?? shares.count))
        for (i, s) in shares.enumerated() {
            n.u32(s.0 == nil ? 0 : UInt32(0x20008 + i * 8)); n.u32(s.1); n.u32(s.2 == nil ? 0 : UInt32(0x2000c + i * 8))
        }
        func string(_ s: String) {
            let units = Array(s.utf16) + [0]
            n.u32(UInt32(units.count)); n.u32(0); n.u32(UInt32(units.count))
            var bytes: [UInt8] = []
            for u in units { bytes.append(UInt8(u & 0xFF)); bytes.append(UInt8(u >> 8)) }
            n.raw(bytes)
        }
        for s in shares {
            if let name = s.0 { string(name) }
            if let remark = s.2 { string(remark) }
        }
        n.u32(UInt32(shares.count)); n.u32(0x20010); n.u32(0); n.u32(status)
        return n.bytes
    }

    func testShareListDecodes() throws {
        let stub = shareList([("rw", 0, "read write"), ("Ünï 共有", 0, ""), ("IPC$", 0x8000_0003, "IPC Service"), ("odd", 0, nil)])
        let r = try SRVS.decodeShareEnumResponse(stub)
        XCTAssertEqual(r.shares, [SRVS.ShareInfo1(name: "rw", type: 0, remark: "read write"),
                                  SRVS.ShareInfo1(name: "Ünï 共有", type: 0, remark: ""),
                                  SRVS.ShareInfo1(name: "IPC$", type: 0x8000_0003, remark: "IPC Service"),
                                  SRVS.ShareInfo1(name: "odd", type: 0, remark: "")])
        XCTAssertEqual(r.shares[2].kind, .ipc)
        XCTAssertEqual(r.status, 0)
        XCTAssertEqual(r.resumeHandle, 0)
        XCTAssertEqual(try SRVS.decodeShareEnumResponse(shareList([("a", 0, "b")], status: 234)).status, SRVS.errorMoreData)
        XCTAssertEqual(try SRVS.decodeShareEnumResponse(shareList([])).shares, [])
    }

    func testShareListHostileCountsAndStrings() {
        let good = shareList([("rw", 0, "read write")])
        // Every cut of a valid answer is an error, never a trap.
        for n in 0..<good.count { XCTAssertThrowsError(try SRVS.decodeShareEnumResponse(Array(good.prefix(n))), "cut at \(n)") }
        // max_count differing from EntriesRead; a count far beyond the bytes there.
        XCTAssertThrowsError(try SRVS.decodeShareEnumResponse(shareList([("rw", 0, "x")], count: 2)))
        var huge = good
        huge[12] = 0xFF; huge[13] = 0xFF; huge[14] = 0x01        // EntriesRead 0x1FFFF
        XCTAssertThrowsError(try SRVS.decodeShareEnumResponse(huge))
        var big = good
        big[12] = 0x40; big[13] = 0; big[14] = 0                  // 64 entries, as max_count too
        big[20] = 0x40; big[21] = 0; big[22] = 0
        XCTAssertThrowsError(try SRVS.decodeShareEnumResponse(big))
        // A string whose actual count exceeds its maximum, or whose offset is not 0.
        var actual = good
        actual[40] = 9                                            // actual_count of "rw" (max 3)
        XCTAssertThrowsError(try SRVS.decodeShareEnumResponse(actual))
        var offset = good
        offset[36] = 1
        XCTAssertThrowsError(try SRVS.decodeShareEnumResponse(offset))
        var level = good
        level[0] = 2
        XCTAssertThrowsError(try SRVS.decodeShareEnumResponse(level))
    }

    func response(_ stub: ArraySlice<UInt8>, callId: UInt32, flags: UInt8, type: UInt8 = 2) -> [UInt8] {
        var w = WireWriter()
        w.bytes([5, 0, type, flags, 0x10, 0, 0, 0]); w.u16(UInt16(24 + stub.count)); w.u16(0); w.u32(callId)
        w.u32(UInt32(stub.count)); w.u16(0); w.u8(0); w.u8(0)
        w.bytes(stub)
        return w.bytes
    }

    func testResponseAssembledFromFragmentsInAnyReadSizes() throws {
        let stub = [UInt8]((0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        let pdus = [response(stub[0..<4000], callId: 2, flags: 1), response(stub[4000..<8000], callId: 2, flags: 0),
                    response(stub[8000...], callId: 2, flags: 2)]
        let bytes = pdus.flatMap { $0 }
        for read in [1, 13, 4280, 100_000] {
            var a = DCERPC.ResponseAssembler(callId: 2)
            var at = 0
            while !a.complete && at < bytes.count {
                try a.add(Array(bytes[at..<min(bytes.count, at + read)]))
                at += read
            }
            XCTAssertTrue(a.complete, "reads of \(read)")
            XCTAssertEqual(a.stub, stub, "reads of \(read)")
        }
    }

    func testResponseFaultsAndStrangers() {
        var a = DCERPC.ResponseAssembler(callId: 2)
        var fault = response([0, 0, 0, 0][...], callId: 2, flags: 3, type: 3)
        fault[24] = 5
        XCTAssertThrowsError(try a.add(fault)) { XCTAssertEqual($0 as? DCERPCFault, DCERPCFault(status: 5)) }
        var b = DCERPC.ResponseAssembler(callId: 2)
        XCTAssertThrowsError(try b.add(response([1][...], callId: 9, flags: 3)), "another call's fragment")
        var c = DCERPC.ResponseAssembler(callId: 2)
        XCTAssertThrowsError(try c.add(response([1][...], callId: 2, flags: 2)), "a middle fragment first")
        var d = DCERPC.ResponseAssembler(callId: 2)
        XCTAssertThrowsError(try d.add(response([1][...], callId: 2, flags: 3) + [5, 0]), "bytes after the last")
        var e = DCERPC.ResponseAssembler(callId: 2)
        var short = response([][...], callId: 2, flags: 3)
        short[8] = 20
        XCTAssertThrowsError(try e.add(Array(short.prefix(20))), "a fragment shorter than its header")
        var v = response([1][...], callId: 2, flags: 3)
        v[0] = 4
        var f = DCERPC.ResponseAssembler(callId: 2)
        XCTAssertThrowsError(try f.add(v), "version 4")
    }

    func testRequestStubForShareEnum() {
        let s = SRVS.shareEnumRequest(server: "nas", resumeHandle: 0)
        // Referent, max 6, offset 0, actual 6, "\\nas\0" in UTF-16, padding to 4.
        XCTAssertEqual(Array(s[4..<16]), [6, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0])
        XCTAssertEqual(Array(s[16..<28]), [0x5c, 0, 0x5c, 0, 0x6e, 0, 0x61, 0, 0x73, 0, 0, 0])
        XCTAssertEqual(s.count, 28 + 4 * 8)
        XCTAssertEqual(Array(s[28..<36]), [1, 0, 0, 0, 1, 0, 0, 0])
        XCTAssertEqual(Array(s[48..<52]), [0xFF, 0xFF, 0xFF, 0xFF])
    }
}
