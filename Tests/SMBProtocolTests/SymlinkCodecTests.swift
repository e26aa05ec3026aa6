import SMBProtocol
import XCTest

/// Symlink reparse buffers (MS-FSCC 2.1.2.4), the symlink error response and error contexts
/// (MS-SMB2 2.2.2.1, 2.2.2.2.1), and Minshall–French symlink files.
final class SymlinkCodecTests: XCTestCase {
    // MARK: reparse buffer

    func testSymlinkReparseBufferLayout() throws {
        let target = "..\\dir\\file"
        let name = UTF16LE.encode(target)
        let b = try SymbolicLinkReparseDataBuffer(target: target, relative: true).encode()
        XCTAssertEqual(b.count, 8 + 12 + 2 * name.count)
        XCTAssertEqual(le32(b, 0), 0xA000_000C)                 // ReparseTag: IO_REPARSE_TAG_SYMLINK
        // ReparseDataLength counts the 12-byte symlink header and the PathBuffer.
        XCTAssertEqual(Int(le16(b, 4)), 12 + 2 * name.count)
        XCTAssertEqual(Int(le16(b, 4)), b.count - 8)
        XCTAssertEqual(le16(b, 6), 0)                           // Reserved
        XCTAssertEqual(le16(b, 8), 0)                           // SubstituteNameOffset
        XCTAssertEqual(Int(le16(b, 10)), name.count)            // SubstituteNameLength
        XCTAssertEqual(Int(le16(b, 12)), name.count)            // PrintNameOffset
        XCTAssertEqual(Int(le16(b, 14)), name.count)            // PrintNameLength
        XCTAssertEqual(le32(b, 16), 1)                          // Flags: SYMLINK_FLAG_RELATIVE
        XCTAssertEqual(Array(b[20..<(20 + name.count)]), name)
        XCTAssertEqual(Array(b[(20 + name.count)...]), name)
        let abs = try SymbolicLinkReparseDataBuffer(substituteName: "\\??\\C:\\x", printName: "C:\\x", flags: 0).encode()
        XCTAssertEqual(le32(abs, 16), 0)
        XCTAssertEqual(Int(le16(abs, 12)), Int(le16(abs, 10)))
        XCTAssertEqual(Int(le16(abs, 14)), 8)
    }

    func testSymlinkReparseBufferRoundTrip() throws {
        for (sub, print, flags) in [("a", "a", UInt32(1)), ("Grüße/日本 🎉", "other", 0), ("", "", 1), ("x", "", 0)] {
            let l = SymbolicLinkReparseDataBuffer(substituteName: sub, printName: print, flags: flags)
            let d = try SymbolicLinkReparseDataBuffer.decode(l.encode())
            XCTAssertEqual(d, l)
            XCTAssertEqual(d.isRelative, flags == 1)
        }
        // Print name first, substitute second, as Windows lays them out; and trailing padding ignored.
        var w = WireWriter()
        let s = UTF16LE.encode("\\??\\C:\\t"), p = UTF16LE.encode("C:\\t")
        w.u32(0xA000_000C); w.u16(UInt16(12 + s.count + p.count)); w.u16(0)
        w.u16(UInt16(p.count)); w.u16(UInt16(s.count)); w.u16(0); w.u16(UInt16(p.count)); w.u32(0)
        w.bytes(p); w.bytes(s); w.zeros(6)
        let d = try SymbolicLinkReparseDataBuffer.decode(w.bytes)
        XCTAssertEqual(d.substituteName, "\\??\\C:\\t")
        XCTAssertEqual(d.printName, "C:\\t")
        XCTAssertFalse(d.isRelative)
    }

    func testSymlinkReparseBufferRejects() throws {
        let valid = try SymbolicLinkReparseDataBuffer(target: "target", relative: true).encode()
        // A ReparseDataLength that leaves out the 12-byte header (the bug newer Samba rejects).
        var noHeader = valid
        put16(&noHeader, 4, UInt16(valid.count - 8 - 12))
        XCTAssertThrowsError(try SymbolicLinkReparseDataBuffer.decode(noHeader))
        var tiny = valid
        put16(&tiny, 4, 11)
        XCTAssertThrowsError(try SymbolicLinkReparseDataBuffer.decode(tiny))
        var wrongTag = valid
        put32(&wrongTag, 0, 0xA000_0003)
        XCTAssertThrowsError(try SymbolicLinkReparseDataBuffer.decode(wrongTag))
        var past = valid
        put16(&past, 12, 0xFFF0)                                // PrintNameOffset past the PathBuffer
        XCTAssertThrowsError(try SymbolicLinkReparseDataBuffer.decode(past))
        var odd = valid
        put16(&odd, 10, 3)                                      // odd UTF-16 length
        XCTAssertThrowsError(try SymbolicLinkReparseDataBuffer.decode(odd))
        var long = valid
        put16(&long, 4, 0xFFFF)                                 // ReparseDataLength past the end
        XCTAssertThrowsError(try SymbolicLinkReparseDataBuffer.decode(long))
        assertPrefixes(valid, failBelow: valid.count) { _ = try SymbolicLinkReparseDataBuffer.decode($0) }
        fuzzBytes(valid) { _ = try SymbolicLinkReparseDataBuffer.decode($0) }
        // Too long for a 16 KiB reparse buffer.
        XCTAssertThrowsError(try SymbolicLinkReparseDataBuffer(target: String(repeating: "a", count: 4100), relative: true).encode())
        XCTAssertNoThrow(try SymbolicLinkReparseDataBuffer(target: String(repeating: "a", count: 4090), relative: true).encode())
    }

    func testGenericReparseBuffer() throws {
        let b: [UInt8] = [0x14, 0, 0, 0x80, 4, 0, 0, 0, 1, 2, 3, 4, 99]
        let r = try REPARSE_DATA_BUFFER.decode(b)
        XCTAssertEqual(r.reparseTag, ReparseTag.IO_REPARSE_TAG_NFS)
        XCTAssertEqual(r.dataBuffer, [1, 2, 3, 4])
        assertPrefixes(b, failBelow: 12) { _ = try REPARSE_DATA_BUFFER.decode($0) }
    }

    // MARK: symlink error response

    /// A Symbolic Link Error Response for `sub`/`print`, with PathBuffer = print then substitute.
    func symlinkError(sub: String, print: String, flags: UInt32 = 1, unparsed: UInt16 = 0) -> [UInt8] {
        let s = UTF16LE.encode(sub), p = UTF16LE.encode(print)
        var w = WireWriter()
        w.u32(UInt32(24 + s.count + p.count))                   // SymLinkLength
        w.u32(0x4C4D_5953)                                      // SymLinkErrorTag
        w.u32(0xA000_000C)                                      // ReparseTag
        w.u16(UInt16(12 + s.count + p.count))                   // ReparseDataLength
        w.u16(unparsed)
        w.u16(UInt16(p.count)); w.u16(UInt16(s.count))          // SubstituteNameOffset/Length
        w.u16(0); w.u16(UInt16(p.count))                        // PrintNameOffset/Length
        w.u32(flags)
        w.bytes(p); w.bytes(s)
        return w.bytes
    }

    func testSymlinkErrorResponse() throws {
        let valid = symlinkError(sub: "..\\target dir", print: "../target dir", unparsed: 10)
        let r = try SymbolicLinkErrorResponse.decode(valid)
        XCTAssertEqual(r.substituteName, "..\\target dir")
        XCTAssertEqual(r.printName, "../target dir")
        XCTAssertTrue(r.isRelative)
        XCTAssertEqual(r.unparsedPathLength, 10)
        XCTAssertEqual(r.reparseTag, 0xA000_000C)
        XCTAssertEqual(Int(r.reparseDataLength), valid.count - 4 - 12)
        XCTAssertEqual(try SymbolicLinkErrorResponse.decode(errorData: valid, errorContextCount: 0), r)
        assertPrefixes(valid, failBelow: valid.count) { _ = try SymbolicLinkErrorResponse.decode($0) }
        fuzzBytes(valid) { _ = try SymbolicLinkErrorResponse.decode($0) }
        for (at, v) in [(0, UInt32(23)), (0, UInt32(valid.count - 3)), (0, 0xFFFF_FFFF), (4, 0x4C4D_5954), (8, 0xA000_0003)] {
            var bad = valid
            put32(&bad, at, v)
            XCTAssertThrowsError(try SymbolicLinkErrorResponse.decode(bad), "field at \(at) = \(v)")
        }
        var past = valid
        put16(&past, 16, 0x7FFE)                                // SubstituteNameOffset past the PathBuffer
        XCTAssertThrowsError(try SymbolicLinkErrorResponse.decode(past))
    }

    func testSymlinkErrorContexts311() throws {
        let sym = symlinkError(sub: "\\??\\C:\\abs", print: "C:\\abs", flags: 0)
        // A share-redirect context first, of a length that needs padding, then the default one.
        var w = WireWriter()
        w.u32(5); w.u32(SMB2ErrorContext.SMB2_ERROR_ID_SHARE_REDIRECT); w.bytes([1, 2, 3, 4, 5])
        w.align(8)
        w.u32(UInt32(sym.count)); w.u32(SMB2ErrorContext.SMB2_ERROR_ID_DEFAULT); w.bytes(sym)
        let data = w.bytes
        let contexts = try SMB2ErrorContext.decodeList(data, count: 2)
        XCTAssertEqual(contexts.map(\.errorId), [0x7264_5253, 0])
        XCTAssertEqual(contexts[0].errorContextData, [1, 2, 3, 4, 5])
        let r = try SymbolicLinkErrorResponse.decode(errorData: data, errorContextCount: 2)
        XCTAssertEqual(r.substituteName, "\\??\\C:\\abs")
        XCTAssertFalse(r.isRelative)
        // Only the redirect context: no symlink.
        XCTAssertThrowsError(try SymbolicLinkErrorResponse.decode(errorData: data, errorContextCount: 1))
        XCTAssertThrowsError(try SymbolicLinkErrorResponse.decode(errorData: data, errorContextCount: 3), "count beyond the data")
        XCTAssertThrowsError(try SMB2ErrorContext.decodeList(data, count: 256))
        var huge = data
        put32(&huge, 0, 0xFFFF_FFF0)                            // ErrorDataLength past the end
        XCTAssertThrowsError(try SymbolicLinkErrorResponse.decode(errorData: huge, errorContextCount: 2))
        assertPrefixes(data, failBelow: data.count) { _ = try SymbolicLinkErrorResponse.decode(errorData: $0, errorContextCount: 2) }
        fuzzBytes(data) { _ = try SymbolicLinkErrorResponse.decode(errorData: $0, errorContextCount: 2) }
    }

    func errorMessage(contextCount: UInt8, data: [UInt8]) -> [UInt8] {
        var w = WireWriter()
        w.u16(9); w.u8(contextCount); w.u8(0); w.u32(UInt32(data.count)); w.bytes(data)
        return responseMessage(.create, body: w.bytes, status: .stoppedOnSymlink)
    }

    func testSymlinkErrorFromMessage() throws {
        let sym = symlinkError(sub: "t", print: "t")
        let plain = errorMessage(contextCount: 0, data: sym)
        XCTAssertEqual(try SymbolicLinkErrorResponse.decode(message: plain).substituteName, "t")
        var w = WireWriter()
        w.u32(UInt32(sym.count)); w.u32(0); w.bytes(sym)
        let ctx = errorMessage(contextCount: 1, data: w.bytes)
        XCTAssertEqual(try SymbolicLinkErrorResponse.decode(message: ctx).substituteName, "t")
        assertPrefixes(ctx, failBelow: ctx.count) { _ = try SymbolicLinkErrorResponse.decode(message: $0) }
        fuzzBytes(ctx) { _ = try SymbolicLinkErrorResponse.decode(message: $0) }
        var bad = plain
        put32(&bad, 64 + 4, 0xFFFF_FFFF)                        // ByteCount past the end
        XCTAssertThrowsError(try SymbolicLinkErrorResponse.decode(message: bad))
        XCTAssertThrowsError(try SymbolicLinkErrorResponse.decode(message: errorMessage(contextCount: 0, data: [])), "no ErrorData")
    }

    // MARK: Minshall–French symlinks

    func testTestMD5() {
        // RFC 1321 appendix A.5.
        XCTAssertEqual(TestMD5.hex(TestMD5.digest([])), "d41d8cd98f00b204e9800998ecf8427e")
        XCTAssertEqual(TestMD5.hex(TestMD5.digest(Array("abc".utf8))), "900150983cd24fb0d6963f7d28e17f72")
        XCTAssertEqual(TestMD5.hex(TestMD5.digest(Array("12345678901234567890123456789012345678901234567890123456789012345678901234567890".utf8))),
                       "57edf4a22be3c955ac49da2e2107b67a")
        XCTAssertEqual(TestMD5.hex(TestMD5.digest(Array("message digest".utf8))), "f96b697d7cb7938d525a2f31aaf161d0")
    }

    func testMFSymlinkLayout() throws {
        let f = try MFSymlink.encode(target: Array("abc".utf8), md5: TestMD5.digest)
        let expectedHead = Array("XSym\n0003\n900150983cd24fb0d6963f7d28e17f72\nabc\n".utf8)
        XCTAssertEqual(f.count, 1067)
        XCTAssertEqual(Array(f.prefix(expectedHead.count)), expectedHead)
        XCTAssertTrue(f[expectedHead.count...].allSatisfy { $0 == 0x20 }, "padded with spaces")
        // A 1024-byte target fills the file exactly: no newline after it.
        let max = [UInt8](repeating: 0x61, count: 1024)
        let g = try MFSymlink.encode(target: max, md5: TestMD5.digest)
        XCTAssertEqual(g.count, 1067)
        XCTAssertEqual(Array(g[5..<10]), Array("1024\n".utf8))
        XCTAssertEqual(Array(g[43...]), max)
        XCTAssertTrue(MFSymlink.isCandidate(size: 1067))
        XCTAssertFalse(MFSymlink.isCandidate(size: 1066))
    }

    func testMFSymlinkRoundTrip() throws {
        for t in ["a", "../x/y", "Grüße 日本 🎉 @%?#:", "with\nnewline", String(repeating: "z", count: 1024)] {
            let target = Array(t.utf8)
            let f = try MFSymlink.encode(target: target, md5: TestMD5.digest)
            XCTAssertEqual(try MFSymlink.decode(f, md5: TestMD5.digest), target)
            let parsed = try MFSymlink.decode(f)
            XCTAssertEqual(parsed.md5, TestMD5.digest(target))
            XCTAssertTrue(parsed.verify(md5: TestMD5.digest))
        }
        // Uppercase hex, as some writers might produce, is read too.
        var upper = try MFSymlink.encode(target: Array("abc".utf8), md5: TestMD5.digest)
        for i in 10..<42 where upper[i] >= 0x61 { upper[i] -= 0x20 }
        XCTAssertEqual(try MFSymlink.decode(upper, md5: TestMD5.digest), Array("abc".utf8))
    }

    func testMFSymlinkRejects() throws {
        let valid = try MFSymlink.encode(target: Array("target".utf8), md5: TestMD5.digest)
        XCTAssertThrowsError(try MFSymlink.decode(Array(valid.prefix(1066))))
        XCTAssertThrowsError(try MFSymlink.decode(valid + [0x20]))
        func patched(_ at: Int, _ s: String) -> [UInt8] {
            var b = valid
            for (i, c) in s.utf8.enumerated() { b[at + i] = c }
            return b
        }
        XCTAssertThrowsError(try MFSymlink.decode(patched(0, "xSym")), "magic")
        XCTAssertThrowsError(try MFSymlink.decode(patched(5, "1025")), "length above 1024")
        XCTAssertThrowsError(try MFSymlink.decode(patched(5, "00a6")), "non-digit length")
        XCTAssertThrowsError(try MFSymlink.decode(patched(5, " 006")), "non-digit length")
        XCTAssertThrowsError(try MFSymlink.decode(patched(9, " ")), "separator")
        XCTAssertThrowsError(try MFSymlink.decode(patched(42, " ")), "separator")
        XCTAssertThrowsError(try MFSymlink.decode(patched(12, "g")), "hex")
        XCTAssertThrowsError(try MFSymlink.decode(patched(43, "\0")), "NUL in target")
        XCTAssertThrowsError(try MFSymlink.decode(patched(43, "T"), md5: TestMD5.digest), "MD5 mismatch")
        XCTAssertThrowsError(try MFSymlink.decode(patched(5, "0005"), md5: TestMD5.digest), "length changed, MD5 mismatch")
        XCTAssertNoThrow(try MFSymlink.decode(patched(5, "0005")), "structure alone still parses")
        XCTAssertThrowsError(try MFSymlink.encode(target: [], md5: TestMD5.digest))
        XCTAssertThrowsError(try MFSymlink.encode(target: [UInt8](repeating: 0x61, count: 1025), md5: TestMD5.digest))
        XCTAssertThrowsError(try MFSymlink.encode(target: [0x61, 0, 0x62], md5: TestMD5.digest))
        XCTAssertThrowsError(try MFSymlink.encode(target: [0x61], md5: { _ in [1, 2, 3] }))
        fuzzBytes(valid) { _ = try MFSymlink.decode($0, md5: TestMD5.digest) }
        // Mutations in the header never yield a wrong target: either an error or the original.
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            var m = valid
            m[Int.random(in: 0..<49, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            if let t = try? MFSymlink.decode(m, md5: TestMD5.digest) { XCTAssertEqual(t, Array("target".utf8)) }
        }
    }
}
