import SMBProtocol
import XCTest

/// NFS reparse points for special files (MS-FSCC 2.1.2.6) and the POSIX create context's
/// response (POSIX-SMB2 2.1.3.2.1): the bytes Samba 4.22 stored and sent, and every truncation.
final class NFSReparseDataTests: XCTestCase {
    /// FSCTL_GET_REPARSE_POINT of `mknod chr c 5 1` made through a POSIX mount, and the FIFO's
    /// xattr (user.SmbReparse) on Samba 4.22's disk.
    let samba: [(InterixSpecialFile, [UInt8])] = [
        (.characterDevice(major: 5, minor: 1), [20, 0, 0, 128, 16, 0, 0, 0, 67, 72, 82, 0, 0, 0, 0, 0, 5, 0, 0, 0, 1, 0, 0, 0]),
        (.fifo, [0x14, 0, 0, 0x80, 8, 0, 0, 0, 0x46, 0x49, 0x46, 0x4F, 0, 0, 0, 0]),
    ]

    func testSambasBytes() throws {
        for (special, bytes) in samba {
            XCTAssertEqual(NFSReparseData.decode(try REPARSE_DATA_BUFFER.decode(bytes)), special)
            XCTAssertEqual(NFSReparseData.encode(special), bytes)
        }
    }

    func testEveryTypeRoundTripsAndOthersAreRefused() throws {
        for s: InterixSpecialFile in [.fifo, .socket, .characterDevice(major: 0, minor: 0),
                                      .blockDevice(major: 0xFFFF_FFFF, minor: 7)] {
            let b = try XCTUnwrap(NFSReparseData.encode(s))
            XCTAssertEqual(NFSReparseData.decode(try REPARSE_DATA_BUFFER.decode(b)), s)
        }
        // Device numbers the 32-bit fields cannot hold are not cut.
        XCTAssertNil(NFSReparseData.encode(.characterDevice(major: 1 << 32, minor: 0)))
        // Another tag, an NFS symlink ("LNK"), an unknown type, a device without its numbers.
        XCTAssertNil(NFSReparseData.decode(REPARSE_DATA_BUFFER(reparseTag: ReparseTag.IO_REPARSE_TAG_SYMLINK, dataBuffer: samba[1].1)))
        XCTAssertNil(NFSReparseData.decode(REPARSE_DATA_BUFFER(reparseTag: ReparseTag.IO_REPARSE_TAG_NFS,
                                                               dataBuffer: [0x4C, 0x4E, 0x4B, 0, 0, 0, 0, 0, 0x61, 0])))
        XCTAssertNil(NFSReparseData.decode(REPARSE_DATA_BUFFER(reparseTag: ReparseTag.IO_REPARSE_TAG_NFS, dataBuffer: [1, 2, 3, 4, 5, 6, 7, 8])))
        XCTAssertNil(NFSReparseData.decode(REPARSE_DATA_BUFFER(reparseTag: ReparseTag.IO_REPARSE_TAG_NFS,
                                                               dataBuffer: Array(samba[0].1[8..<20]))))
        for n in 0..<8 {
            XCTAssertNil(NFSReparseData.decode(REPARSE_DATA_BUFFER(reparseTag: ReparseTag.IO_REPARSE_TAG_NFS, dataBuffer: Array(repeating: 0x46, count: n))))
        }
    }

    func testPosixCreateResponse() throws {
        var w = WireWriter()
        w.u32(2); w.u32(ReparseTag.IO_REPARSE_TAG_NFS); w.u32(0o5_0640)
        SID.unixUser(1234).encode(into: &w)
        SID(string: "S-1-5-21-3835360259-2503176118-269074607-1000")!.encode(into: &w)
        let r = try PosixCreateResponse.decode(w.bytes)
        XCTAssertEqual(r.hardLinks, 2)
        XCTAssertEqual(r.mode.fileType, .fifo)
        XCTAssertEqual(r.mode.permissions, 0o640)
        XCTAssertEqual(r.owner.unixUID, 1234)
        XCTAssertNil(r.group.unixGID)
        XCTAssertEqual(PosixCreateResponse.find(in: [CreateContext(name: posixExtensionsTag, data: w.bytes)]), r)
        XCTAssertNil(PosixCreateResponse.find(in: [CreateContext(name: Array("QFid".utf8), data: w.bytes)]))
        for n in 0..<w.bytes.count {
            XCTAssertThrowsError(try PosixCreateResponse.decode(Array(w.bytes.prefix(n))), "\(n) bytes")
        }
    }
}
