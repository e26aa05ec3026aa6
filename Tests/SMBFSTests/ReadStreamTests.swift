@testable import SMBFS
import XCTest

/// Sequential-read detection and the chunks planned and assembled for read-ahead.
final class ReadStreamTests: XCTestCase {
    let mib = 1 << 20

    func testReadAheadStartsAfterTwoChunksInOrder() {
        var s = ReadStream(ino: 5)
        for i in 0..<2 {
            XCTAssertTrue(s.note(offset: UInt64(i * mib), size: mib, chunk: mib).isEmpty)
            XCTAssertFalse(s.streaming(chunk: mib), "streaming after \(i + 1) chunks")
        }
        _ = s.note(offset: UInt64(2 * mib), size: mib, chunk: mib)
        XCTAssertTrue(s.streaming(chunk: mib))
        XCTAssertEqual(s.next, UInt64(3 * mib))
    }

    func testReadsArrivingOutOfOrderStayInTheStream() {
        var s = ReadStream(ino: 5)
        _ = s.note(offset: 0, size: mib, chunk: mib)
        _ = s.note(offset: UInt64(2 * mib), size: mib, chunk: mib)   // the kernel's read-ahead first
        _ = s.note(offset: UInt64(mib), size: mib, chunk: mib)
        XCTAssertEqual(s.next, UInt64(3 * mib), "a late read moved the stream back")
        XCTAssertTrue(s.streaming(chunk: mib))
    }

    func testAJumpStartsAgainAndGivesBackTheChunks() {
        var s = ReadStream(ino: 5)
        for i in 0..<4 { _ = s.note(offset: UInt64(i * mib), size: mib, chunk: mib) }
        s.chunks[4] = ReadStream.Chunk(task: Task { [] }, asked: .now)
        let dropped = s.note(offset: UInt64(100 * mib), size: 4096, chunk: mib)
        XCTAssertEqual(dropped.count, 1)
        XCTAssertTrue(s.chunks.isEmpty)
        XCTAssertFalse(s.streaming(chunk: mib))
        XCTAssertEqual(s.next, UInt64(100 * mib + 4096))
    }

    func testPlanStopsAtTheEndOfTheFile() {
        let p = ReadStream.plan(offset: UInt64(3 * mib), size: mib, chunk: mib, ahead: 8 * mib, fileSize: UInt64(6 * mib + 10))
        XCTAssertEqual(p.needed, 3...3)
        XCTAssertEqual(p.ahead, 4..<7, "chunk 6 holds the last 10 bytes; none past it")
        let unknown = ReadStream.plan(offset: UInt64(3 * mib), size: mib, chunk: mib, ahead: 8 * mib, fileSize: nil)
        XCTAssertEqual(unknown.ahead, 4..<12)
        let spanning = ReadStream.plan(offset: UInt64(mib - 10), size: 20, chunk: mib, ahead: 0, fileSize: nil)
        XCTAssertEqual(spanning.needed, 0...1)
        XCTAssertTrue(spanning.ahead.isEmpty)
    }

    func testAssembleAcrossChunksAndShortChunks() {
        let c = 16
        let data: [ArraySlice<UInt8>] = [[UInt8](0..<16)[...], [UInt8](16..<32)[...], [UInt8](32..<40)[...]]
        XCTAssertEqual(ReadStream.assemble(offset: 3, size: 5, chunk: c, needed: 0...0, data: [data[0]]).map { Array($0.joined()) },
                       [3, 4, 5, 6, 7])
        XCTAssertEqual(ReadStream.assemble(offset: 10, size: 25, chunk: c, needed: 0...2, data: data).map { Array($0.joined()) },
                       Array(10..<35))
        XCTAssertEqual(ReadStream.assemble(offset: 10, size: 25, chunk: c, needed: 0...2, data: data)?.count, 3,
                       "one piece per chunk, not a copy")
        XCTAssertNil(ReadStream.assemble(offset: 30, size: 12, chunk: c, needed: 1...2, data: [data[1], data[2]]),
                     "a chunk cut short at the end of the file answered a read past it")
        // A slice of a response, not starting at index 0.
        let inside = [UInt8](0..<64)[20..<36]
        XCTAssertEqual(ReadStream.assemble(offset: 2, size: 3, chunk: c, needed: 0...0, data: [inside]).map { Array($0.joined()) },
                       [22, 23, 24])
    }
}
