import Foundation
import SMBFuzzTargets
import XCTest

/// The committed seed corpus (Tests/FuzzCorpus, responses Samba sent, captured by
/// `Scripts/fuzz --seeds`) replayed through every fuzz target with an ordinary build, as is
/// and with deterministic corruptions: no input traps, and each target's seeds still reach
/// its decoders (a corpus nothing decodes would fuzz only the first length check).
final class CorpusReplayTests: XCTestCase {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("FuzzCorpus")

    private func seeds(_ target: FuzzTarget) throws -> [[UInt8]] {
        let dir = Self.corpus.appendingPathComponent(target.name)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        return try names.map { [UInt8](try Data(contentsOf: dir.appendingPathComponent($0))) }
    }

    func testEveryTargetHasSeedsThatDecode() throws {
        for target in FuzzTarget.all {
            let inputs = try seeds(target)
            XCTAssertGreaterThanOrEqual(inputs.count, 3, "\(target.name): seeds")
            let decoded = inputs.filter { target.run($0) > 0 }.count
            XCTAssertGreaterThan(decoded, inputs.count / 2, "\(target.name): seeds some decoder accepts")
        }
    }

    /// Each seed cut short at several lengths and with single bits flipped across it.
    func testCorruptedSeedsNeverTrap() throws {
        var runs = 0
        for target in FuzzTarget.all {
            for seed in try seeds(target) where !seed.isEmpty {
                for cut in Set([0, 1, 4, 63, 64, 65, seed.count / 2, seed.count - 1]) where cut < seed.count {
                    _ = target.run(Array(seed.prefix(cut)))
                    runs += 1
                }
                for i in 0..<32 {
                    var m = seed
                    let at = (i &* 7919 &+ seed.count) % m.count
                    m[at] ^= UInt8(1 << (i % 8))
                    _ = target.run(m)
                    runs += 1
                }
            }
        }
        XCTAssertGreaterThan(runs, 1000)
    }
}
