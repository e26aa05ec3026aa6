import SMBProtocol
import XCTest

/// Interix (SFU) special files: the bytes each kind is kept as, what is read back, and what is
/// an ordinary file.
final class InterixSpecialFileTests: XCTestCase {
    func testEachKindRoundTrips() {
        let kinds: [InterixSpecialFile] = [.fifo, .socket, .characterDevice(major: 1, minor: 3),
                                           .blockDevice(major: 259, minor: 0x12345), .characterDevice(major: 0xfff_ffff, minor: 0)]
        for k in kinds { XCTAssertEqual(InterixSpecialFile.decode(k.encode()), k, "\(k)") }
        XCTAssertEqual(InterixSpecialFile.fifo.encode(), [])
        XCTAssertEqual(InterixSpecialFile.socket.encode(), [0])
        // "IntxCHR\0", major 1 and minor 3 as 64-bit little-endian numbers.
        XCTAssertEqual(InterixSpecialFile.characterDevice(major: 1, minor: 3).encode(),
                       [0x49, 0x6e, 0x74, 0x78, 0x43, 0x48, 0x52, 0, 1, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0])
    }

    /// The tags older Linux clients wrote read as FIFO and socket.
    func testLinuxTagsRead() {
        XCTAssertEqual(InterixSpecialFile.decode(Array("LnxFIFO\0".utf8)), .fifo)
        XCTAssertEqual(InterixSpecialFile.decode(Array("LnxSOCK\0".utf8)), .socket)
        XCTAssertEqual(InterixSpecialFile.decode(Array("LnxFIFO\0".utf8) + [UInt8](repeating: 0, count: 16)), .fifo)
    }

    /// Anything else is an ordinary file: other content, other lengths, a truncated record.
    func testOtherContentIsAnOrdinaryFile() {
        for b: [UInt8] in [[1], Array("IntxCHR\0".utf8), Array("IntxCHR\0".utf8) + [1, 0, 0], Array("hello world\n".utf8),
                           Array("IntxBLK\0".utf8) + [UInt8](repeating: 0, count: 17), Array("IntxLNK\u{1}".utf8),
                           Array("LnxFIFO\0".utf8) + [1] + [UInt8](repeating: 0, count: 15), [0, 0]] {
            XCTAssertNil(InterixSpecialFile.decode(b), "\(b)")
        }
        XCTAssertTrue(InterixSpecialFile.isCandidate(attributes: [.system, .archive], size: 24))
        XCTAssertFalse(InterixSpecialFile.isCandidate(attributes: [.archive], size: 0))
        XCTAssertFalse(InterixSpecialFile.isCandidate(attributes: [.system], size: 25))
        XCTAssertFalse(InterixSpecialFile.isCandidate(attributes: [.system, .directory], size: 0))
    }
}
