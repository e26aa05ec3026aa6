@testable import SMBFS
import SMBProtocol
import XCTest

/// The listing cache as a value: which lookups it may answer, and when it stops answering.
final class ListingCacheTests: XCTestCase {
    let owner = Ownership(uid: 1000, gid: 1000)
    let ttl = Duration.seconds(1)

    func entry(_ name: String, ino: UInt64, size: UInt64 = 10) -> Filesystem.Entry {
        let t = FileTime(rawValue: 0)
        let b = FileBasics(creationTime: t, lastAccessTime: t, lastWriteTime: t, changeTime: t,
                           allocationSize: 0, endOfFile: size, fileAttributes: .archive)
        return Filesystem.Entry(name: name, attributes: owner.attributes(ino: ino, basics: b))
    }

    func testAnswersFromAFreshListingOnly() {
        var c = ListingCache()
        let t0 = ContinuousClock.now
        c.store("d", entries: [entry("a", ino: 5), entry("Mixed", ino: 6)], at: t0, mutation: 7)
        guard case .found(let e) = c.lookup("d", name: "a", mutation: 7, now: t0, ttl: ttl) else { return XCTFail("a not found") }
        XCTAssertEqual(e.attributes.ino, 5)
        guard case .absent = c.lookup("d", name: "b", mutation: 7, now: t0, ttl: ttl) else { return XCTFail("b not absent") }
        // Another spelling of a listed name: a server that ignores case would find it.
        guard case .unknown = c.lookup("d", name: "mixed", mutation: 7, now: t0, ttl: ttl) else { return XCTFail("mixed answered") }
        // Something changed through the mount, the timeout ran out, another directory, dropped.
        guard case .unknown = c.lookup("d", name: "b", mutation: 8, now: t0, ttl: ttl) else { return XCTFail("after a change") }
        guard case .unknown = c.lookup("d", name: "b", mutation: 7, now: t0 + .seconds(1), ttl: ttl) else { return XCTFail("expired") }
        guard case .unknown = c.lookup("e", name: "b", mutation: 7, now: t0, ttl: ttl) else { return XCTFail("other dir") }
        XCTAssertEqual(c.drop("d")?.count, 2)
        guard case .unknown = c.lookup("d", name: "b", mutation: 7, now: t0, ttl: ttl) else { return XCTFail("after drop") }
    }

    func testRepeatedMissesAskForTheListing() {
        var c = ListingCache()
        let t0 = ContinuousClock.now
        for i in 1..<ListingCache.missesBeforeListing {
            XCTAssertFalse(c.missed("d", mutation: 1, now: t0, ttl: ttl), "miss \(i)")
        }
        XCTAssertTrue(c.missed("d", mutation: 1, now: t0, ttl: ttl))
        // A change through the mount, or the timeout, starts the count again.
        var d = ListingCache()
        for _ in 1..<ListingCache.missesBeforeListing { _ = d.missed("d", mutation: 1, now: t0, ttl: ttl) }
        XCTAssertFalse(d.missed("d", mutation: 2, now: t0, ttl: ttl))
        for _ in 2..<ListingCache.missesBeforeListing { _ = d.missed("d", mutation: 2, now: t0, ttl: ttl) }
        XCTAssertFalse(d.missed("d", mutation: 2, now: t0 + .seconds(2), ttl: ttl))
    }

    func testBoundedCount() {
        var c = ListingCache()
        let t0 = ContinuousClock.now
        for i in 0...ListingCache.limit {
            c.store("d\(i)", entries: [entry("x", ino: UInt64(i + 2))], at: t0 + .milliseconds(i), mutation: 1)
        }
        // The oldest listing made room for the newest.
        guard case .unknown = c.lookup("d0", name: "y", mutation: 1, now: t0, ttl: ttl) else { return XCTFail("d0 kept") }
        guard case .absent = c.lookup("d\(ListingCache.limit)", name: "y", mutation: 1, now: t0, ttl: ttl) else { return XCTFail("newest lost") }
    }
}
