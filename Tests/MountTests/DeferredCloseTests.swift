import Foundation
import XCTest

/// `closetimeo=`: a file opened for reading stays open a moment after its close, and opened
/// again it takes that open back (no CREATE). What the mount and other clients then see is what
/// they would see had it been closed: another client's change is read, and a file removed or
/// renamed here is gone from the server at once. Off by default: the setUp mount keeps nothing.
final class DeferredCloseTests: ReadWriteTestCase {
    /// The mount's count of opens: taken back from those kept after close, and sent as CREATEs.
    func openCounts(_ point: String) -> (kept: Int, created: Int) {
        let opens = (status(point)?["cache"] as? [String: [String: Int]])?["opens"] ?? [:]
        return (opens["hits"] ?? -1, opens["misses"] ?? -1)
    }

    func write(_ path: String, _ text: String) {
        XCTAssertEqual(sh(#"printf '%s' "$2" > "$1" && chown "$3" "$1""#, path, text, env.user).status, 0)
    }

    /// A second mount of the share with `closetimeo=1`; this test's directory in it.
    func keeping() -> (point: String, dir: String)? {
        let point = makeDir("kept")
        guard mountOK(at: point, options: ["credentials=\(credentials!)", "closetimeo=1"]) else { return nil }
        return (point, point + "/" + dirName)
    }

    /// A file read twice is opened once; a write by another client (a lease break) closes what
    /// was kept, and the next read opens the file again and reads the new bytes. Without the
    /// option (the setUp mount) every read opens the file.
    func testAFileReadAgainTakesItsOpenBack() throws {
        write(sdir + "/f", "first\n")
        guard let k = keeping() else { return }
        let start = openCounts(k.point)
        XCTAssertEqual(sh(#"cat "$1/f" && cat "$1/f""#, k.dir).stdout, "first\nfirst\n")
        let twice = openCounts(k.point)
        XCTAssertEqual(twice.created - start.created, 1, "the second read sent a CREATE")
        XCTAssertEqual(twice.kept - start.kept, 1, "the second read did not take the first open back")

        XCTAssertEqual(sh(#"printf 'changed by another client\n' > "$1/f""#, mdir).status, 0)
        XCTAssertEqual(sh(#"cat "$1/f""#, k.dir).stdout, "changed by another client\n")
        let after = openCounts(k.point)
        XCTAssertEqual(after.created - twice.created, 1, "the read after the other client's write reused a stale open")
        XCTAssertEqual(after.kept, twice.kept)

        let plain = openCounts(mnt)
        XCTAssertEqual(sh(#"cat "$1/f" "$1/f" > /dev/null"#, mdir).status, 0)
        XCTAssertEqual(openCounts(mnt).created - plain.created, 2, "closetimeo is not off by default")
        XCTAssertEqual(openCounts(mnt).kept, plain.kept)
    }

    /// Removed, renamed, or its directory removed or renamed through the mount right after
    /// being read, a file is gone from the server at once (a kept open would leave it
    /// delete-pending, and the directory not empty). One another client removes goes when the
    /// time is up.
    func testRemovalsAndRenamesAfterAReadReachTheServer() throws {
        XCTAssertEqual(sh(#"mkdir "$1/d" "$1/e" && chown "$2" "$1/d" "$1/e""#, sdir, env.user).status, 0)
        for name in ["gone", "moved", "d/inner", "e/inner", "theirs"] { write(sdir + "/" + name, name) }
        guard let k = keeping() else { return }
        let r = sh(#"""
            cd "$1" && cat gone moved d/inner e/inner theirs > /dev/null &&
            rm gone && mv moved renamed && rm d/inner && rmdir d && mv e e2 && ls
            """#, k.dir)
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertEqual(r.stdout, "e2\nrenamed\ntheirs\n")
        XCTAssertEqual(sh(#"cd "$1" && ls -A && ls -A e2"#, sdir).stdout, "e2\nrenamed\ntheirs\ninner\n",
                       "on the server right after")
        XCTAssertEqual(sh(#"rm "$1/theirs""#, mdir).status, 0)
        XCTAssertTrue(waitUntil(5) { !FileManager.default.fileExists(atPath: self.sdir + "/theirs") },
                      "a file another client removed stayed on the server past the time")
    }

    /// An open that took a lock closes at once (CLOSE releases it on the server).
    func testLockedOpensCloseAtOnce() throws {
        write(sdir + "/locked", "x")
        guard let k = keeping() else { return }
        let start = openCounts(k.point)
        XCTAssertEqual(sh(#"flock -s "$1/locked" true && cat "$1/locked""#, k.dir).stdout, "x")
        let after = openCounts(k.point)
        XCTAssertEqual(after.kept, start.kept, "an open that took a lock was kept")
        XCTAssertEqual(after.created - start.created, 2)
    }
}

/// closetimeo= values that cannot be right: one line naming the value.
final class DeferredCloseOptionTests: MountTestCase {
    override var mountsInSetUp: Bool { false }

    func testBadClosetimeo() {
        for v in ["-1", "61", "soon"] {
            let r = mount(options: ["credentials=\(credentials!)", "closetimeo=\(v)"])
            assertCleanFailure(r, "closetimeo=\(v)")
            XCTAssertEqual(r.stderrLines, ["smb3fs: bad closetimeo \"\(v)\": expected seconds from 0 to 60"])
        }
    }
}
