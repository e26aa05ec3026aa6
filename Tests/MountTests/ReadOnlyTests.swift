import Foundation
import XCTest

/// With `ro` the mount is read-only: every change fails with EROFS and the server is untouched.
/// Without it the mount is read-write.
final class ReadOnlyTests: MountTestCase {
    override var setUpOptions: [String] { ["ro"] }

    /// Tries each change and prints "operation ERRNO-NAME" (or "operation OK").
    static let tryWrites = #"""
        import errno, os, sys
        m = sys.argv[1]
        def attempt(name, f):
            try:
                f()
                print(name, "OK")
            except OSError as e:
                print(name, errno.errorcode.get(e.errno, str(e.errno)))
        attempt("create", lambda: os.close(os.open(m + "/new-file", os.O_CREAT | os.O_WRONLY, 0o644)))
        attempt("mkdir", lambda: os.mkdir(m + "/new-dir"))
        attempt("open-wronly", lambda: os.close(os.open(m + "/existing.txt", os.O_WRONLY)))
        attempt("open-rdwr", lambda: os.close(os.open(m + "/existing.txt", os.O_RDWR)))
        attempt("open-append", lambda: os.close(os.open(m + "/existing.txt", os.O_WRONLY | os.O_APPEND)))
        attempt("truncate", lambda: os.truncate(m + "/existing.txt", 0))
        attempt("unlink", lambda: os.unlink(m + "/existing.txt"))
        attempt("rmdir", lambda: os.rmdir(m + "/empty-dir"))
        attempt("rename", lambda: os.rename(m + "/existing.txt", m + "/renamed.txt"))
        attempt("chmod", lambda: os.chmod(m + "/existing.txt", 0o600))
        attempt("utime", lambda: os.utime(m + "/existing.txt", (0, 0)))
        attempt("symlink", lambda: os.symlink("existing.txt", m + "/link"))
        """#

    func roFixture() throws -> String {
        try ensureFixture(env, "mt-ro", script: "echo 'do not change' > existing.txt; mkdir empty-dir")
    }

    func assertAllEROFS(_ mountDir: String, _ serverDir: String, file: StaticString = #filePath,
                        line: UInt = #line) {
        let before = sh(#"cd -- "$1" && find . -printf '%y %P %s %T@ %m\n' | sort"#, serverDir)
        let r = python(Self.tryWrites, mountDir)
        XCTAssertEqual(r.status, 0, r.summary, file: file, line: line)
        let results = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(results.count, 12, r.summary, file: file, line: line)
        for result in results {
            XCTAssertTrue(result.hasSuffix(" EROFS"), "want EROFS: \(result)", file: file, line: line)
        }
        let after = sh(#"cd -- "$1" && find . -printf '%y %P %s %T@ %m\n' | sort"#, serverDir)
        XCTAssertEqual(after.stdout, before.stdout, "the server-side directory changed", file: file, line: line)
        XCTAssertEqual(try? String(contentsOfFile: mountDir + "/existing.txt", encoding: .utf8), "do not change\n",
                       file: file, line: line)
    }

    func testChangesFailWithEROFS() throws {
        let dir = try roFixture()
        assertAllEROFS(mnt + "/mt-ro", dir)
    }

    /// The last of `rw` and `ro` wins.
    func testLastOfRwAndRoWins() throws {
        let dir = try roFixture()
        let point = makeDir("ro-option")
        guard mountOK(at: point, options: ["credentials=\(credentials!)", "rw", "ro"]) else { return }
        assertAllEROFS(point + "/mt-ro", dir)
    }

    /// Without `ro` (or `rw`) the mount is read-write, as the kernel cifs client's is.
    func testDefaultIsReadWrite() throws {
        let point = makeDir("default")
        guard mountOK(at: point, options: ["credentials=\(credentials!)"]) else { return }
        let name = "default-rw-\(UUID().uuidString)"
        let r = sh(#"echo written > "$1/$2" && cat "$3/$2" && rm "$1/$2""#, point, name, env.sharePath)
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertEqual(r.stdout, "written\n")
        XCTAssertTrue(mountEntry(at: point)?.options.split(separator: ",").contains("rw") ?? false)
    }

    /// The server's read-only share mounts with `ro` and reads. (Mounted read-write, the
    /// server refuses changes itself: WriteErrorTests.)
    func testReadOnlyShare() throws {
        let point = makeDir("ro")
        guard mountOK(source: "//\(env.host)/\(env.roShare)", at: point, options: ["credentials=\(credentials!)", "ro"])
        else { return }
        XCTAssertEqual(try? String(contentsOfFile: point + "/readme.txt", encoding: .utf8), "hello\n")
        let r = python(#"""
            import errno, os, sys
            try:
                os.mkdir(sys.argv[1] + "/x"); print("OK")
            except OSError as e:
                print(errno.errorcode[e.errno])
            """#, point)
        XCTAssertEqual(r.stdout, "EROFS\n", r.summary)
    }
}
