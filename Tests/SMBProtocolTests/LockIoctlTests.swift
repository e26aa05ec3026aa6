import SMBProtocol
import XCTest

/// LOCK (MS-SMB2 2.2.26/2.2.27) and IOCTL (2.2.31/2.2.32) with their FSCTL payloads, laid out
/// field by field against the spec; decoders fed truncations, mutations and hostile values.
final class LockIoctlTests: XCTestCase {
    let fid = FileId(persistent: 0x1122_3344_5566_7788, volatile: 0x99AA_BBCC_DDEE_FF00)

    // MARK: LOCK

    func testLockRequestLayout() throws {
        var req = LockRequest(fileId: fid, locks: [LockElement(offset: 0x1_0000_0000, length: 0x2000, flags: [.exclusiveLock, .failImmediately]),
                                                   LockElement(offset: 7, length: 1, flags: [.sharedLock, .failImmediately])])
        req.lockSequenceNumber = 5
        req.lockSequenceIndex = 3
        let b = try req.encodeBody()
        XCTAssertEqual(b.count, 24 + 2 * 24)
        XCTAssertEqual(le16(b, 0), 48)                          // StructureSize, whatever the count
        XCTAssertEqual(le16(b, 2), 2)                           // LockCount
        XCTAssertEqual(le32(b, 4), 0x35)                        // Number in bits 0-3, Index in 4-31
        XCTAssertEqual(le64(b, 8), fid.persistent)
        XCTAssertEqual(le64(b, 16), fid.volatile)
        XCTAssertEqual(le64(b, 24), 0x1_0000_0000)              // Offset
        XCTAssertEqual(le64(b, 32), 0x2000)                     // Length
        XCTAssertEqual(le32(b, 40), 0x12)                       // EXCLUSIVE | FAIL_IMMEDIATELY
        XCTAssertEqual(le32(b, 44), 0)                          // Reserved
        XCTAssertEqual(le64(b, 48), 7)
        XCTAssertEqual(le64(b, 56), 1)
        XCTAssertEqual(le32(b, 64), 0x11)                       // SHARED | FAIL_IMMEDIATELY
        XCTAssertEqual(le32(b, 68), 0)
    }

    func testLockFlagValuesAndSequenceDefault() throws {
        XCTAssertEqual(LockFlags.sharedLock.rawValue, 1)
        XCTAssertEqual(LockFlags.exclusiveLock.rawValue, 2)
        XCTAssertEqual(LockFlags.unlock.rawValue, 4)
        XCTAssertEqual(LockFlags.failImmediately.rawValue, 0x10)
        // Dialect 2.0.2: the sequence field is Reserved and stays 0 by default.
        let b = try LockRequest(fileId: fid, locks: [LockElement(offset: 0, length: 10, flags: .exclusiveLock)]).encodeBody()
        XCTAssertEqual(le32(b, 4), 0)
        XCTAssertEqual(le32(b, 40), 2)
        let u = try LockRequest(fileId: fid, locks: [LockElement(offset: 0, length: 10, flags: .unlock),
                                                     LockElement(offset: 20, length: 10, flags: .unlock)]).encodeBody()
        XCTAssertEqual(le16(u, 2), 2)
        XCTAssertEqual(le32(u, 40), 4)
        XCTAssertEqual(le32(u, 64), 4)
    }

    func testLockRequestRejectsWhatServersReject() {
        func encode(_ locks: [LockElement], number: UInt8 = 0, index: UInt32 = 0) throws {
            var r = LockRequest(fileId: fid, locks: locks)
            r.lockSequenceNumber = number
            r.lockSequenceIndex = index
            _ = try r.encodeBody()
        }
        let ex = LockElement(offset: 0, length: 1, flags: .exclusiveLock)
        XCTAssertThrowsError(try encode([]), "LockCount 0")
        for bad: LockFlags in [[], [.sharedLock, .exclusiveLock], [.unlock, .failImmediately], .failImmediately,
                               [.unlock, .sharedLock], LockFlags(rawValue: 0x100)] {
            XCTAssertThrowsError(try encode([LockElement(offset: 0, length: 1, flags: bad)]), "flags \(bad.rawValue)")
        }
        XCTAssertThrowsError(try encode([LockElement(offset: 0, length: 1, flags: .unlock),
                                         LockElement(offset: 0, length: 1, flags: [.sharedLock, .failImmediately])]), "unlock mixed with lock")
        XCTAssertThrowsError(try encode([LockElement(offset: 0, length: 1, flags: [.exclusiveLock, .failImmediately]),
                                         LockElement(offset: 9, length: 1, flags: .unlock)]), "lock mixed with unlock")
        XCTAssertThrowsError(try encode([ex, LockElement(offset: 9, length: 1, flags: [.sharedLock, .failImmediately])]),
                             "blocking lock among several")
        XCTAssertThrowsError(try encode([ex], number: 16))
        XCTAssertThrowsError(try encode([ex], index: 65))
        XCTAssertNoThrow(try encode([ex], number: 15, index: 64))
        XCTAssertThrowsError(try encode(Array(repeating: LockElement(offset: 0, length: 1, flags: .unlock), count: LockRequest.maxLockCount + 1)))
    }

    func testLockResponse() throws {
        let valid = responseMessage(.lock, body: [4, 0, 0, 0])
        XCTAssertNoThrow(try LockResponse.decode(message: valid))
        assertPrefixes(valid, failBelow: valid.count) { try LockResponse.decode(message: $0) }
        var bad = valid
        bad[64] = 9
        XCTAssertThrowsError(try LockResponse.decode(message: bad))
        fuzzBytes(valid) { try LockResponse.decode(message: $0) }
    }

    // MARK: IOCTL

    func testFSCTLCodes() {
        // MS-SMB2 2.2.31 and MS-FSCC 2.3; each also equals CTL_CODE(device, function, method, access).
        func ctl(_ device: UInt32, _ function: UInt32, _ method: UInt32, _ access: UInt32) -> UInt32 {
            device << 16 | access << 14 | function << 2 | method
        }
        XCTAssertEqual(FSCTL.FSCTL_SRV_REQUEST_RESUME_KEY, 0x0014_0078)
        XCTAssertEqual(FSCTL.FSCTL_SRV_COPYCHUNK_WRITE, 0x0014_80F2)
        XCTAssertEqual(FSCTL.FSCTL_SRV_COPYCHUNK, 0x0014_40F2)
        XCTAssertEqual(FSCTL.FSCTL_SET_ZERO_DATA, 0x0009_80C8)
        XCTAssertEqual(FSCTL.FSCTL_SET_ZERO_DATA, ctl(9, 50, 0, 2))        // METHOD_BUFFERED, FILE_WRITE_DATA
        XCTAssertEqual(FSCTL.FSCTL_QUERY_ALLOCATED_RANGES, 0x0009_40CF)
        XCTAssertEqual(FSCTL.FSCTL_QUERY_ALLOCATED_RANGES, ctl(9, 51, 3, 1)) // METHOD_NEITHER, FILE_READ_DATA
        XCTAssertEqual(FSCTL.FSCTL_SET_SPARSE, 0x0009_00C4)
        XCTAssertEqual(FSCTL.FSCTL_SET_SPARSE, ctl(9, 49, 0, 0))
        XCTAssertEqual(FSCTL.FSCTL_GET_REPARSE_POINT, 0x0009_00A8)
        XCTAssertEqual(FSCTL.FSCTL_GET_REPARSE_POINT, ctl(9, 42, 0, 0))
        XCTAssertEqual(FSCTL.FSCTL_SET_REPARSE_POINT, 0x0009_00A4)
        XCTAssertEqual(FSCTL.FSCTL_SET_REPARSE_POINT, ctl(9, 41, 0, 0))
        XCTAssertEqual(FSCTL.FSCTL_VALIDATE_NEGOTIATE_INFO, 0x0014_0204)
        XCTAssertEqual(IoctlRequest.SMB2_0_IOCTL_IS_FSCTL, 1)
    }

    func testIoctlRequestLayout() {
        let input: [UInt8] = Array(1...40)
        var req = IoctlRequest(ctlCode: FSCTL.FSCTL_SRV_COPYCHUNK_WRITE, fileId: fid, input: input, maxOutputResponse: 12)
        req.maxInputResponse = 0
        let b = req.encodeBody()
        XCTAssertEqual(b.count, 56 + 40)
        XCTAssertEqual(le16(b, 0), 57)                          // StructureSize
        XCTAssertEqual(le16(b, 2), 0)                           // Reserved
        XCTAssertEqual(le32(b, 4), 0x0014_80F2)                 // CtlCode
        XCTAssertEqual(le64(b, 8), fid.persistent)
        XCTAssertEqual(le64(b, 16), fid.volatile)
        XCTAssertEqual(le32(b, 24), 64 + 56)                    // InputOffset from the header start
        XCTAssertEqual(le32(b, 28), 40)                         // InputCount
        XCTAssertEqual(le32(b, 32), 0)                          // MaxInputResponse
        XCTAssertEqual(le32(b, 36), 0)                          // OutputOffset
        XCTAssertEqual(le32(b, 40), 0)                          // OutputCount
        XCTAssertEqual(le32(b, 44), 12)                         // MaxOutputResponse
        XCTAssertEqual(le32(b, 48), 1)                          // Flags: SMB2_0_IOCTL_IS_FSCTL
        XCTAssertEqual(le32(b, 52), 0)                          // Reserved2
        XCTAssertEqual(Array(b[56...]), input)
    }

    func testIoctlRequestWithoutInput() {
        let b = IoctlRequest(ctlCode: FSCTL.FSCTL_SRV_REQUEST_RESUME_KEY, fileId: fid, maxOutputResponse: 32).encodeBody()
        XCTAssertEqual(b.count, 57)                             // one Buffer byte
        XCTAssertEqual(le32(b, 24), 0)                          // InputOffset 0 when there is no input
        XCTAssertEqual(le32(b, 28), 0)
        XCTAssertEqual(le32(b, 44), 32)
    }

    func ioctlResponse(output: [UInt8], ctl: UInt32 = FSCTL.FSCTL_SRV_COPYCHUNK_WRITE, outputOffset: UInt32? = nil) -> [UInt8] {
        var w = WireWriter()
        w.u16(49); w.u16(0); w.u32(ctl)
        w.u64(fid.persistent); w.u64(fid.volatile)
        w.u32(0); w.u32(0)                                      // InputOffset, InputCount
        w.u32(outputOffset ?? (output.isEmpty ? 0 : 64 + 48))
        w.u32(UInt32(output.count))
        w.u32(0); w.u32(0)                                      // Flags, Reserved2
        w.bytes(output)
        return responseMessage(.ioctl, body: w.bytes)
    }

    func testIoctlResponse() throws {
        let out: [UInt8] = [3, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0x30, 0]
        let valid = ioctlResponse(output: out)
        let r = try IoctlResponse.decode(message: valid, maxOutputResponse: 12)
        XCTAssertEqual(r.ctlCode, FSCTL.FSCTL_SRV_COPYCHUNK_WRITE)
        XCTAssertEqual(r.fileId, fid)
        XCTAssertEqual(r.output, out)
        XCTAssertThrowsError(try IoctlResponse.decode(message: valid, maxOutputResponse: 11), "more output than asked for")
        XCTAssertEqual(try IoctlResponse.decode(message: ioctlResponse(output: []), maxOutputResponse: 0).output, [])
        assertPrefixes(valid, failBelow: valid.count) { _ = try IoctlResponse.decode(message: $0, maxOutputResponse: 12) }
        fuzzBytes(valid) { _ = try IoctlResponse.decode(message: $0, maxOutputResponse: 12) }
        // Output inside the header or the fixed part, past the end, or wrapping.
        for off: UInt32 in [0, 16, 64 + 47, UInt32(valid.count - 11), 0xFFFF_FFF8] {
            XCTAssertThrowsError(try IoctlResponse.decode(message: ioctlResponse(output: out, outputOffset: off), maxOutputResponse: 12), "offset \(off)")
        }
        var huge = valid
        put32(&huge, 64 + 36, 0xFFFF_FFFF)                      // OutputCount
        XCTAssertThrowsError(try IoctlResponse.decode(message: huge, maxOutputResponse: .max))
        var bad = valid
        bad[64] = 48
        XCTAssertThrowsError(try IoctlResponse.decode(message: bad, maxOutputResponse: 12))
    }

    func testIoctlResponseInCompound() throws {
        // The second response of a compound: offsets are relative to its own header.
        let first = responseMessage(.create, body: Array(repeating: 0, count: 88))
        let padded = first + Array(repeating: 0, count: (8 - first.count % 8) % 8)
        let second = ioctlResponse(output: [9, 8, 7])
        let m = padded + second
        let r = try IoctlResponse.decode(message: m, at: padded.count + 64, maxOutputResponse: 3)
        XCTAssertEqual(r.output, [9, 8, 7])
    }

    func testResumeKey() throws {
        let key: [UInt8] = Array(100..<124)
        // Windows and Samba answer 32 bytes: key, ContextLength 0, 4 bytes of padding.
        let valid = key + [0, 0, 0, 0] + [0, 0, 0, 0]
        let r = try SRV_REQUEST_RESUME_KEY.decode(valid)
        XCTAssertEqual(r.resumeKey, key)
        XCTAssertEqual(r.context, [])
        assertPrefixes(valid, failBelow: 28) { _ = try SRV_REQUEST_RESUME_KEY.decode($0) }
        var withContext = key + [2, 0, 0, 0, 0xAA, 0xBB]
        XCTAssertEqual(try SRV_REQUEST_RESUME_KEY.decode(withContext).context, [0xAA, 0xBB])
        put32(&withContext, 24, 3)
        XCTAssertThrowsError(try SRV_REQUEST_RESUME_KEY.decode(withContext), "context past the end")
        put32(&withContext, 24, 0xFFFF_FFFF)
        XCTAssertThrowsError(try SRV_REQUEST_RESUME_KEY.decode(withContext))
        fuzzBytes(valid) { _ = try SRV_REQUEST_RESUME_KEY.decode($0) }
    }

    func testCopychunkCopyLayout() throws {
        let key: [UInt8] = Array(1...24)
        let chunks = [SRV_COPYCHUNK(sourceOffset: 0, targetOffset: 0x1_0000_0000, length: 1 << 20),
                      SRV_COPYCHUNK(sourceOffset: 1 << 20, targetOffset: 5, length: 17)]
        let b = try SRV_COPYCHUNK_COPY(sourceKey: key, chunks: chunks).encode()
        XCTAssertEqual(b.count, 24 + 4 + 4 + 2 * 24)
        XCTAssertEqual(Array(b[0..<24]), key)                   // SourceKey
        XCTAssertEqual(le32(b, 24), 2)                          // ChunkCount
        XCTAssertEqual(le32(b, 28), 0)                          // Reserved
        XCTAssertEqual(le64(b, 32), 0)                          // SourceOffset
        XCTAssertEqual(le64(b, 40), 0x1_0000_0000)              // TargetOffset
        XCTAssertEqual(le32(b, 48), 1 << 20)                    // Length
        XCTAssertEqual(le32(b, 52), 0)                          // Reserved
        XCTAssertEqual(le64(b, 56), 1 << 20)
        XCTAssertEqual(le64(b, 64), 5)
        XCTAssertEqual(le32(b, 72), 17)
        XCTAssertEqual(le32(b, 76), 0)
    }

    func testCopychunkCopyLimits() {
        let key: [UInt8] = Array(repeating: 1, count: 24)
        let mib = SRV_COPYCHUNK_COPY.maxChunkSize
        XCTAssertEqual(SRV_COPYCHUNK_COPY.maxChunkCount, 256)
        XCTAssertEqual(mib, 1_048_576)
        XCTAssertEqual(SRV_COPYCHUNK_COPY.maxDataSize, 16 * 1_048_576)
        XCTAssertThrowsError(try SRV_COPYCHUNK_COPY(sourceKey: Array(key.prefix(23)), chunks: [SRV_COPYCHUNK(sourceOffset: 0, targetOffset: 0, length: 1)]).encode())
        XCTAssertThrowsError(try SRV_COPYCHUNK_COPY(sourceKey: key, chunks: []).encode())
        XCTAssertThrowsError(try SRV_COPYCHUNK_COPY(sourceKey: key, chunks: [SRV_COPYCHUNK(sourceOffset: 0, targetOffset: 0, length: 0)]).encode())
        XCTAssertThrowsError(try SRV_COPYCHUNK_COPY(sourceKey: key, chunks: [SRV_COPYCHUNK(sourceOffset: 0, targetOffset: 0, length: mib + 1)]).encode(),
                             "a chunk above 1 MiB")
        let small = SRV_COPYCHUNK(sourceOffset: 0, targetOffset: 0, length: 1)
        XCTAssertNoThrow(try SRV_COPYCHUNK_COPY(sourceKey: key, chunks: Array(repeating: small, count: 256)).encode())
        XCTAssertThrowsError(try SRV_COPYCHUNK_COPY(sourceKey: key, chunks: Array(repeating: small, count: 257)).encode())
        let full = SRV_COPYCHUNK(sourceOffset: 0, targetOffset: 0, length: mib)
        XCTAssertNoThrow(try SRV_COPYCHUNK_COPY(sourceKey: key, chunks: Array(repeating: full, count: 16)).encode())
        XCTAssertThrowsError(try SRV_COPYCHUNK_COPY(sourceKey: key, chunks: Array(repeating: full, count: 17)).encode(), "above 16 MiB")
    }

    func testCopychunkResponse() throws {
        let valid: [UInt8] = [0x10, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 1]
        let r = try SRV_COPYCHUNK_RESPONSE.decode(valid)
        XCTAssertEqual(r, SRV_COPYCHUNK_RESPONSE(chunksWritten: 16, chunkBytesWritten: 0x10_0000, totalBytesWritten: 0x0100_0000))
        assertPrefixes(valid, failBelow: 12) { _ = try SRV_COPYCHUNK_RESPONSE.decode($0) }
        // Within an IOCTL response, as a server sends it with STATUS_INVALID_PARAMETER (3.3.5.15.6.2).
        let m = ioctlResponse(output: valid)
        XCTAssertEqual(try SRV_COPYCHUNK_RESPONSE.decode(IoctlResponse.decode(message: m, maxOutputResponse: 12).output), r)
    }

    func testZeroData() throws {
        let b = try FILE_ZERO_DATA_INFORMATION(fileOffset: 4096, beyondFinalZero: 0x2_0000_0000).encode()
        XCTAssertEqual(b.count, 16)
        XCTAssertEqual(le64(b, 0), 4096)                        // FileOffset
        XCTAssertEqual(le64(b, 8), 0x2_0000_0000)               // BeyondFinalZero
        XCTAssertNoThrow(try FILE_ZERO_DATA_INFORMATION(fileOffset: 5, beyondFinalZero: 5).encode())
        XCTAssertThrowsError(try FILE_ZERO_DATA_INFORMATION(fileOffset: 6, beyondFinalZero: 5).encode())
        XCTAssertThrowsError(try FILE_ZERO_DATA_INFORMATION(fileOffset: 0, beyondFinalZero: 1 << 63).encode(), "negative LARGE_INTEGER")
    }

    func testAllocatedRangeInput() throws {
        let b = try FILE_ALLOCATED_RANGE_BUFFER(fileOffset: 0, length: 5 << 30).encode()
        XCTAssertEqual(b.count, 16)
        XCTAssertEqual(le64(b, 0), 0)                           // FileOffset
        XCTAssertEqual(le64(b, 8), 5 << 30)                     // Length
        XCTAssertThrowsError(try FILE_ALLOCATED_RANGE_BUFFER(fileOffset: 1 << 63, length: 1).encode())
        XCTAssertThrowsError(try FILE_ALLOCATED_RANGE_BUFFER(fileOffset: UInt64(Int64.max), length: 1).encode())
    }

    func ranges(_ pairs: [(UInt64, UInt64)]) -> [UInt8] {
        var w = WireWriter()
        for (o, l) in pairs { w.u64(o); w.u64(l) }
        return w.bytes
    }

    func testAllocatedRangeList() throws {
        let valid = ranges([(0, 4096), (1 << 20, 8192), (5 << 30, 1)])
        let list = try FILE_ALLOCATED_RANGE_BUFFER.decodeList(valid)
        XCTAssertEqual(list.map(\.fileOffset), [0, 1 << 20, 5 << 30])
        XCTAssertEqual(list.map(\.length), [4096, 8192, 1])
        XCTAssertEqual(try FILE_ALLOCATED_RANGE_BUFFER.decodeList([]), [])
        for n in 1..<valid.count where n % 16 != 0 {
            XCTAssertThrowsError(try FILE_ALLOCATED_RANGE_BUFFER.decodeList(Array(valid.prefix(n))), "\(n) bytes")
        }
        // Overlapping, unsorted, empty, negative, wrapping.
        for bad in [[(0, 4096), (4095, 10)], [(8192, 1), (0, 1)], [(0, 0)], [(1 << 63, 1)],
                    [(UInt64(Int64.max) - 1, 2)], [(0, UInt64.max)]] as [[(UInt64, UInt64)]] {
            XCTAssertThrowsError(try FILE_ALLOCATED_RANGE_BUFFER.decodeList(ranges(bad)), "\(bad)")
        }
        XCTAssertNoThrow(try FILE_ALLOCATED_RANGE_BUFFER.decodeList(ranges([(0, 10), (10, 10)])), "adjacent ranges")
        let tooMany = ranges(Array((0..<UInt64(FILE_ALLOCATED_RANGE_BUFFER.maxRanges + 1)).map { ($0 * 2, 1) }))
        XCTAssertThrowsError(try FILE_ALLOCATED_RANGE_BUFFER.decodeList(tooMany))
        fuzzBytes(valid) { _ = try FILE_ALLOCATED_RANGE_BUFFER.decodeList($0) }
    }

    func testValidateNegotiateInfo() throws {
        let guid: [UInt8] = Array(0x40..<0x50)
        let b = try VALIDATE_NEGOTIATE_INFO_Request(capabilities: 0x7F, guid: guid, securityMode: 1,
                                                    dialects: [0x0202, 0x0210, 0x0300, 0x0302]).encode()
        XCTAssertEqual(b.count, 24 + 8)
        XCTAssertEqual(le32(b, 0), 0x7F)                        // Capabilities
        XCTAssertEqual(Array(b[4..<20]), guid)                  // Guid
        XCTAssertEqual(le16(b, 20), 1)                          // SecurityMode
        XCTAssertEqual(le16(b, 22), 4)                          // DialectCount
        XCTAssertEqual([le16(b, 24), le16(b, 26), le16(b, 28), le16(b, 30)], [0x0202, 0x0210, 0x0300, 0x0302])
        XCTAssertThrowsError(try VALIDATE_NEGOTIATE_INFO_Request(capabilities: 0, guid: [1], securityMode: 0, dialects: [0x0300]).encode())
        XCTAssertThrowsError(try VALIDATE_NEGOTIATE_INFO_Request(capabilities: 0, guid: guid, securityMode: 0, dialects: []).encode())

        var w = WireWriter()
        w.u32(0x2F); w.bytes(guid); w.u16(3); w.u16(0x0302)
        let valid = w.bytes
        let r = try VALIDATE_NEGOTIATE_INFO_Response.decode(valid)
        XCTAssertEqual(r, VALIDATE_NEGOTIATE_INFO_Response(capabilities: 0x2F, guid: guid, securityMode: 3, dialect: 0x0302))
        assertPrefixes(valid, failBelow: 24) { _ = try VALIDATE_NEGOTIATE_INFO_Response.decode($0) }
    }
}
