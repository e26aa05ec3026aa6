@testable import SMBFS
import SMBProtocol
import XCTest

/// Which answers from the server the fresh-attribute cache keeps, and for how long.
final class FreshAttributesTests: XCTestCase {
    let ttl = Duration.seconds(1)

    func attributes(ino: UInt64, size: UInt64, mtime: UInt64 = 100) -> Attributes {
        let t = FileTime(rawValue: mtime)
        let b = FileBasics(creationTime: t, lastAccessTime: t, lastWriteTime: t, changeTime: t,
                           allocationSize: 0, endOfFile: size, fileAttributes: .archive)
        return Ownership(uid: 1, gid: 1).attributes(ino: ino, basics: b)
    }

    func testKeptWithinTheTimeoutUntilChanged() {
        var f = FreshAttributes()
        let t0 = ContinuousClock.now
        f.keep(attributes(ino: 7, size: 10), at: t0, stamp: f.stamp, now: t0, ttl: ttl)
        XCTAssertEqual(f.attributes(of: 7, now: t0, ttl: ttl)?.size, 10)
        XCTAssertNil(f.attributes(of: 7, now: t0 + .seconds(1), ttl: ttl), "kept past the timeout")
        XCTAssertNil(f.attributes(of: 8, now: t0, ttl: ttl))
        f.forget(7)
        XCTAssertNil(f.attributes(of: 7, now: t0, ttl: ttl), "kept after a change")
    }

    func testAnAnswerThatRacedAChangeIsNotKept() {
        var f = FreshAttributes()
        let t0 = ContinuousClock.now
        let asked = f.stamp
        f.forget(7)                      // a write began while the question was on its way
        f.keep(attributes(ino: 7, size: 10), at: t0, stamp: asked, now: t0, ttl: ttl)
        XCTAssertNil(f.attributes(of: 7, now: t0, ttl: ttl))
        // Another inode's change does not matter; asked again after the change, kept.
        let again = f.stamp
        f.forget(9)
        f.keep(attributes(ino: 7, size: 20), at: t0, stamp: again, now: t0, ttl: ttl)
        XCTAssertEqual(f.attributes(of: 7, now: t0, ttl: ttl)?.size, 20)
        let old = f.stamp
        f.forgetAll()
        f.keep(attributes(ino: 9, size: 1), at: t0, stamp: old, now: t0, ttl: ttl)
        XCTAssertNil(f.attributes(of: 7, now: t0, ttl: ttl))
        XCTAssertNil(f.attributes(of: 9, now: t0, ttl: ttl))
    }

    func testTouchMovesTimesForward() {
        var f = FreshAttributes()
        let t0 = ContinuousClock.now
        f.keep(attributes(ino: 3, size: 0, mtime: 100), at: t0, stamp: f.stamp, now: t0, ttl: ttl)
        f.touch(3, time: FileTime(rawValue: 500))
        XCTAssertEqual(f.attributes(of: 3, now: t0, ttl: ttl)?.mtime.rawValue, 500)
        XCTAssertEqual(f.attributes(of: 3, now: t0, ttl: ttl)?.ctime.rawValue, 500)
        f.touch(3, time: FileTime(rawValue: 200))
        XCTAssertEqual(f.attributes(of: 3, now: t0, ttl: ttl)?.mtime.rawValue, 500, "moved back")
    }

    /// However many files change, the table of changes stays bounded; an answer asked before
    /// changes it no longer tells apart is not kept (never a stale answer for a changed file).
    func testChangesOfManyFilesStayBoundedAndSafe() {
        var f = FreshAttributes()
        let t0 = ContinuousClock.now
        let asked = f.stamp
        f.forget(1)
        for ino in UInt64(2)...UInt64(3 * FreshAttributes.changeLimit) { f.forget(ino) }
        XCTAssertLessThanOrEqual(f.changesTracked, FreshAttributes.changeLimit)
        f.keep(attributes(ino: 1, size: 10), at: t0, stamp: asked, now: t0, ttl: ttl)
        XCTAssertNil(f.attributes(of: 1, now: t0, ttl: ttl), "an answer older than a folded change was kept")
        let now = f.stamp
        f.keep(attributes(ino: 1, size: 11), at: t0, stamp: now, now: t0, ttl: ttl)
        XCTAssertEqual(f.attributes(of: 1, now: t0, ttl: ttl)?.size, 11)
    }
}
