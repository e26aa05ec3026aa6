@testable import SMBFS
import SMBProtocol
import XCTest

/// What stat shows between the server's answers: the time of this mount's last write, and the
/// link count last given, as values.
final class WrittenFilesTests: XCTestCase {
    let owner = Ownership(uid: 1000, gid: 1000)

    func attributes(ino: UInt64, mtime: UInt64, ctime: UInt64) -> Attributes {
        let b = FileBasics(creationTime: FileTime(rawValue: 1), lastAccessTime: FileTime(rawValue: 1),
                           lastWriteTime: FileTime(rawValue: mtime), changeTime: FileTime(rawValue: ctime),
                           allocationSize: 0, endOfFile: 5, fileAttributes: .archive)
        return owner.attributes(ino: ino, basics: b)
    }

    func testALocalWriteIsNeverShownOlderThanItWas() {
        var w = WrittenFiles()
        w.wrote(7, at: FileTime(rawValue: 500))
        // The server's times lag behind the write: the write's time is shown.
        var a = attributes(ino: 7, mtime: 100, ctime: 100)
        w.overlay(&a)
        XCTAssertEqual(a.mtime.rawValue, 500)
        XCTAssertEqual(a.ctime.rawValue, 500)
        // A newer time from the server (another client wrote since) stands.
        var b = attributes(ino: 7, mtime: 900, ctime: 600)
        w.overlay(&b)
        XCTAssertEqual(b.mtime.rawValue, 900)
        XCTAssertEqual(b.ctime.rawValue, 600)
        // Other inodes are untouched; once the server holds the time, its own is shown.
        var c = attributes(ino: 8, mtime: 100, ctime: 100)
        w.overlay(&c)
        XCTAssertEqual(c.mtime.rawValue, 100)
        XCTAssertEqual(times(w.closing(7)), [nil, 500, 500], "the close sets the write's time as last-write and change")
        w.timeSettled(7)
        var d = attributes(ino: 7, mtime: 100, ctime: 100)
        w.overlay(&d)
        XCTAssertEqual(d.mtime.rawValue, 100)
        XCTAssertNil(w.closing(7))
    }

    /// (lastAccess, lastWrite, change) of a FileBasicInformation set, raw.
    func times(_ info: FileSetInformation?) -> [UInt64?]? {
        guard case .basic(nil, let a, let w, let c, nil)? = info else { return nil }
        return [a?.rawValue, w?.rawValue, c?.rawValue]
    }

    /// Times set while the file is open for writing (tar's futimens) are shown at once, older
    /// than the server's or not, and set by the close instead of the write's time; a write
    /// after them moves the mtime on again, the atime set stays.
    func testTimesSetWhileOpenGoWithTheClose() {
        var w = WrittenFiles()
        w.wrote(7, at: FileTime(rawValue: 500))
        w.set(7, atime: FileTime(rawValue: 20), mtime: FileTime(rawValue: 30))
        var a = attributes(ino: 7, mtime: 400, ctime: 400)
        w.overlay(&a)
        XCTAssertEqual([a.atime.rawValue, a.mtime.rawValue], [20, 30], "times older than the server's are shown")
        XCTAssertEqual(times(w.closing(7)), [20, 30, nil], "an explicit mtime leaves the change time to the server")
        w.set(7, atime: nil, mtime: FileTime(rawValue: 40))
        XCTAssertEqual(times(w.closing(7)), [20, 40, nil], "a second set replaces only what it names")
        w.wrote(7, at: FileTime(rawValue: 600))
        XCTAssertEqual(times(w.closing(7)), [20, 600, 600], "a write after the set moves the mtime on")
        var b = attributes(ino: 7, mtime: 400, ctime: 400)
        w.overlay(&b)
        XCTAssertEqual([b.atime.rawValue, b.mtime.rawValue], [20, 600])
        w.timeSettled(7)
        XCTAssertNil(w.closing(7))
        var c = attributes(ino: 7, mtime: 400, ctime: 400)
        w.overlay(&c)
        XCTAssertEqual([c.atime.rawValue, c.mtime.rawValue], [1, 400], "settled: the server's times again")
    }

    /// A file removed from the server leaves nothing noted: its times, explicit times, ctime
    /// and owed flush all go, so the tables hold the files in use, not every file removed.
    func testARemovedFileLeavesNothingBehind() {
        var w = WrittenFiles()
        for ino in UInt64(1)...1000 {
            w.wrote(ino, at: FileTime(rawValue: 500))
            w.set(ino, atime: FileTime(rawValue: 300), mtime: nil)
            w.changed(ino, at: FileTime(rawValue: 600))
        }
        w.wrote(5000, at: FileTime(rawValue: 700))
        for ino in UInt64(1)...1000 { w.removed(ino) }
        XCTAssertEqual(w.inodesNoted, 1)
        XCTAssertFalse(w.needsFlush(7))
        XCTAssertNil(w.closing(7))
        var a = attributes(ino: 7, mtime: 100, ctime: 100)
        w.overlay(&a)
        XCTAssertEqual(a.mtime.rawValue, 100)
        XCTAssertEqual(a.ctime.rawValue, 100)
        XCTAssertTrue(w.needsFlush(5000), "another file's owed flush went too")
    }

    func testAFlushIsOwedUntilDone() {
        var w = WrittenFiles()
        XCTAssertFalse(w.needsFlush(3))
        w.wrote(3, at: FileTime(rawValue: 1))
        XCTAssertTrue(w.needsFlush(3))
        w.timeSettled(3)
        XCTAssertTrue(w.needsFlush(3), "setting the time at close is no FLUSH")
        w.flushed(3)
        XCTAssertFalse(w.needsFlush(3))
    }

    func testLinkCountsLastGivenStandInForListings() {
        var t = InodeTable(rootPath: "")
        XCTAssertEqual(t.links(of: 9, known: nil), 1, "never asked: one link")
        XCTAssertEqual(t.links(of: 9, known: 3), 3)
        XCTAssertEqual(t.links(of: 9, known: nil), 3, "a listing shows the count last given")
        t.unlinked(9, path: "x")
        XCTAssertEqual(t.links(of: 9, known: nil), 2)
        t.unlinked(9, path: "x")
        XCTAssertEqual(t.links(of: 9, known: nil), 1)
        XCTAssertEqual(t.links(of: 4, known: 2), 2)
        XCTAssertEqual(t.links(of: 4, known: 1), 1, "the server's answer replaces it")
        XCTAssertEqual(t.links(of: 4, known: nil), 1)
        _ = t.links(of: 5, known: 2)
        t.unlinked(nil, path: "x")
        XCTAssertEqual(t.links(of: 5, known: nil), 1, "a removal of an unknown inode keeps no counts")
    }

    /// A rename moves what is known at and below the old path: a directory with its whole known
    /// tree, a file alone, a directory whose entries the kernel forgot alone; other directories
    /// sharing a prefix of the name stay.
    func testRenameMovesWhatIsKnownBelow() {
        var t = InodeTable(rootPath: "")
        var ino: UInt64 = 100
        func add(_ p: String) -> UInt64 {
            ino += 1
            t.remember(ino, path: p)
            return ino
        }
        let d = add("d"), sub = add("d/sub"), f = add("d/sub/f"), g = add("d/g"), dd = add("dd"), other = add("dd/x")
        t.rename(from: "d", to: "e")
        XCTAssertEqual([d, sub, f, g].map { t.path(of: $0) }, ["e", "e/sub", "e/sub/f", "e/g"])
        XCTAssertEqual([dd, other].map { t.path(of: $0) }, ["dd", "dd/x"], "a sibling sharing the prefix moved")
        XCTAssertNil(t.ino(atPath: "d/sub/f"))
        t.rename(from: "e/sub/f", to: "e/f2")
        XCTAssertEqual(t.path(of: f), "e/f2")
        XCTAssertEqual(t.ino(atPath: "e/f2"), f)
        // The kernel forgets what was below e/sub: the directory then moves alone, and what is
        // remembered below its new name later is found there.
        t.forget(f, count: 1)
        t.rename(from: "e/sub", to: "e/sub2")
        XCTAssertEqual(t.path(of: sub), "e/sub2")
        let h = add("e/sub2/h")
        t.rename(from: "e", to: "top")
        XCTAssertEqual([d, sub, h, g].map { t.path(of: $0) }, ["top", "top/sub2", "top/sub2/h", "top/g"])
    }

    /// A file seen under a second name (a hard link, the server counting two links) lives on
    /// under the first when the second is removed; a name seen with one link replaces the old.
    func testAnInodeLivesOnUnderItsOtherNames() {
        var t = InodeTable(rootPath: "")
        XCTAssertEqual(t.number(for: "d/a", fileId: 7, nlink: 1), 7)
        t.remember(7, path: "d/a")
        XCTAssertEqual(t.number(for: "d/b", fileId: 7, nlink: 2), 7)
        XCTAssertEqual(t.path(of: 7), "d/b")
        t.rename(from: "d", to: "e")
        t.unlinked(7, path: "e/b")
        XCTAssertEqual(t.path(of: 7), "e/a")
        XCTAssertEqual(t.ino(atPath: "e/a"), 7)
        XCTAssertNil(t.ino(atPath: "e/b"))

        t.remember(8, path: "x")
        _ = t.number(for: "x", fileId: 8, nlink: 1)
        _ = t.number(for: "y", fileId: 8, nlink: 1)
        t.unlinked(8, path: "y")
        XCTAssertEqual(t.path(of: 8), "y", "a stale name is not kept as another")
    }
}
