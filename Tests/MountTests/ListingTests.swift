import Foundation
import XCTest

/// `ls -l` and `find` on the mount against the same commands run on the server's directory.
final class ListingTests: MountTestCase {
    /// 1,000 files of varying sizes (0 .. ~70 KB) and mtimes from 1990 to 2100, some with
    /// sub-second parts (the listing must agree to the second: truncated, not rounded).
    func listingFixture() throws -> String {
        try ensureFixture(env, "mt-listing", script: #"""
            python3 - <<'EOF'
            import os
            for i in range(1000):
                name = "file-%04d%s.dat" % (i, "-" + "n" * (i % 50) if i % 3 == 0 else "")
                size = 0 if i % 97 == 0 else (i * 7919) % 70001
                with open(name, "wb") as f:
                    f.write(os.urandom(size))
                sec = 631152000 + i * 3471292           # 1990-01-01 + i * ~40 days
                nsec = (i * 123456789) % 1000000000 if i % 2 else 0
                os.utime(name, ns=(sec * 10**9, sec * 10**9 + nsec))
            EOF
            touch -d '2001-02-03 04:05:06.999999999' file-0001.dat
            """#)
    }

    func testLsMatchesServerListingOf1000Files() throws {
        let dir = try listingFixture()
        let stat = #"cd -- "$1" && find . -mindepth 1 -maxdepth 1 -exec stat -c '%n|%s|%Y|%F' {} + | LC_ALL=C sort"#
        let server = sh(stat, dir)
        XCTAssertEqual(server.status, 0, server.summary)
        XCTAssertEqual(server.stdoutData.lines.count, 1000, "fixture has 1,000 entries")

        let mounted = sh(stat, mnt + "/mt-listing")
        XCTAssertEqual(mounted.status, 0, mounted.summary)
        XCTAssertEqual(mounted.stdoutData.lines.count, 1000)
        assertSameLines(mounted.stdout, server.stdout, "stat name|size|mtime|type")

        // ls -l itself: name, size and mtime columns.
        let ls = #"LC_ALL=C ls -ln --time-style=+%s -- "$1" | tail -n +2 | awk '{print $7 "|" $5 "|" $6}' | LC_ALL=C sort"#
        let lsServer = sh(ls, dir), lsMount = sh(ls, mnt + "/mt-listing")
        XCTAssertEqual(lsMount.status, 0, lsMount.summary)
        XCTAssertEqual(lsMount.stdoutData.lines.count, 1000)
        assertSameLines(lsMount.stdout, lsServer.stdout, "ls -l name|size|mtime")

        // The plain command works and a second listing (now from caches) is the same.
        let plain = runCmd(["ls", "-l", mnt + "/mt-listing"])
        XCTAssertEqual(plain.status, 0, plain.summary)
        XCTAssertEqual(plain.stdoutData.lines.count, 1001, "total line + 1,000 entries")
        let again = sh(stat, mnt + "/mt-listing")
        assertSameLines(again.stdout, server.stdout, "second listing")
    }

    func testFindOnNestedTree() throws {
        let dir = try TreeFixture.make(env)
        let count = #"cd -- "$1" && find . | wc -l"#
        let serverCount = sh(count, dir), mountCount = sh(count, mnt + "/mt-tree")
        XCTAssertEqual(mountCount.status, 0, mountCount.summary)
        XCTAssertEqual(mountCount.stdout, serverCount.stdout, "find | wc -l")
        XCTAssertGreaterThan(Int(serverCount.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0, 150)

        // The same entries with the same types, and the same file sizes.
        let entries = #"cd -- "$1" && find . -printf '%y %P\n' | LC_ALL=C sort"#
        assertSameLines(sh(entries, mnt + "/mt-tree").stdout, sh(entries, dir).stdout, "find -printf '%y %P'")
        let sizes = #"cd -- "$1" && find . -type f -printf '%P %s\n' | LC_ALL=C sort"#
        assertSameLines(sh(sizes, mnt + "/mt-tree").stdout, sh(sizes, dir).stdout, "file sizes")
        let depth = #"cd -- "$1" && find . -mindepth 22 | wc -l"#
        XCTAssertEqual(sh(depth, mnt + "/mt-tree").stdout, sh(depth, dir).stdout, "deep path")
    }

    func testSubdirectoryMount() throws {
        let dir = try TreeFixture.make(env)
        let sub = makeDir("sub")
        guard mountOK(source: env.source + "/mt-tree/d2", at: sub, options: ["credentials=\(credentials!)"])
        else { return }
        let entries = #"cd -- "$1" && find . -printf '%y %P %s\n' | grep -v '^d' | LC_ALL=C sort"#
        let server = sh(entries, dir + "/d2"), mounted = sh(entries, sub)
        XCTAssertEqual(mounted.status, 0, mounted.summary)
        XCTAssertFalse(server.stdout.isEmpty)
        assertSameLines(mounted.stdout, server.stdout, "//HOST/SHARE/PATH shows PATH")
        XCTAssertEqual(try? String(contentsOfFile: sub + "/e1/f1/file1", encoding: .utf8),
                       try? String(contentsOfFile: dir + "/d2/e1/f1/file1", encoding: .utf8))
    }
}

enum TreeFixture {
    /// 3 × 4 × 2 directories with 5 files each, dot files, empty dirs and a 25-level path.
    static func make(_ env: TestEnv) throws -> String {
        try ensureFixture(env, "mt-tree", script: #"""
            for a in 1 2 3; do for b in 1 2 3 4; do for c in 1 2; do
              mkdir -p "d$a/e$b/f$c"
              for i in 1 2 3 4 5; do printf 'tree %s%s%s%s\n%*s\n' $a $b $c $i $((a*b*c*i)) x > "d$a/e$b/f$c/file$i"; done
            done; done; done
            mkdir -p empty/dir/deeper .dotdir
            echo dot > .dotfile
            echo inside > .dotdir/inside
            p=deep; for i in $(seq 1 25); do p="$p/level$i"; done
            mkdir -p "$p" && echo bottom > "$p/bottom.txt"
            """#)
    }
}

/// Compares two multi-line outputs and reports only the first differing lines.
func assertSameLines(_ actual: String, _ expected: String, _ what: String,
                     file: StaticString = #filePath, line: UInt = #line) {
    // Compare bytes: String == treats NFC and NFD spellings of a name as equal.
    if Array(actual.utf8) == Array(expected.utf8) { return }
    let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
    let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
    let onlyMount = a.filter { x in !e.contains { Array($0.utf8) == Array(x.utf8) } }.prefix(10)
    let onlyServer = e.filter { x in !a.contains { Array($0.utf8) == Array(x.utf8) } }.prefix(10)
    XCTFail("""
        \(what) differs: mount has \(a.count) lines, server \(e.count)
        only on the mount (first 10): \(onlyMount.map { "[\($0)]" }.joined(separator: " "))
        only on the server (first 10): \(onlyServer.map { "[\($0)]" }.joined(separator: " "))
        """, file: file, line: line)
}
