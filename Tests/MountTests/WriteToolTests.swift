import Foundation
import XCTest

/// Real tools writing through a `-o rw` mount: cp -a, tar, rsync, an editor's save, O_APPEND
/// from two processes, parallel writers. The tree tests share one local tree (LocalTree).
final class WriteToolTests: ReadWriteTestCase {
    /// `diff -r` of two trees; asserts it is clean.
    func assertNoDiff(_ a: String, _ b: String, _ what: String,
                      file: StaticString = #filePath, line: UInt = #line) {
        let r = runCmd(["diff", "-r", "--no-dereference", a, b], timeout: 600)
        XCTAssertEqual(r.status, 0, "diff -r \(what): \(r.summary)", file: file, line: line)
    }

    /// Regular files and their mtimes (seconds) under a tree, one per line, sorted.
    func fileTimes(_ dir: String) -> String {
        sh(#"cd -- "$1" && find . -type f -printf '%P %Ts\n' | LC_ALL=C sort"#, dir, timeout: 600).stdout
    }

    func countFiles(_ dir: String) -> Int {
        Int(sh(#"find "$1" -type f | wc -l"#, dir).stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    func testCpArchiveTree() throws {
        let src = try LocalTree.make(env)
        let t = Date()
        let cp = runCmd(["cp", "-a", src, mdir + "/tree"], timeout: 900)
        let seconds = Date().timeIntervalSince(t)
        XCTAssertEqual(cp.status, 0, cp.summary)
        XCTAssertEqual(cp.stderr, "", "cp -a printed warnings")
        XCTAssertEqual(countFiles(sdir + "/tree"), countFiles(src), "files on the server")
        assertNoDiff(src, mdir + "/tree", "source vs mount")
        assertNoDiff(src, sdir + "/tree", "source vs server")
        // cp -a keeps modification times (to the second at least), on both sides.
        let want = fileTimes(src)
        assertSameText(fileTimes(mdir + "/tree"), want, "files and mtimes after cp -a",
                       actualName: "the mount", expectedName: "the source")
        assertSameText(fileTimes(sdir + "/tree"), want, "files and mtimes after cp -a",
                       actualName: "the server", expectedName: "the source")
        print(String(format: "MountTests: cp -a of %d files onto smb3fs took %.1f s", countFiles(src), seconds))
    }

    func testTarExtractOntoMount() throws {
        let src = try LocalTree.make(env)
        let dest = mdir + "/untarred"
        XCTAssertEqual(runCmd(["mkdir", dest]).status, 0)
        let tar = sh(#"tar -C "$1" -cf - . | tar -C "$2" -xf -"#, src, dest, timeout: 900)
        XCTAssertEqual(tar.status, 0, tar.summary)
        XCTAssertEqual(tar.stderr, "", "tar printed warnings")
        assertNoDiff(src, dest, "source vs mount after tar x")
        assertNoDiff(src, sdir + "/untarred", "source vs server after tar x")
    }

    /// `tar c` reading from the mount (a tree put there server-side) extracts to the source.
    func testTarCreateFromMount() throws {
        let src = try LocalTree.make(env)
        let put = sh(#"cp -a -- "$1" "$2" && chown -R -- "$3" "$2""#, src, sdir + "/tree", env.user, timeout: 600)
        XCTAssertEqual(put.status, 0, put.summary)
        let out = makeDir("from-mount")
        let tar = sh(#"tar -C "$1" -cf - . | tar -C "$2" -xf -"#, mdir + "/tree", out, timeout: 900)
        XCTAssertEqual(tar.status, 0, tar.summary)
        XCTAssertEqual(tar.stderr, "", "tar printed warnings")
        assertNoDiff(src, out, "source vs tar c of the mount")
    }

    /// rsync -a --checksum onto the mount, then a second run finds nothing to do.
    func testRsyncChecksumRoundTrip() throws {
        let src = try LocalTree.make(env)
        let first = runCmd(["rsync", "-a", "--checksum", src + "/", mdir + "/synced/"], timeout: 900)
        XCTAssertEqual(first.status, 0, first.summary)
        assertNoDiff(src, mdir + "/synced", "source vs mount after rsync")
        assertNoDiff(src, sdir + "/synced", "source vs server after rsync")
        let second = runCmd(["rsync", "-a", "--checksum", "--itemize-changes", src + "/", mdir + "/synced/"],
                            timeout: 900)
        XCTAssertEqual(second.status, 0, second.summary)
        XCTAssertEqual(second.stdout, "", "the second rsync has something to do: \(second.summary)")
    }

    /// Save as editors do: write a temporary file in the same directory, fsync, rename over
    /// the original. Twenty saves; each is read back at once through the mount and on the
    /// server, and no temporary file is left.
    func testEditorStyleSave() throws {
        let r = python(#"""
            import hashlib, os, sys
            d = sys.argv[1]
            path = os.path.join(d, "document.txt")
            with open(path, "wb") as f:
                f.write(b"original\n" * 1000)
            for i in range(20):
                data = (("save %d\n" % i).encode() * (1 + 997 * i))[: 1 + 7919 * i]
                tmp = os.path.join(d, ".document.txt.swp")
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                os.write(fd, data)
                os.fsync(fd)
                os.close(fd)
                os.rename(tmp, path)
                with open(path, "rb") as f:
                    back = f.read()
                if back != data:
                    print("save %d: read back %d bytes, want %d" % (i, len(back), len(data)))
                    sys.exit(1)
            print(hashlib.sha256(data).hexdigest())
            """#, mdir)
        XCTAssertEqual(r.status, 0, r.summary)
        let want = String(r.stdout.prefix(64))
        XCTAssertEqual(sha(sdir + "/document.txt"), want, "the last save on the server")
        XCTAssertEqual(sha(mdir + "/document.txt"), want, "the last save through the mount")
        XCTAssertEqual(sh(#"ls -A -- "$1""#, sdir).stdout, "document.txt\n", "server-side directory")
        XCTAssertEqual(sh(#"ls -A -- "$1""#, mdir).stdout, "document.txt\n", "directory through the mount")
    }

    /// Two shell loops appending lines with >> at the same time lose no line.
    func testTwoProcessesAppendingLoseNoLine() throws {
        let r = sh(#"""
            f=$1
            : > "$f"
            (for i in $(seq 1000); do echo "A $i" >> "$f"; done) &
            (for i in $(seq 1000); do echo "B $i" >> "$f"; done) &
            wait
            """#, mdir + "/log.txt", timeout: 600)
        XCTAssertEqual(r.status, 0, r.summary)
        let want = Set((1...1000).flatMap { ["A \($0)", "B \($0)"] })
        for (side, path) in [("server", sdir + "/log.txt"), ("mount", mdir + "/log.txt")] {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                XCTFail("\(side): cannot read \(path)")
                continue
            }
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            XCTAssertEqual(lines.last, "", "\(side): the file ends with a newline")
            let body = lines.dropLast()
            XCTAssertEqual(body.count, 2000, "\(side): line count")
            let got = Set(body)
            let missing = want.subtracting(got), extra = got.subtracting(want)
            XCTAssertTrue(missing.isEmpty, "\(side): missing lines (first 10): \(missing.sorted().prefix(10))")
            XCTAssertTrue(extra.isEmpty, "\(side): unexpected lines (first 10): \(extra.sorted().prefix(10))")
            XCTAssertEqual(text.utf8.count, want.reduce(0) { $0 + $1.utf8.count + 1 }, "\(side): byte count")
        }
    }

    /// Eight writers at once, each to its own file (8 MiB of random bytes).
    func testEightParallelWriters() throws {
        let local = makeDir("writers")
        let gen = sh(#"for i in 1 2 3 4 5 6 7 8; do head -c 8M /dev/urandom > "$1/src$i" || exit 1; done"#, local)
        XCTAssertEqual(gen.status, 0, gen.summary)
        let r = sh(#"""
            pids=""
            for i in 1 2 3 4 5 6 7 8; do
              if [ $((i % 2)) = 0 ]; then
                dd if="$1/src$i" of="$2/w$i" bs=128K status=none &
              else
                cp -- "$1/src$i" "$2/w$i" &
              fi
              pids="$pids $!"
            done
            # Wait by pid: `wait -n` may miss a job that was reaped before it was called.
            st=0
            for p in $pids; do wait "$p" || { echo "writer pid $p exited $?" >&2; st=1; }; done
            exit $st
            """#, local, mdir, timeout: 600)
        XCTAssertEqual(r.status, 0, r.summary)
        for i in 1...8 {
            assertSameBytes(mount: mdir + "/w\(i)", server: sdir + "/w\(i)", expected: local + "/src\(i)",
                            "writer \(i)")
        }
    }
}
