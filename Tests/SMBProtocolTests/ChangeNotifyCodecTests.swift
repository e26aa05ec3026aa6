import SMBProtocol
import XCTest

/// CHANGE_NOTIFY (MS-SMB2 2.2.35/2.2.36) and FILE_NOTIFY_INFORMATION (MS-FSCC 2.7.1), laid out
/// field by field; the decoder fed truncations, mutations and hostile offsets.
final class ChangeNotifyCodecTests: XCTestCase {
    let fid = FileId(persistent: 0x0102_0304_0506_0708, volatile: 0x1112_1314_1516_1718)

    func testRequestLayout() {
        let b = ChangeNotifyRequest(fileId: fid, outputBufferLength: 0x4000,
                                    completionFilter: [.fileName, .dirName, .size, .lastWrite]).encodeBody()
        XCTAssertEqual(b.count, 32)
        XCTAssertEqual(le16(b, 0), 32)                          // StructureSize
        XCTAssertEqual(le16(b, 2), 0)                           // Flags: not SMB2_WATCH_TREE
        XCTAssertEqual(le32(b, 4), 0x4000)                      // OutputBufferLength
        XCTAssertEqual(le64(b, 8), fid.persistent)
        XCTAssertEqual(le64(b, 16), fid.volatile)
        XCTAssertEqual(le32(b, 24), 0x1B)                       // FILE_NAME | DIR_NAME | SIZE | LAST_WRITE
        XCTAssertEqual(le32(b, 28), 0)                          // Reserved
    }

    /// Two entries as a server lays them out: the first padded to a 4-byte boundary.
    static func notifyBuffer() -> [UInt8] {
        var b: [UInt8] = []
        func u32(_ v: UInt32) { for i in 0..<4 { b.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) } }
        let first = Array("new.txt".utf16).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }   // 14 bytes
        u32(28); u32(1); u32(UInt32(first.count)); b += first; b += [0, 0]                  // 12 + 14 + 2 = 28
        let second = Array("Grüße".utf16).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        u32(0); u32(5); u32(UInt32(second.count)); b += second
        return b
    }

    func testInformationList() throws {
        let valid = Self.notifyBuffer()
        XCTAssertEqual(try FileNotifyInformation.decodeList(valid),
                       [FileNotifyInformation(action: .added, fileName: "new.txt"),
                        FileNotifyInformation(action: .renamedNewName, fileName: "Grüße")])
        XCTAssertEqual(try FileNotifyInformation.decodeList([]), [])
        assertPrefixes(valid, failBelow: valid.count, from: 1) { _ = try FileNotifyInformation.decodeList($0) }
        fuzzBytes(valid) { _ = try FileNotifyInformation.decodeList($0) }
        // NextEntryOffset inside the same entry, unaligned, or past the end.
        for next: UInt32 in [4, 26, 0xFFFF_FFFC] {
            var bad = valid
            put32(&bad, 0, next)
            XCTAssertThrowsError(try FileNotifyInformation.decodeList(bad), "NextEntryOffset \(next)")
        }
        // A name longer than the buffer, and an odd UTF-16 length.
        for length: UInt32 in [0xFFFF, 13] {
            var bad = valid
            put32(&bad, 8, length)
            XCTAssertThrowsError(try FileNotifyInformation.decodeList(bad), "FileNameLength \(length)")
        }
    }

    func testResponseBufferBoundedByOutputBufferLength() throws {
        let list = Self.notifyBuffer()
        var body: [UInt8] = [9, 0, 64 + 8, 0]
        body += [UInt8(list.count), 0, 0, 0]
        body += list
        let m = responseMessage(.changeNotify, body: body)
        XCTAssertEqual(try ChangeNotifyRequest.decodeResponse(message: m, maxLength: 4096).count, 2)
        // More than was asked for is refused rather than read.
        XCTAssertThrowsError(try ChangeNotifyRequest.decodeResponse(message: m, maxLength: 16))
        fuzzBytes(m) { _ = try ChangeNotifyRequest.decodeResponse(message: $0, maxLength: 4096) }
    }
}
