import Foundation
import XCTest

/// `max_inodes=`: a walk of more files than the limit leaves the daemon knowing about the
/// limit's worth, and every file still answers.
final class InodeLimitTests: MountTestCase {
    func testAWalkOfMoreFilesThanTheLimitStaysNearIt() throws {
        let dir = try ensureFixture(env, "mt-inode-limit", script: #"""
            mkdir -p a b && for i in $(seq 1 1500); do : > a/f$i; echo $i > b/g$i; done
            """#)
        let name = (dir as NSString).lastPathComponent
        let point = makeDir("limited")
        guard mountOK(at: point, options: ["credentials=\(credentials!)", "max_inodes=1024"]) else { return }
        // A shell sits in one directory for the whole walk: directories are never dropped,
        // so its working directory stays reachable.
        let walk = sh(#"""
            cd "$1/$2/a" || exit 1
            find "$1/$2" -type f -printf '%s\n' | wc -l
            stat -c %s "$1/$2"/b/g* | awk '{ s += $1 } END { print s }'
            /bin/pwd -P
            """#, point, name)
        XCTAssertEqual(walk.status, 0, walk.summary)
        // 3,000 files seen; sizes of b/g1..g1500: 9 one-digit + 90 two-digit + 900 three-digit
        // + 501 four-digit numbers, each with its newline.
        let sizes: Int = 9 * 2 + 90 * 3 + 900 * 4 + 501 * 5
        XCTAssertEqual(walk.stdout, "3000\n\(sizes)\n\(point)/\(name)/a\n")
        // The kernel forgets what it was asked to: the daemon's table comes down to the limit
        // and the one batch past it that starts the next round (InodeTable.evictions).
        var inodes = -1
        let settled = waitUntil(20) {
            inodes = status(point)?["inodes"] as? Int ?? -1
            return inodes >= 0 && inodes <= 1024 + 512
        }
        XCTAssertTrue(settled, "inodes known: \(inodes)")
        // Forgotten names are looked up again as they are used: contents and sizes are right.
        let again = sh(#"cat "$1/$2"/b/g1 "$1/$2"/b/g1500 && find "$1/$2" -type f | wc -l"#, point, name)
        XCTAssertEqual(again.stdout, "1\n1500\n3000\n", again.summary)
    }
}
