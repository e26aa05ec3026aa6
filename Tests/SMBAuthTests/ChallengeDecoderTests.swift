import XCTest
@testable import SMBAuth

final class ChallengeDecoderTests: XCTestCase {
    func testDecodesFixture() throws {
        let c = try ChallengeMessage(Fixtures.challenge())
        XCTAssertEqual(c.serverChallenge, Fixtures.serverChallenge)
        XCTAssertEqual(c.flags.rawValue, Fixtures.challengeFlags)
        XCTAssertEqual(c.targetName, UTF16LE.encode("Domain"))
        XCTAssertEqual(c.timestamp, Fixtures.timestamp)
        XCTAssertEqual(c.avPairs.count, 4)
    }

    /// Every truncation throws (TargetInfo is last, so any cut breaks a bound or the AV list).
    func testEveryTruncationThrows() {
        let full = Fixtures.challenge()
        for n in 0..<full.count {
            XCTAssertThrowsError(try ChallengeMessage(Array(full[0..<n])), "length \(n)")
        }
    }

    func testBadSignatureAndType() {
        var m = Fixtures.challenge()
        m[0] = 0x4f
        XCTAssertThrowsError(try ChallengeMessage(m))
        m = Fixtures.challenge()
        m[8] = 3
        XCTAssertThrowsError(try ChallengeMessage(m))
    }

    /// Hostile Len/Offset values: far out of range, wrapping, and at the edge.
    func testHostileOffsets() {
        let base = Fixtures.challenge()
        for position in [12, 40] {
            for offset: UInt32 in [UInt32.max, UInt32.max - 1, 0x8000_0000, UInt32(base.count), UInt32(base.count - 1)] {
                var m = base
                m.writeLE(offset, at: position + 4)
                XCTAssertThrowsError(try ChallengeMessage(m), "offset \(offset) at \(position)")
            }
            var m = base
            m.writeLE(UInt16.max, at: position)
            XCTAssertThrowsError(try ChallengeMessage(m))
        }
    }

    /// AV pair with a length running past the end, and a list without MsvAvEOL.
    func testHostileAVPairs() {
        XCTAssertThrowsError(try ChallengeMessage.parseAVPairs([2, 0, 0xff, 0xff, 1, 2]))
        XCTAssertThrowsError(try ChallengeMessage.parseAVPairs([2, 0, 2, 0, 0x41, 0]))
        XCTAssertThrowsError(try ChallengeMessage.parseAVPairs([0, 0, 0]))
        XCTAssertEqual(try ChallengeMessage.parseAVPairs([0, 0, 0, 0]), [])
    }

    /// Random mutations never trap; whatever is accepted is consistent.
    func testRandomMutationsNeverTrap() {
        var rng = SplitMix(seed: 0x5eed)
        let base = Fixtures.challenge()
        for _ in 0..<20_000 {
            var m = base
            let edits = Int(rng.next() % 6) + 1
            for _ in 0..<edits {
                let i = Int(rng.next() % UInt64(m.count))
                m[i] = UInt8(truncatingIfNeeded: rng.next())
            }
            if rng.next() % 4 == 0 { m = Array(m.prefix(Int(rng.next() % UInt64(m.count)))) }
            _ = try? ChallengeMessage(m)
        }
        for _ in 0..<5_000 {
            let n = Int(rng.next() % 200)
            let m = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            _ = try? ChallengeMessage(NTLM.signature + [2, 0, 0, 0] + m)
        }
    }
}

/// Deterministic PRNG for fuzz loops.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
