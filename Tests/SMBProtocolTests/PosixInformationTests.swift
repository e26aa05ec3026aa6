import SMBProtocol
import XCTest

/// FilePosixInformation and its directory form (POSIX-FSCC 2.3.1, 2.2.1): field offsets, the
/// mode's type numbering, variable-length SIDs, and every truncation refused.
final class PosixInformationTests: XCTestCase {
    func info(mode: UInt32, owner: SID, group: SID) -> [UInt8] {
        var w = WireWriter()
        for t in 1...4 { w.u64(0x01D0_0000_0000_0000 + UInt64(t)) }
        w.u64(5); w.u64(4096)                            // EndOfFile, AllocationSize
        w.u32(0x20)                                       // archive
        w.u64(0x1122_3344_5566); w.u32(0x803); w.u32(0)   // Inode, DeviceId, Reserved
        w.u32(2); w.u32(0); w.u32(mode)                   // HardLinks, ReparseTag, Mode
        owner.encode(into: &w); group.encode(into: &w)
        return w.bytes
    }

    func testFieldsAtTheirOffsets() throws {
        let b = info(mode: 0o1_4751, owner: .unixUser(1234), group: .unixGroup(4321))
        XCTAssertEqual(b.count, 80 + 16 + 16)
        let i = try FilePosixInformation.decode(b)
        XCTAssertEqual(i.basics.endOfFile, 5)
        XCTAssertEqual(i.basics.allocationSize, 4096)
        XCTAssertEqual(i.basics.lastWriteTime, FileTime(rawValue: 0x01D0_0000_0000_0003))
        XCTAssertEqual(i.basics.fileAttributes, [.archive])
        XCTAssertEqual(i.inode, 0x1122_3344_5566)
        XCTAssertEqual(i.deviceId, 0x803)
        XCTAssertEqual(i.hardLinks, 2)
        XCTAssertEqual(i.mode.permissions, 0o4751)
        XCTAssertEqual(i.mode.fileType, .directory)      // type 1 in bits 12-14, not S_IFDIR
        XCTAssertEqual(i.owner, .unixUser(1234))
        XCTAssertEqual(i.group, .unixGroup(4321))
        for (raw, type) in [(0o0_0644, PosixMode.FileType.regular), (0o2_0777, .symlink), (0o3_0600, .characterDevice),
                            (0o4_0600, .blockDevice), (0o5_0640, .fifo), (0o6_0755, .socket), (0o0_2777, .regular)] {
            XCTAssertEqual(PosixMode(rawValue: UInt32(raw)).fileType, type)
        }
        XCTAssertNil(PosixMode(rawValue: 0o7_0000).fileType)
        XCTAssertEqual(PosixMode(rawValue: 0o5_0640).permissions, 0o640)
        for n in 0..<b.count { XCTAssertThrowsError(try FilePosixInformation.decode(Array(b.prefix(n))), "\(n) bytes") }
    }

    func testDirectoryEntriesChain() throws {
        let owner = SID(string: "S-1-5-21-1-2-3-1000")!
        var w = WireWriter()
        for (k, name) in ["a", "Ä b"].enumerated() {
            let start = w.count
            w.u32(0); w.u32(0)
            w.bytes(info(mode: UInt32(0o644 + k), owner: owner, group: .unixGroup(100)))
            let n = UTF16LE.encode(name)
            w.u32(UInt32(n.count)); w.bytes(n)
            if k == 0 {
                w.align(8)
                w.patchU32(at: start, UInt32(w.count - start))
            }
        }
        let entries = try PosixDirectoryInformation.decodeList(w.bytes)
        XCTAssertEqual(entries.map(\.name), ["a", "Ä b"])
        XCTAssertEqual(entries.map(\.info.mode.permissions), [0o644, 0o645])
        XCTAssertEqual(entries[0].info.owner, owner)
        for n in 1..<w.bytes.count { _ = try? PosixDirectoryInformation.decodeList(Array(w.bytes.prefix(n))) }
        // A next offset that points inside the entry is refused.
        var bad = w.bytes
        bad[0] = 8; bad[1] = 0
        XCTAssertThrowsError(try PosixDirectoryInformation.decodeList(bad))
    }
}
