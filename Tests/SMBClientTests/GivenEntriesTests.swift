@testable import SMBClient
import SMBProtocol
import XCTest

/// A listing begun again after a reconnect hands on no name twice.
final class GivenEntriesTests: XCTestCase {
    func entry(_ name: String) -> DirectoryEntry {
        let t = FileTime(rawValue: 0)
        return DirectoryEntry(name: name, basics: FileBasics(creationTime: t, lastAccessTime: t, lastWriteTime: t, changeTime: t,
                                                             allocationSize: 0, endOfFile: 0, fileAttributes: []), fileId: 0)
    }

    func testAScanBegunAgainGivesOnlyNewNames() {
        let g = GivenEntries()
        g.startOver()
        XCTAssertEqual(g.take([entry("a"), entry("b")]).map(\.name), ["a", "b"])
        // The connection failed; the second scan sees "a" removed and "c" made meanwhile.
        g.startOver()
        XCTAssertEqual(g.take([entry("b"), entry("c")]).map(\.name), ["c"])
        XCTAssertEqual(g.take([entry("d")]).map(\.name), ["d"])
        XCTAssertEqual(g.all.map(\.name), ["a", "b", "c", "d"])
    }
}
