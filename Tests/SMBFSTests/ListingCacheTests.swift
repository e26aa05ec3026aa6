@testable import SMBFS
import SMBProtocol
import XCTest

/// The listing cache as a value: which lookups it may answer, and when it stops answering.
final class ListingCacheTests: XCTestCase {
    let owner = Ownership(uid: 1000, gid: 1000)
    let ttl = Duration.seconds(1)

    func entry(_ name: String, ino: UInt64, size: UInt64 = 10, directory: Bool = false) -> Filesystem.Entry {
        let t = FileTime(rawValue: 0)
        let b = FileBasics(creationTime: t, lastAccessTime: t, lastWriteTime: t, changeTime: t,
                           allocationSize: 0, endOfFile: size, fileAttributes: directory ? .directory : .archive)
        return Filesystem.Entry(name: name, attributes: owner.attributes(ino: ino, basics: b))
    }

    func testAnswersFromAFreshListingOnly() {
        var c = ListingCache()
        let t0 = ContinuousClock.now
        XCTAssertTrue(c.store("d", entries: [entry("a", ino: 5), entry("Mixed", ino: 6)], at: t0, stamp: c.stamp))
        guard case .found(let e) = c.lookup("d", name: "a", now: t0, ttl: ttl) else { return XCTFail("a not found") }
        XCTAssertEqual(e.attributes.ino, 5)
        guard case .absent = c.lookup("d", name: "b", now: t0, ttl: ttl) else { return XCTFail("b not absent") }
        // Another spelling of a listed name is not that name (a case-only rename must reach the
        // server, Filesystem.stat(path:exactly:)).
        guard case .absent = c.lookup("d", name: "mixed", now: t0, ttl: ttl) else { return XCTFail("mixed found") }
        // The timeout ran out, another directory, dropped.
        guard case .unknown = c.lookup("d", name: "b", now: t0 + .seconds(1), ttl: ttl) else { return XCTFail("expired") }
        guard case .unknown = c.lookup("e", name: "b", now: t0, ttl: ttl) else { return XCTFail("other dir") }
        XCTAssertEqual(c.invalidate("d")?.count, 2)
        guard case .unknown = c.lookup("d", name: "b", now: t0, ttl: ttl) else { return XCTFail("after drop") }
    }

    func testChangesThroughTheMountKeepTheListingTrue() {
        var c = ListingCache()
        let t0 = ContinuousClock.now
        c.store("d", entries: [entry("a", ino: 5), entry("b", ino: 6), entry("c", ino: 7)], at: t0, stamp: c.stamp)
        c.store("e", entries: [entry("x", ino: 9)], at: t0, stamp: c.stamp)
        // Created: found with what the server answered; other names still absent.
        c.added("d", entry("new", ino: 8, size: 0))
        guard case .found(let n) = c.lookup("d", name: "new", now: t0, ttl: ttl), n.attributes.ino == 8 else { return XCTFail("new") }
        guard case .absent = c.lookup("d", name: "other", now: t0, ttl: ttl) else { return XCTFail("other") }
        XCTAssertEqual(c.complete("d", now: t0, ttl: ttl)?.entries.map(\.name).sorted(), ["a", "b", "c", "new"])
        // Written: that name is asked for, and readdir reads the directory again; others answer.
        c.modified("d", name: "new")
        guard case .unknown = c.lookup("d", name: "new", now: t0, ttl: ttl) else { return XCTFail("stale answered") }
        guard case .found = c.lookup("d", name: "a", now: t0, ttl: ttl) else { return XCTFail("a") }
        XCTAssertNil(c.complete("d", now: t0, ttl: ttl))
        // Removed from the middle: gone, the rest still found with their own attributes.
        c.removed("d", name: "a")
        guard case .absent = c.lookup("d", name: "a", now: t0, ttl: ttl) else { return XCTFail("a removed") }
        for (name, ino) in [("b", 6), ("c", 7)] {
            guard case .found(let e) = c.lookup("d", name: name, now: t0, ttl: ttl), e.attributes.ino == UInt64(ino) else {
                return XCTFail("\(name) after removal")
            }
        }
        // A name appeared whose attributes are not known: not absent.
        c.modified("d", name: "linked")
        guard case .unknown = c.lookup("d", name: "linked", now: t0, ttl: ttl) else { return XCTFail("linked absent") }
        // The other directory was not touched; a directory renamed drops every listing.
        XCTAssertNotNil(c.complete("e", now: t0, ttl: ttl))
        c.invalidateAll()
        guard case .unknown = c.lookup("e", name: "y", now: t0, ttl: ttl) else { return XCTFail("after invalidateAll") }
    }

    func testAReadOverlappingAChangeIsNotKept() {
        var c = ListingCache()
        let t0 = ContinuousClock.now
        let before = c.stamp
        c.added("d", entry("f", ino: 5))
        // Began before the create: may not hold it.
        XCTAssertFalse(c.store("d", entries: [], at: t0, stamp: before))
        guard case .unknown = c.lookup("d", name: "f", now: t0, ttl: ttl) else { return XCTFail("stale read kept") }
        // A change in another directory does not matter.
        let s = c.stamp
        c.modified("e", name: "x")
        XCTAssertTrue(c.store("d", entries: [entry("f", ino: 5)], at: t0, stamp: s))
        XCTAssertTrue(c.unchanged("d", since: s))
        XCTAssertFalse(c.unchanged("e", since: s))
        // Nor is one that began before every listing was dropped.
        let old = c.stamp
        c.invalidateAll()
        XCTAssertFalse(c.store("x", entries: [], at: t0, stamp: old))
    }

    func testTheDirectoriesAWalkReadsNext() {
        var c = ListingCache()
        let t0 = ContinuousClock.now
        let names = ["d1", "f1", "d2", "d3", "f2", "d4", "d5", "d6"]
        c.store("p", entries: names.enumerated().map { entry($1, ino: UInt64($0 + 2), directory: $1.hasPrefix("d")) },
                at: t0, stamp: c.stamp)
        c.store("p/d3", entries: [], at: t0, stamp: c.stamp)
        func next(_ after: String, _ count: Int, at now: ContinuousClock.Instant) -> [String] {
            c.directories(after: after, in: "p", now: now, ttl: ttl, count: count).map(\.name)
        }
        // After d1: directories only, in listing order, skipping d3 (listed already).
        XCTAssertEqual(next("d1", 3, at: t0), ["d2", "d4", "d5"])
        XCTAssertEqual(next("d5", 3, at: t0), ["d6"])
        XCTAssertEqual(next("d6", 3, at: t0), [])
        XCTAssertEqual(next("nothere", 3, at: t0), [])
        // The parent's listing is a hint even after the timeout; d3's own listing has expired.
        XCTAssertEqual(next("d2", 2, at: t0 + .seconds(5)), ["d3", "d4"])
        XCTAssertEqual(c.directories(after: "d1", in: "q", now: t0, ttl: ttl, count: 3).count, 0)
    }

    func testRepeatedMissesAskForTheListing() {
        var c = ListingCache()
        let t0 = ContinuousClock.now
        for i in 1..<ListingCache.missesBeforeListing {
            XCTAssertFalse(c.missed("d", now: t0, ttl: ttl), "miss \(i)")
        }
        XCTAssertTrue(c.missed("d", now: t0, ttl: ttl))
        // A directory listed before with few entries is read at the first miss.
        var small = ListingCache()
        small.store("d", entries: [entry("a", ino: 5)], at: t0, stamp: small.stamp)
        XCTAssertTrue(small.missed("d", now: t0 + .seconds(2), ttl: ttl))
        var large = ListingCache()
        large.store("d", entries: (0...ListingCache.smallDirectory).map { entry("f\($0)", ino: UInt64($0 + 2)) },
                    at: t0, stamp: large.stamp)
        XCTAssertFalse(large.missed("d", now: t0 + .seconds(2), ttl: ttl))
        // The timeout starts the count again.
        var d = ListingCache()
        for _ in 1..<ListingCache.missesBeforeListing { _ = d.missed("d", now: t0, ttl: ttl) }
        XCTAssertFalse(d.missed("d", now: t0 + .seconds(2), ttl: ttl))
    }

    func testBoundedCount() {
        var c = ListingCache()
        let t0 = ContinuousClock.now
        for i in 0...ListingCache.limit {
            c.store("d\(i)", entries: [entry("x", ino: UInt64(i + 2))], at: t0 + .milliseconds(i), stamp: c.stamp)
        }
        // The oldest listing made room for the newest.
        guard case .unknown = c.lookup("d0", name: "y", now: t0, ttl: ttl) else { return XCTFail("d0 kept") }
        guard case .absent = c.lookup("d\(ListingCache.limit)", name: "y", now: t0, ttl: ttl) else { return XCTFail("newest lost") }
    }
}
