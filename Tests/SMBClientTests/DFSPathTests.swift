@testable import SMBClient
import SMBProtocol
import XCTest

/// Where a DFS referral leads (MS-DFSC 2.2.4 PathConsumed, 2.2.5 NetworkAddress), and the
/// host-name table that gives a name several addresses.
final class DFSPathTests: XCTestCase {
    func testTargets() {
        XCTAssertEqual(DFSTarget("\\srv\\share"), DFSTarget(server: "srv", share: "share", path: ""))
        let deep = DFSTarget("\\srv\\share\\a\\b")
        XCTAssertEqual(deep?.server, "srv")
        XCTAssertEqual(deep?.share, "share")
        XCTAssertEqual(deep?.path, "a/b")
        for bad in ["", "\\", "\\srv", "srv\\share", "\\\\srv\\share", "\\srv\\", "\\srv\\share\\\\a", "\\srv\\share\\"] {
            XCTAssertNil(DFSTarget(bad), bad)
        }
    }

    /// PathConsumed counts UTF-16 bytes: a name outside the BMP counts four.
    func testRemainderAfterPathConsumed() {
        let p = "\\h\\dfs\\link\\a\\b.txt"
        XCTAssertEqual(Share.remainder(of: p, consumed: "\\h\\dfs\\link".utf16.count * 2), "a/b.txt")
        XCTAssertEqual(Share.remainder(of: p, consumed: p.utf16.count * 2), "")
        XCTAssertNil(Share.remainder(of: p, consumed: "\\h\\dfs\\li".utf16.count * 2), "a cut inside a name")
        XCTAssertNil(Share.remainder(of: p, consumed: 3), "an odd byte count")
        XCTAssertNil(Share.remainder(of: p, consumed: p.utf16.count * 2 + 2), "past the end")
        let wide = "\\h\\dfs\\l😀\\x"
        XCTAssertEqual(Share.remainder(of: wide, consumed: "\\h\\dfs\\l😀".utf16.count * 2), "x")
        XCTAssertNil(Share.remainder(of: wide, consumed: "\\h\\dfs\\l".utf16.count * 2 + 2), "a cut inside a surrogate pair")
    }

    /// CREATE names on a DFS share: "server\share\path", the root "server\share" (MS-SMB2 2.2.13,
    /// MS-DFSC 3.2.4.1); elsewhere, and for POSIX paths, the name as it is.
    func testCreateNamesOnADFSShare() {
        XCTAssertEqual(ShareConnection.createName("a\\b.txt", prefix: "nas\\dfs", posix: false), "nas\\dfs\\a\\b.txt")
        XCTAssertEqual(ShareConnection.createName("", prefix: "nas\\dfs", posix: false), "nas\\dfs")
        XCTAssertEqual(ShareConnection.createName("a\\b.txt", prefix: nil, posix: false), "a\\b.txt")
        XCTAssertEqual(ShareConnection.createName("a/b.txt", prefix: "nas\\dfs", posix: true), "a/b.txt")
    }

    func testHostTable() {
        XCTAssertEqual(ClientConfiguration.hostTable("nas.test=127.0.0.97,127.0.0.31;V6=::1"),
                       ["nas.test": ["127.0.0.97", "127.0.0.31"], "v6": ["::1"]])
        XCTAssertEqual(ClientConfiguration.hostTable("x=not-an-address;=1.2.3.4;y"), [:])
    }
}
