import SMBProtocol
@testable import SMBFS
import XCTest

/// The inode table's bound: which names the kernel is asked to drop, and when.
final class InodeEvictionTests: XCTestCase {
    static func attributes(_ ino: UInt64, _ kind: Attributes.Kind = .file) -> Attributes {
        Attributes(ino: ino, kind: kind, size: 0, permissions: 0o644, nlink: 1, uid: 0, gid: 0,
                   atime: FileTime(rawValue: 0), mtime: FileTime(rawValue: 0), ctime: FileTime(rawValue: 0),
                   allocationSize: 0)
    }

    /// A table with directory `d` (ino 2) holding files `f0`... (inos 100...).
    static func table(files: Int) -> InodeTable {
        var t = InodeTable(rootPath: "")
        t.remember(2, path: "d")
        t.setAttributes(attributes(2, .directory))
        for i in 0..<files {
            t.remember(UInt64(100 + i), path: "d/f\(i)")
            t.setAttributes(attributes(UInt64(100 + i)))
        }
        return t
    }

    func testLeastRecentlyLookedUpFilesGoFirstDownToTheLimit() {
        var t = Self.table(files: 10)
        XCTAssertEqual(t.count, 12)  // root, d, ten files
        XCTAssertEqual(t.evictions(limit: 12, keep: []), [])
        // f0 and f1 looked up again: f2, f3, f4 are now the oldest.
        t.remember(100, path: "d/f0")
        t.remember(101, path: "d/f1")
        let first = t.evictions(limit: 9, keep: [])
        XCTAssertEqual(first, [102, 103, 104].map { InodeTable.Eviction(parent: 2, name: "f\($0 - 100)", ino: $0) })
        // Asked, not yet forgotten: not asked again.
        XCTAssertEqual(t.evictions(limit: 9, keep: []), [])
        XCTAssertEqual(t.count, 12)
        // The kernel's FORGETs come; the count is at the limit.
        for ino: UInt64 in [102, 103, 104] { t.forget(ino, count: 1) }
        XCTAssertEqual(t.count, 9)
        XCTAssertNil(t.path(of: 103))
        XCTAssertEqual(t.path(of: 100), "d/f0")
    }

    func testOpenFilesAndDirectoriesStayAndOpenOnesComeBackLater() {
        var t = Self.table(files: 4)
        // Down to 3 inodes: the root and d are never asked; f0 is open.
        let asked = t.evictions(limit: 3, keep: [100])
        XCTAssertEqual(asked.map(\.ino), [101, 102, 103])
        for e in asked { t.forget(e.ino, count: 1) }
        XCTAssertEqual(t.count, 3)
        // Closed now, f0 is a candidate again, without another lookup.
        XCTAssertEqual(t.evictions(limit: 2, keep: []).map(\.ino), [100])
    }

    func testALookupAfterTheAskKeepsTheFile() {
        var t = Self.table(files: 3)
        XCTAssertEqual(t.evictions(limit: 4, keep: []).map(\.ino), [100])
        // Looked up again before the FORGET came (the kernel made a new entry): the FORGET for
        // the old entry's lookup leaves the node, which is counted as an ordinary one again.
        t.remember(100, path: "d/f0")
        t.forget(100, count: 1)
        XCTAssertEqual(t.path(of: 100), "d/f0")
        XCTAssertEqual(t.evictions(limit: 4, keep: []).map(\.ino), [101])
    }

    func testLookupsOfAFewFilesKeepTheOrderBounded() {
        var t = Self.table(files: 10)
        for _ in 0..<100_000 { t.remember(100, path: "d/f0") }
        // Each pass drops what was read; the record of use stays a small multiple of the nodes.
        XCTAssertEqual(t.evictions(limit: 100, keep: []), [])
        XCTAssertLessThanOrEqual(t.usesHeld, 2 * t.count + 4096)
        XCTAssertEqual(t.evictions(limit: 11, keep: []).map(\.ino), [101])
    }
}
