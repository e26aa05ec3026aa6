import SMBProtocol
import XCTest

/// Every decoder fed truncated, oversized and hostile inputs returns an error and never traps.
final class DecoderRobustnessTests: XCTestCase {
    /// A header for a response to `command` with the given body (CodecTestSupport.swift).
    static func message(_ command: Command, body: [UInt8], status: NTStatus = .success) -> [UInt8] {
        makeResponse(command, body: body, status: status)
    }

    static func negotiateResponse311() -> [UInt8] {
        var b = WireWriter()
        b.u16(65); b.u16(3); b.u16(0x0311); b.u16(3)
        b.bytes(Array(repeating: 0xAB, count: 16))
        b.u32(0x7); b.u32(8 << 20); b.u32(8 << 20); b.u32(8 << 20)
        b.u64(0); b.u64(0)
        let secBlob: [UInt8] = [0x60, 0x03, 0x06, 0x01, 0x00]
        b.u16(UInt16(64 + 64)); b.u16(UInt16(secBlob.count))
        let ctxOffsetAt = b.count
        b.u32(0)
        b.bytes(secBlob)
        while (64 + b.count) % 8 != 0 { b.u8(0) }
        b.patchU32(at: ctxOffsetAt, UInt32(64 + b.count))
        // preauth: 1 algorithm, 32-byte salt
        b.u16(1); b.u16(38); b.u32(0); b.u16(1); b.u16(32); b.u16(1); b.bytes(Array(repeating: 1, count: 32))
        while (64 + b.count) % 8 != 0 { b.u8(0) }
        b.u16(2); b.u16(4); b.u32(0); b.u16(1); b.u16(2)
        while (64 + b.count) % 8 != 0 { b.u8(0) }
        b.u16(8); b.u16(4); b.u32(0); b.u16(1); b.u16(2)
        return message(.negotiate, body: b.bytes)
    }

    static func directoryListing() -> [UInt8] {
        var w = WireWriter()
        for (i, name) in ["alpha", "Grüße 日本"].enumerated() {
            let n = UTF16LE.encode(name)
            let start = w.count
            w.u32(0); w.u32(0)
            w.u64(0x01D0_0000_0000_0000); w.u64(0); w.u64(0x01D0_0000_0000_0000); w.u64(0)
            w.u64(UInt64(100 * (i + 1))); w.u64(4096)
            w.u32(0x20); w.u32(UInt32(n.count)); w.u32(0); w.u8(0); w.u8(0)
            w.zeros(24); w.u16(0); w.u64(UInt64(1000 + i))
            w.bytes(n)
            if i == 0 {
                w.align(8)
                w.patchU32(at: start, UInt32(w.count - start))
            }
        }
        return w.bytes
    }

    static func createResponse() -> [UInt8] {
        var b = WireWriter()
        b.u16(89); b.u8(0); b.u8(0); b.u32(1)
        for _ in 0..<4 { b.u64(0x01D0_0000_0000_0000) }
        b.u64(8192); b.u64(5000); b.u32(0x20); b.u32(0)
        b.u64(0x11); b.u64(0x22)
        b.u32(0); b.u32(0)
        return message(.create, body: b.bytes)
    }

    static func readResponse(data: [UInt8]) -> [UInt8] {
        var b = WireWriter()
        b.u16(17); b.u8(0x50); b.u8(0); b.u32(UInt32(data.count)); b.u32(0); b.u32(0)
        b.bytes(data)
        return message(.read, body: b.bytes)
    }

    /// Every prefix of a valid input fails to decode or decodes; none traps. Prefixes shorter than
    /// the fixed part must fail.
    func checkTruncations(_ valid: [UInt8], minimum: Int, from first: Int = 0, _ decode: ([UInt8]) throws -> Void) {
        XCTAssertNoThrow(try decode(valid))
        for n in first..<valid.count {
            let prefix = Array(valid.prefix(n))
            if n < minimum {
                XCTAssertThrowsError(try decode(prefix), "prefix of \(n) bytes decoded")
            } else {
                _ = try? decode(prefix)
            }
        }
    }

    /// Random byte changes never trap.
    func mutate(_ valid: [UInt8], rounds: Int = 3000, _ decode: ([UInt8]) throws -> Void) {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<rounds {
            var m = valid
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                m[Int.random(in: 0..<m.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            _ = try? decode(m)
        }
    }

    func testHeader() {
        let valid = Self.message(.echo, body: [4, 0, 0, 0])
        checkTruncations(valid, minimum: 64) { _ = try Header.decode($0) }
        var bad = valid
        bad[0] = 0xFF
        XCTAssertThrowsError(try Header.decode(bad))
        bad = valid
        bad[12] = 0x77
        XCTAssertThrowsError(try Header.decode(bad))
        mutate(valid) { _ = try Header.decode($0) }
    }

    func testNegotiateResponse() throws {
        let valid = Self.negotiateResponse311()
        let r = try NegotiateResponse.decode(message: valid)
        XCTAssertEqual(r.dialectRevision, 0x0311)
        XCTAssertEqual(r.preauthHashAlgorithm, 1)
        XCTAssertEqual(r.cipher, 2)
        XCTAssertEqual(r.signingAlgorithm, 2)
        XCTAssertEqual(r.securityBuffer, [0x60, 0x03, 0x06, 0x01, 0x00])
        checkTruncations(valid, minimum: 64 + 64) { _ = try NegotiateResponse.decode(message: $0) }
        mutate(valid) { _ = try NegotiateResponse.decode(message: $0) }
        // A security buffer pointing past the end, and a context count beyond the limit.
        var bad = valid
        bad[64 + 58] = 0xFF; bad[64 + 59] = 0xFF
        XCTAssertThrowsError(try NegotiateResponse.decode(message: bad))
        bad = valid
        bad[64 + 6] = 0xFF; bad[64 + 7] = 0x7F
        XCTAssertThrowsError(try NegotiateResponse.decode(message: bad))
    }

    func testDirectoryListing() throws {
        let valid = Self.directoryListing()
        let entries = try FileIdBothDirectoryInformation.decodeList(valid)
        XCTAssertEqual(entries.map(\.name), ["alpha", "Grüße 日本"])
        XCTAssertEqual(entries.map(\.basics.endOfFile), [100, 200])
        XCTAssertEqual(entries.map(\.basics.allocationSize), [4096, 4096])
        XCTAssertEqual(entries.map(\.fileId), [1000, 1001])
        // An empty buffer is an empty listing; any other prefix of an entry is an error.
        XCTAssertEqual(try FileIdBothDirectoryInformation.decodeList([]), [])
        checkTruncations(valid, minimum: 104, from: 1) { _ = try FileIdBothDirectoryInformation.decodeList($0) }
        mutate(valid) { _ = try FileIdBothDirectoryInformation.decodeList($0) }
        // NextEntryOffset pointing back into the same entry or past the end.
        for next: UInt32 in [1, 8, 0xFFFF_FFF0] {
            var bad = valid
            bad[0] = UInt8(next & 0xff); bad[1] = UInt8(next >> 8 & 0xff)
            bad[2] = UInt8(next >> 16 & 0xff); bad[3] = UInt8(next >> 24)
            XCTAssertThrowsError(try FileIdBothDirectoryInformation.decodeList(bad), "NextEntryOffset \(next)")
        }
        // A name length larger than the buffer.
        var bad = valid
        bad[60] = 0xFF; bad[61] = 0xFF
        XCTAssertThrowsError(try FileIdBothDirectoryInformation.decodeList(bad))
    }

    /// A name that is not UTF-16 (an unpaired surrogate, as Samba sends for a file name that is
    /// not UTF-8 on its disk) leaves that entry unreadable, not the listing.
    func testDirectoryListingWithAnUndecodableName() throws {
        var w = WireWriter()
        let names: [[UInt8]] = [UTF16LE.encode("before"), [0x73, 0x00, 0x00, 0xD8, 0x78, 0x00], UTF16LE.encode("after")]
        for (i, n) in names.enumerated() {
            let start = w.count
            w.u32(0); w.u32(0)
            for _ in 0..<4 { w.u64(0x01D0_0000_0000_0000) }
            w.u64(1); w.u64(4096)
            w.u32(0x20); w.u32(UInt32(n.count)); w.u32(0); w.u8(0); w.u8(0)
            w.zeros(24); w.u16(0); w.u64(UInt64(2000 + i))
            w.bytes(n)
            if i < names.count - 1 {
                w.align(8)
                w.patchU32(at: start, UInt32(w.count - start))
            }
        }
        let entries = try FileIdBothDirectoryInformation.decodeList(w.bytes)
        XCTAssertEqual(entries.map(\.name), ["before", "", "after"])
        XCTAssertEqual(entries.map(\.undecodableName), [nil, names[1], nil])
        XCTAssertEqual(entries.map(\.fileId), [2000, 2001, 2002])
    }

    func testCreateResponse() throws {
        let valid = Self.createResponse()
        let r = try CreateResponse.decode(message: valid)
        XCTAssertEqual(r.fileId, FileId(persistent: 0x11, volatile: 0x22))
        XCTAssertEqual(r.basics.endOfFile, 5000)
        XCTAssertEqual(r.basics.allocationSize, 8192)
        checkTruncations(valid, minimum: valid.count) { _ = try CreateResponse.decode(message: $0) }
        mutate(valid) { _ = try CreateResponse.decode(message: $0) }
        var bad = valid
        bad[64 + 80] = 0xF0; bad[64 + 84] = 0x40                // contexts past the end
        XCTAssertThrowsError(try CreateResponse.decode(message: bad))
    }

    func testReadResponse() throws {
        let data = Array(0..<200).map { UInt8($0) }
        let valid = Self.readResponse(data: data)
        let r = try ReadResponse.decode(message: valid, requested: 200)
        XCTAssertEqual(Array(valid[r.dataRange]), data)
        XCTAssertThrowsError(try ReadResponse.decode(message: valid, requested: 100), "more data than asked for")
        checkTruncations(valid, minimum: 64 + 16) { _ = try ReadResponse.decode(message: $0, requested: 200) }
        for n in (64 + 17)..<valid.count {
            XCTAssertThrowsError(try ReadResponse.decode(message: Array(valid.prefix(n)), requested: 200), "data past the end at \(n)")
        }
        mutate(valid) { m in
            let r = try ReadResponse.decode(message: m, requested: 200)
            _ = m[r.dataRange]
        }
        var bad = valid
        bad[64 + 2] = 0x10                                      // data offset inside the header
        XCTAssertThrowsError(try ReadResponse.decode(message: bad, requested: 200))
    }

    func testOutputBufferAndInfoClasses() throws {
        var w = WireWriter()
        w.u16(9); w.u16(72); w.u32(40)
        w.bytes(Array(repeating: 7, count: 40))
        let valid = Self.message(.queryInfo, body: w.bytes)
        XCTAssertEqual(try OutputBufferResponse.decode(message: valid, command: .queryInfo, maxLength: 64).count, 40)
        XCTAssertThrowsError(try OutputBufferResponse.decode(message: valid, command: .queryInfo, maxLength: 39))
        checkTruncations(valid, minimum: valid.count) { _ = try OutputBufferResponse.decode(message: $0, command: .queryInfo, maxLength: 64) }
        checkTruncations(Array(repeating: 1, count: 32), minimum: 32) { _ = try FileFsFullSizeInformation.decode($0) }
        checkTruncations(Array(repeating: 0, count: 100), minimum: 72) { _ = try FileAllInformation.decode($0) }
    }

    func testSessionSetupAndTreeConnectResponses() throws {
        var w = WireWriter()
        w.u16(9); w.u16(0); w.u16(72); w.u16(3); w.bytes([1, 2, 3])
        let ss = Self.message(.sessionSetup, body: w.bytes)
        XCTAssertEqual(try SessionSetupResponse.decode(message: ss).securityBuffer, [1, 2, 3])
        checkTruncations(ss, minimum: ss.count) { _ = try SessionSetupResponse.decode(message: $0) }
        mutate(ss) { _ = try SessionSetupResponse.decode(message: $0) }

        var t = WireWriter()
        t.u16(16); t.u8(1); t.u8(0); t.u32(0); t.u32(0); t.u32(0x1F01FF)
        let tc = Self.message(.treeConnect, body: t.bytes)
        XCTAssertEqual(try TreeConnectResponse.decode(message: tc).maximalAccess, 0x1F01FF)
        checkTruncations(tc, minimum: tc.count) { _ = try TreeConnectResponse.decode(message: $0) }
    }

    func testUTF16RoundTripAndInvalid() throws {
        for s in ["", "a", "Grüße", "日本語", "emoji 🎉", "quote's @%#&+="] {
            XCTAssertEqual(try UTF16LE.decode(UTF16LE.encode(s)), s)
        }
        XCTAssertThrowsError(try UTF16LE.decode([0x41]))                 // odd length
        XCTAssertThrowsError(try UTF16LE.decode([0x00, 0xD8]))           // lone high surrogate
    }

    func testDirectTCPFraming() throws {
        XCTAssertEqual(DirectTCP.frameHeader(length: 0x123456), [0, 0x12, 0x34, 0x56])
        XCTAssertEqual(try DirectTCP.frameLength(0, 0x12, 0x34, 0x56), 0x123456)
        XCTAssertThrowsError(try DirectTCP.frameLength(0x85, 0, 0, 0))   // NetBIOS keepalive/session types are not Direct TCP
    }
}
