import SMBProtocol
import XCTest

/// Extended attributes (MS-FSCC 2.4.15, 2.4.15.1), FileLinkInformation (2.4.27.2) and
/// FileStandardInformation (2.4.41).
final class InfoClassCodecTests: XCTestCase {
    func testFullEaLayout() throws {
        let b = try FileFullEaInformation.encodeList([FileFullEaInformation(name: "user.a", value: [1, 2, 3]),
                                                      FileFullEaInformation(name: "B", value: [], flags: FileFullEaInformation.FILE_NEED_EA)])
        // Entry 1: 8 fixed + 6 name + NUL + 3 value = 18, padded to 20.
        XCTAssertEqual(le32(b, 0), 20)                          // NextEntryOffset
        XCTAssertEqual(b[4], 0)                                 // Flags
        XCTAssertEqual(b[5], 6)                                 // EaNameLength: NUL not counted
        XCTAssertEqual(le16(b, 6), 3)                           // EaValueLength
        XCTAssertEqual(Array(b[8..<14]), Array("user.a".utf8))
        XCTAssertEqual(b[14], 0)                                // terminating NUL
        XCTAssertEqual(Array(b[15..<18]), [1, 2, 3])
        XCTAssertEqual(Array(b[18..<20]), [0, 0])               // alignment padding
        // Entry 2, the last: no NextEntryOffset, no padding after it; empty value = delete.
        XCTAssertEqual(le32(b, 20), 0)
        XCTAssertEqual(b[24], 0x80)                             // FILE_NEED_EA
        XCTAssertEqual(b[25], 1)
        XCTAssertEqual(le16(b, 26), 0)
        XCTAssertEqual(Array(b[28...]), [0x42, 0])
        XCTAssertEqual(FileFullEaInformation.fileInformationClass, 15)
    }

    func testFullEaEncodeRejects() {
        func enc(_ name: String, _ value: [UInt8] = [1]) throws { _ = try FileFullEaInformation.encodeList([FileFullEaInformation(name: name, value: value)]) }
        XCTAssertThrowsError(try enc(""))
        XCTAssertThrowsError(try enc(String(repeating: "n", count: 256)))
        XCTAssertNoThrow(try enc(String(repeating: "n", count: 255)))
        XCTAssertThrowsError(try enc("a\u{0}b"))
        XCTAssertThrowsError(try enc("Grüße"))
        XCTAssertThrowsError(try enc("tab\t"))
        XCTAssertThrowsError(try enc("v", [UInt8](repeating: 0, count: 65536)))
        XCTAssertNoThrow(try enc("v", [UInt8](repeating: 0, count: 65535)))
        XCTAssertThrowsError(try FileFullEaInformation.encodeList([]))
        XCTAssertThrowsError(try FileFullEaInformation.encodeList(Array(repeating: FileFullEaInformation(name: "a", value: []), count: 1025)))
    }

    func testFullEaDecode() throws {
        let list = [FileFullEaInformation(name: "USER.COMMENT", value: Array("hello".utf8)),
                    FileFullEaInformation(name: "X", value: []),
                    FileFullEaInformation(name: "BIG", value: [UInt8](repeating: 7, count: 300), flags: 0x80)]
        let valid = try FileFullEaInformation.encodeList(list)
        XCTAssertEqual(try FileFullEaInformation.decodeList(valid), list)
        XCTAssertEqual(try FileFullEaInformation.decodeList([]), [])
        assertPrefixes(valid, failBelow: valid.count, from: 1) { _ = try FileFullEaInformation.decodeList($0) }
        fuzzBytes(valid) { _ = try FileFullEaInformation.decodeList($0) }
        var noNul = valid
        noNul[8 + 12] = 0x41                                    // the first name's NUL
        XCTAssertThrowsError(try FileFullEaInformation.decodeList(noNul))
        // NextEntryOffset pointing back into the entry, to itself, or past the end.
        for next: UInt32 in [4, 8, 24, 0xFFFF_FFFC] {
            var bad = valid
            put32(&bad, 0, next)
            XCTAssertThrowsError(try FileFullEaInformation.decodeList(bad), "NextEntryOffset \(next)")
        }
        var longValue = valid
        put16(&longValue, 6, 0xFFFF)                            // EaValueLength past the end
        XCTAssertThrowsError(try FileFullEaInformation.decodeList(longValue))
        // Unaligned but in-bounds, non-overlapping entries are accepted (receivers ignore padding).
        var w = WireWriter()
        w.u32(10); w.u8(0); w.u8(1); w.u16(0); w.bytes([0x41, 0])
        w.u32(0); w.u8(0); w.u8(1); w.u16(1); w.bytes([0x42, 0, 9])
        XCTAssertEqual(try FileFullEaInformation.decodeList(w.bytes).map(\.name), ["A", "B"])
    }

    func testFullEaDecodeEntryLimit() throws {
        var w = WireWriter()
        for i in 0...FileFullEaInformation.maxEntries {
            w.u32(i == FileFullEaInformation.maxEntries ? 0 : 12); w.u8(0); w.u8(1); w.u16(0); w.bytes([0x41, 0, 0, 0])
        }
        XCTAssertThrowsError(try FileFullEaInformation.decodeList(w.bytes), "1025 entries")
    }

    func testGetEaLayout() throws {
        let one = try FileGetEaInformation.encode("user.x")
        XCTAssertEqual(le32(one, 0), 0)                         // NextEntryOffset
        XCTAssertEqual(one[4], 6)                               // EaNameLength
        XCTAssertEqual(Array(one[5..<11]), Array("user.x".utf8))
        XCTAssertEqual(one[11], 0)
        XCTAssertEqual(one.count, 12)
        let two = try FileGetEaInformation.encodeList(["AB", "C"])
        XCTAssertEqual(le32(two, 0), 8)                         // 4 + 1 + 2 + NUL = 8, already aligned
        XCTAssertEqual(two[4], 2)
        XCTAssertEqual(Array(two[5..<8]), [0x41, 0x42, 0])
        XCTAssertEqual(le32(two, 8), 0)
        XCTAssertEqual(two[12], 1)
        XCTAssertEqual(Array(two[13...]), [0x43, 0])
        let three = try FileGetEaInformation.encodeList(["A", "B"])
        XCTAssertEqual(le32(three, 0), 8)                       // 4 + 1 + 1 + NUL = 7, padded to 8
        XCTAssertEqual(three[7], 0)
        XCTAssertThrowsError(try FileGetEaInformation.encode(""))
        XCTAssertThrowsError(try FileGetEaInformation.encodeList([]))
    }

    func testLinkInformationLayout() throws {
        let name = UTF16LE.encode("dir\\hard link")
        let b = try FileLinkInformation(fileName: "dir\\hard link", replaceIfExists: true).encode()
        XCTAssertEqual(b.count, 20 + name.count)
        XCTAssertEqual(b[0], 1)                                 // ReplaceIfExists
        XCTAssertEqual(Array(b[1..<8]), [0, 0, 0, 0, 0, 0, 0])  // Reserved
        XCTAssertEqual(le64(b, 8), 0)                           // RootDirectory
        XCTAssertEqual(Int(le32(b, 16)), name.count)            // FileNameLength
        XCTAssertEqual(Array(b[20...]), name)
        XCTAssertEqual(try FileLinkInformation(fileName: "x").encode()[0], 0)
        XCTAssertThrowsError(try FileLinkInformation(fileName: "").encode())
        XCTAssertEqual(FileLinkInformation.fileInformationClass, 11)
    }

    /// FileAllInformation (MS-FSCC 2.4.2): the fixed part, then FileNameInformation; a name cut
    /// short (STATUS_BUFFER_OVERFLOW) or not UTF-16 is nil, the rest decoded all the same.
    func testAllInformationWithItsName() throws {
        func buffer(name: [UInt8], declared: Int? = nil) -> [UInt8] {
            var w = WireWriter()
            for t in [1, 2, 3, 4] as [UInt64] { w.u64(t) }
            w.u32(0x20); w.u32(0)                             // FileAttributes, Reserved
            w.u64(8192); w.u64(5000); w.u32(2); w.u8(0); w.u8(0); w.u16(0)
            w.u64(77)                                         // IndexNumber
            w.u32(0); w.u32(0x0012_019F); w.u64(0); w.u32(0); w.u32(0)
            w.u32(UInt32(declared ?? name.count))
            w.bytes(name)
            return w.bytes
        }
        let full = try FileAllInformation.decode(buffer(name: UTF16LE.encode("\\dir\\Case.txt")))
        XCTAssertEqual(full.fileName, "\\dir\\Case.txt")
        XCTAssertEqual(full.numberOfLinks, 2)
        XCTAssertEqual(full.indexNumber, 77)
        XCTAssertEqual(full.basics.endOfFile, 5000)
        let cut = try FileAllInformation.decode(buffer(name: UTF16LE.encode("\\dir"), declared: 400))
        XCTAssertNil(cut.fileName)
        XCTAssertEqual(cut.indexNumber, 77)
        XCTAssertNil(try FileAllInformation.decode(buffer(name: [0x00, 0xDC])).fileName)
        // Only the fixed part up to IndexNumber is required.
        assertPrefixes(buffer(name: []), failBelow: 72) { _ = try FileAllInformation.decode($0) }
    }

    func testStandardInformation() throws {
        var w = WireWriter()
        w.u64(8192); w.u64(5000); w.u32(3); w.u8(1); w.u8(0); w.u16(0)
        let valid = w.bytes
        let s = try FileStandardInformation.decode(valid)
        XCTAssertEqual(s, FileStandardInformation(allocationSize: 8192, endOfFile: 5000, numberOfLinks: 3, deletePending: true, directory: false))
        assertPrefixes(valid, failBelow: 22) { _ = try FileStandardInformation.decode($0) }
        XCTAssertEqual(FileStandardInformation.fileInformationClass, FileInformationClass.fileStandardInformation.rawValue)
    }
}
