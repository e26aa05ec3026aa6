@testable import SMBClient
import XCTest

final class NameMappingTests: XCTestCase {
    func testForbiddenCharactersRoundTrip() {
        let m = NameMapping(enabled: true)
        for name in ["a:b", "q?", "*", "<>", "\"x\"", "p|q", "back\\slash", "trail ", "dot.", "mid. dle", "plain", "Grüße", "..."] {
            let w = m.wire(name)
            XCTAssertFalse(w.contains { "\"*:<>?\\|".contains($0) }, "\(name) → \(w)")
            XCTAssertFalse(w.hasSuffix(" ") || (w.hasSuffix(".") && name != "..."), "\(name) → \(w)")
            XCTAssertEqual(m.local(w), name)
        }
        XCTAssertEqual(m.wire("mid. dle"), "mid. dle", "only a trailing space or period is mapped")
        XCTAssertEqual(m.wire("a:b").unicodeScalars.map(\.value), [0x61, 0xF022, 0x62])
    }

    func testDisabledLeavesNamesAlone() {
        let m = NameMapping(enabled: false)
        XCTAssertEqual(m.wire("a:b "), "a:b ")
        XCTAssertEqual(m.local("a\u{F022}b"), "a\u{F022}b")
    }
}
