import SMBProtocol
import XCTest

/// REQ/RESP_GET_DFS_REFERRAL (MS-DFSC 2.2.2, 2.2.4, 2.2.5): responses as Samba 4.17 sent them
/// to this client's requests (a root and a link with two targets, as V2 and V3 entries), and
/// hostile variants of them.
final class DFSReferralTests: XCTestCase {
    static func hex(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        var i = s.startIndex
        while i < s.endIndex {
            let j = s.index(i, offsetBy: 2)
            out.append(UInt8(s[i..<j], radix: 16)!)
            i = j
        }
        return out
    }

    /// `\127.0.0.93\dfsroot`, asked at level 4: one V3 root entry pointing at itself.
    static let rootV3 = hex("260001000300000003002200010000005802000022004a007200000000000000000000000000000000005c003100320037002e0030002e0030002e00390033005c0064006600730072006f006f00740000005c003100320037002e0030002e0030002e00390033005c0064006600730072006f006f00740000005c003100320037002e0030002e0030002e00390033005c0064006600730072006f006f0074000000")
    /// `\127.0.0.93\dfsroot\link2\a\b.txt` at level 4: the link's two targets.
    static let linkV3 = hex("320002000200000003002200000000005802000044007800ac0000000000000000000000000000000000030022000000000058020000b000e4001801000000000000000000000000000000005c003100320037002e0030002e0030002e00390033005c0064006600730072006f006f0074005c006c0069006e006b00320000005c003100320037002e0030002e0030002e00390033005c0064006600730072006f006f0074005c006c0069006e006b00320000005c003100320037002e0030002e0030002e00390033005c0074006100720067006500740000005c003100320037002e0030002e0030002e00390033005c0064006600730072006f006f0074005c006c0069006e006b00320000005c003100320037002e0030002e0030002e00390033005c0064006600730072006f006f0074005c006c0069006e006b00320000005c003100320037002e0030002e0030002e00390033005c0074006100720067006500740032000000")
    /// The same link asked at level 2: V2 entries.
    static let linkV2 = hex("3200020002000000020016000000000000000000580200002c006000940002001600000000000000000058020000a400d8000c015c003100320037002e0030002e0030002e00390033005c0064006600730072006f006f0074005c006c0069006e006b00320000005c003100320037002e0030002e0030002e00390033005c0064006600730072006f006f0074005c006c0069006e006b00320000005c003100320037002e0030002e0030002e00390033005c0074006100720067006500740000005c003100320037002e0030002e0030002e00390033005c0064006600730072006f006f0074005c006c0069006e006b00320000005c003100320037002e0030002e0030002e00390033005c0064006600730072006f006f0074005c006c0069006e006b00320000005c003100320037002e0030002e0030002e00390033005c0074006100720067006500740032000000")

    func testRequestLayout() {
        let r = DFSReferral.request(path: "\\srv\\ns")
        XCTAssertEqual(Array(r[0..<2]), [4, 0])                  // MaxReferralLevel 4
        XCTAssertEqual(Array(r[2...]), UTF16LE.encode("\\srv\\ns") + [0, 0])
        XCTAssertEqual(DFSReferral.FSCTL_DFS_GET_REFERRALS, 0x0006_0194)
    }

    func testRootReferral() throws {
        let r = try DFSReferralResponse.decode(Self.rootV3)
        XCTAssertEqual(r.pathConsumed, "\\127.0.0.93\\dfsroot".utf16.count * 2)
        XCTAssertEqual(r.flags, [.referralServers, .storageServers])
        XCTAssertEqual(r.entries, [DFSReferralEntry(version: 3, isRoot: true, timeToLive: 600, dfsPath: "\\127.0.0.93\\dfsroot",
                                                    target: "\\127.0.0.93\\dfsroot")])
    }

    func testLinkReferralWithTwoTargetsAsV3AndV2() throws {
        for b in [Self.linkV3, Self.linkV2] {
            let r = try DFSReferralResponse.decode(b)
            XCTAssertEqual(r.pathConsumed, "\\127.0.0.93\\dfsroot\\link2".utf16.count * 2)
            XCTAssertEqual(r.flags, [.storageServers])
            XCTAssertEqual(r.entries.map(\.target), ["\\127.0.0.93\\target", "\\127.0.0.93\\target2"])
            XCTAssertEqual(Set(r.entries.map(\.dfsPath)), ["\\127.0.0.93\\dfsroot\\link2"])
            XCTAssertEqual(r.entries.map(\.isRoot), [false, false])
            XCTAssertEqual(r.entries.map(\.timeToLive), [600, 600])
        }
    }

    /// Every truncation fails cleanly, and no single-byte change traps.
    func testTruncatedAndMutatedResponses() {
        for b in [Self.rootV3, Self.linkV3, Self.linkV2] {
            // Each response ends with its last target's null: any cut is an error, never a crash.
            for n in 0..<b.count {
                XCTAssertThrowsError(try DFSReferralResponse.decode(Array(b[0..<n])), "cut at \(n)")
            }
            for i in 0..<min(b.count, 80) {
                for v: UInt8 in [0x00, 0x01, 0x7F, 0xFF] {
                    var m = b
                    m[i] = v
                    _ = try? DFSReferralResponse.decode(m)
                }
            }
        }
    }

    func testHostileValuesAreRefused() {
        var b = Self.linkV3
        b[2] = 0xFF; b[3] = 0xFF                                 // 65,535 entries
        XCTAssertThrowsError(try DFSReferralResponse.decode(b))
        b = Self.linkV3
        b[10] = 0xFF; b[11] = 0x7F                               // first entry's Size past the end
        XCTAssertThrowsError(try DFSReferralResponse.decode(b))
        b = Self.linkV3
        b[20] = 0xF0; b[21] = 0xFF                               // DFSPathOffset past the end
        XCTAssertThrowsError(try DFSReferralResponse.decode(b))
        b = Self.linkV3
        b[8 + 34] = 2                                            // second entry's version differs
        XCTAssertThrowsError(try DFSReferralResponse.decode(b))
        b = Self.linkV3
        b[8] = 9                                                 // unknown version
        XCTAssertThrowsError(try DFSReferralResponse.decode(b))
        b = Self.rootV3
        b.removeLast(2)                                          // the last string loses its null
        XCTAssertThrowsError(try DFSReferralResponse.decode(b))
    }
}
