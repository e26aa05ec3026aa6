import Locking
import XCTest

/// A handler called many times (lease breaks, kernel invalidations) must cost the same on the
/// last call as on the first.
final class LockedFunctionTests: XCTestCase {
    /// How far down the stack a call of the stored function runs, as the address of a local.
    @inline(never) static func depth() -> UInt {
        var marker = 0
        return withUnsafeMutablePointer(to: &marker) { UInt(bitPattern: $0) }
    }

    func testCallingAStoredFunctionManyTimesKeepsItsStackDepth() {
        let handler = LockedFunction<@Sendable (Int) -> UInt>()
        XCTAssertNil(handler.current)
        handler.set { _ in Self.depth() }
        var first: UInt = 0, last: UInt = 0
        for i in 0..<20_000 {
            guard let f = handler.current else { return XCTFail("handler lost at call \(i)") }
            let d = f(i)
            if i == 0 { first = d }
            last = d
        }
        // The same call path each time: the same depth, to the byte. A function rewrapped on
        // each access ran some 40,000 thunks deeper by the last call.
        XCTAssertEqual(first, last)
        handler.set(nil)
        XCTAssertNil(handler.current)
    }
}
