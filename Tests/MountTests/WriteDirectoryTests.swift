import Foundation
import XCTest

/// mkdir, rmdir, rename and rm -rf through a `-o rw` mount, checked on the server.
final class WriteDirectoryTests: ReadWriteTestCase {
    /// Entries with their types, and the sizes of files (directory sizes differ by design).
    func listing(_ dir: String) -> String {
        sh(#"cd -- "$1" && find . -mindepth 1 \( -type f -printf '%y %P %s\n' \) -o -printf '%y %P\n' | LC_ALL=C sort"#,
           dir).stdout
    }

    func testMkdirPAndRmdirChain() throws {
        let mk = runCmd(["mkdir", "-p", mdir + "/a/b/c"])
        XCTAssertEqual(mk.status, 0, mk.summary)
        XCTAssertEqual(sh(#"stat -c %F -- "$1""#, sdir + "/a/b/c").stdout, "directory\n", "on the server")
        XCTAssertEqual(sh(#"stat -c %F -- "$1""#, mdir + "/a/b/c").stdout, "directory\n", "through the mount")
        XCTAssertEqual(sh(#"cd -- "$1" && find . -mindepth 1 | LC_ALL=C sort"#, mdir).stdout, "./a\n./a/b\n./a/b/c\n")
        // mkdir -p again: nothing to do, no error.
        XCTAssertEqual(runCmd(["mkdir", "-p", mdir + "/a/b/c"]).status, 0)

        let rm = sh(#"cd -- "$1" && rmdir a/b/c a/b a"#, mdir)
        XCTAssertEqual(rm.status, 0, rm.summary)
        XCTAssertEqual(sh(#"ls -A -- "$1""#, sdir).stdout, "", "server-side directory after rmdir")
        XCTAssertEqual(sh(#"ls -A -- "$1""#, mdir).stdout, "", "directory through the mount after rmdir")
        XCTAssertNotEqual(runCmd(["stat", mdir + "/a"]).status, 0, "a still exists through the mount")
    }

    /// A directory with files and a subdirectory, renamed; then a subdirectory moved to
    /// another parent. Listings and contents follow, on both sides; the old names are gone.
    func testRenameDirectoryWithFiles() throws {
        let make = sh(#"""
            cd -- "$1" && mkdir -p src/sub other &&
            for i in 1 2 3 4 5; do head -c $((i * 7777)) /dev/urandom > "src/file $i"; done &&
            echo inner > src/sub/inner.txt
            """#, mdir)
        XCTAssertEqual(make.status, 0, make.summary)
        let want = listing(mdir + "/src")
        let sums = sh(#"cd -- "$1" && find . -type f -exec sha256sum {} + | LC_ALL=C sort"#, mdir + "/src").stdout
        XCTAssertEqual(want.split(separator: "\n").count, 7, want)

        let mv = python(#"import os, sys; os.rename(sys.argv[1] + "/src", sys.argv[1] + "/dst")"#, mdir)
        XCTAssertEqual(mv.status, 0, mv.summary)
        assertSameText(listing(mdir + "/dst"), want, "the renamed directory", actualName: "the mount's dst",
                       expectedName: "src before the rename")
        assertSameText(listing(sdir + "/dst"), want, "the renamed directory", actualName: "the server's dst",
                       expectedName: "src before the rename")
        XCTAssertEqual(sh(#"cd -- "$1" && find . -type f -exec sha256sum {} + | LC_ALL=C sort"#, mdir + "/dst").stdout,
                       sums, "contents after the rename")
        XCTAssertEqual(sh(#"ls -- "$1""#, mdir).stdout, "dst\nother\n")
        XCTAssertEqual(sh(#"ls -- "$1""#, sdir).stdout, "dst\nother\n")
        XCTAssertNotEqual(runCmd(["stat", mdir + "/src"]).status, 0, "the old name still exists through the mount")
        XCTAssertNotEqual(runCmd(["stat", mdir + "/src/file 1"]).status, 0, "a file under the old name still exists")

        let mv2 = runCmd(["mv", mdir + "/dst/sub", mdir + "/other/"])
        XCTAssertEqual(mv2.status, 0, mv2.summary)
        XCTAssertEqual(try? String(contentsOfFile: mdir + "/other/sub/inner.txt", encoding: .utf8), "inner\n")
        XCTAssertEqual(try? String(contentsOfFile: sdir + "/other/sub/inner.txt", encoding: .utf8), "inner\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: sdir + "/dst/sub"))
        XCTAssertEqual(sh(#"ls -- "$1""#, mdir + "/dst").stdout, "file 1\nfile 2\nfile 3\nfile 4\nfile 5\n")
    }

    /// Reading one subdirectory reads the next ones ahead (a tree walk); the tree can be renamed
    /// and removed at once after, while those reads may still be under way.
    func testTreeRenamedRightAfterAPartialWalk() throws {
        let make = sh(#"cd -- "$1" && for i in $(seq 1 12); do mkdir -p "p/d$i" && echo $i > "p/d$i/f"; done"#, mdir)
        XCTAssertEqual(make.status, 0, make.summary)
        let r = sh(#"""
            cd -- "$1" && for i in $(seq 1 10); do
                ls p > /dev/null && ls p/d1 > /dev/null && mv p q || exit 1
                ls q > /dev/null && ls q/d1 > /dev/null && mv q p || exit 2
            done && cat p/d12/f && ls p/d5 > /dev/null && rm -r p
            """#, mdir)
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertEqual(r.stdout, "12\n")
        XCTAssertEqual(sh(#"ls -A -- "$1""#, sdir).stdout, "")
    }

    /// rename(2) over an existing file replaces it (editors rely on it), also when the target
    /// was just read through the mount and across directories.
    func testRenameFileReplacesTarget() throws {
        let r = python(#"""
            import os, sys
            d = sys.argv[1]
            os.mkdir(d + "/sub")
            for name, data in [("a", b"A" * 70000), ("b", b"B" * 1000), ("sub/c", b"C" * 3)]:
                with open(os.path.join(d, name), "wb") as f:
                    f.write(data)
            with open(d + "/b", "rb") as f:
                assert f.read() == b"B" * 1000
            os.rename(d + "/a", d + "/b")
            with open(d + "/b", "rb") as f:
                got = f.read()
                assert got == b"A" * 70000, "b after rename: %d bytes, %r..." % (len(got), got[:10])
            assert not os.path.exists(d + "/a"), "a still exists"
            os.rename(d + "/b", d + "/sub/c")
            with open(d + "/sub/c", "rb") as f:
                assert f.read() == b"A" * 70000, "sub/c after rename"
            assert sorted(os.listdir(d)) == ["sub"], os.listdir(d)
            assert os.listdir(d + "/sub") == ["c"], os.listdir(d + "/sub")
            """#, mdir)
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertEqual(sh(#"cd -- "$1" && find . -mindepth 1 -printf '%y %P\n' | LC_ALL=C sort"#, sdir).stdout,
                       "d sub\nf sub/c\n", "server side after the renames")
        let server = python(#"import sys; print(open(sys.argv[1], "rb").read() == b"A" * 70000)"#, sdir + "/sub/c")
        XCTAssertEqual(server.stdout, "True\n", "sub/c on the server: \(server.summary)")
    }

    /// renameat2(RENAME_NOREPLACE): EEXIST onto an existing name (both files unchanged),
    /// a plain move onto a free name.
    func testRenameNoReplace() throws {
        XCTAssertEqual(sh(#"cd -- "$1" && echo first > x && echo second > y"#, mdir).status, 0)
        let got = probe(#"""
            d = sys.argv[1]
            attempt("noreplace-existing", lambda: renameat2(d + "/x", d + "/y", RENAME_NOREPLACE))
            attempt("noreplace-free", lambda: renameat2(d + "/x", d + "/z", RENAME_NOREPLACE))
            """#, mdir)
        assertProbe(got, ["noreplace-existing": ["EEXIST"], "noreplace-free": ["OK"]])
        XCTAssertEqual(try? String(contentsOfFile: sdir + "/y", encoding: .utf8), "second\n")
        XCTAssertEqual(try? String(contentsOfFile: sdir + "/z", encoding: .utf8), "first\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: sdir + "/x"))
        XCTAssertEqual(sh(#"ls -- "$1""#, mdir).stdout, "y\nz\n")
    }

    /// rm -rf of a tree of 500 files (made on the server) leaves the directory empty.
    func testRmRfTree() throws {
        let make = sh(#"""
            cd -- "$1" && for a in 1 2 3 4 5; do for b in 1 2 3 4 5; do
              mkdir -p "tree/d$a/e $b" && for i in $(seq 20); do echo "$a $b $i" > "tree/d$a/e $b/f$i"; done
            done; done && chown -R -- "$2" tree
            """#, sdir, env.user)
        XCTAssertEqual(make.status, 0, make.summary)
        XCTAssertEqual(sh(#"find "$1" -type f | wc -l"#, mdir + "/tree").stdout, "500\n", "files through the mount")
        let rm = runCmd(["rm", "-rf", mdir + "/tree"], timeout: 600)
        XCTAssertEqual(rm.status, 0, rm.summary)
        XCTAssertEqual(rm.stderr, "")
        XCTAssertEqual(sh(#"ls -A -- "$1""#, sdir).stdout, "", "server-side directory after rm -rf")
        XCTAssertEqual(sh(#"ls -A -- "$1""#, mdir).stdout, "", "directory through the mount after rm -rf")
    }
}

/// Changes on one side are seen on the other: through the mount → on the server at once;
/// on the server → through the mount once the attribute timeout (1 s) has passed.
final class WriteVisibilityTests: ReadWriteTestCase {
    func testCreatedThroughMountVisibleOnServer() throws {
        let local = makeDir("vis")
        let gen = sh(#"head -c 123457 /dev/urandom > "$1/data""#, local)
        XCTAssertEqual(gen.status, 0, gen.summary)
        let r = sh(#"cp -- "$1/data" "$2/copied" && mkdir "$2/newdir" && echo hello > "$2/newdir/hello""#,
                   local, mdir)
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertEqual(sh(#"ls -- "$1""#, sdir).stdout, "copied\nnewdir\n")
        XCTAssertEqual(sha(sdir + "/copied"), sha(local + "/data"), "bytes on the server")
        XCTAssertEqual(try? String(contentsOfFile: sdir + "/newdir/hello", encoding: .utf8), "hello\n")
    }

    func testCreatedOnServerVisibleThroughMount() throws {
        XCTAssertEqual(sh(#"ls -A -- "$1""#, mdir).stdout, "", "fresh directory through the mount")
        let gen = sh(#"head -c 100003 /dev/urandom > "$1/from-server" && mkdir "$1/server-dir""#, sdir)
        XCTAssertEqual(gen.status, 0, gen.summary)
        let t = Date()
        // The attribute timeout (1 s), with room for a loaded machine.
        let seen = waitUntil(3) { self.sh2ls(self.mdir) == "from-server\nserver-dir\n" }
        XCTAssertTrue(seen, "not listed through the mount within 3 s: ls shows [\(sh2ls(mdir))]")
        print(String(format: "MountTests: a server-side file appeared in the mount's listing after %.2f s",
                     Date().timeIntervalSince(t)))
        XCTAssertEqual(sha(mdir + "/from-server"), sha(sdir + "/from-server"), "bytes through the mount")
        XCTAssertEqual(size(mdir + "/from-server"), "100003")
    }

    /// A file read through the mount, then rewritten (other size, other mtime) and finally
    /// removed on the server: the mount follows within the deadline.
    func testServerSideChangeAndRemovalVisibleThroughMount() throws {
        let w = sh(#"head -c 200000 /dev/urandom > "$1/f""#, mdir)
        XCTAssertEqual(w.status, 0, w.summary)
        XCTAssertEqual(sha(mdir + "/f"), sha(sdir + "/f"))
        let rewrite = sh(#"head -c 150001 /dev/urandom > "$1/new" && touch -d '-1 hour' "$1/new" && cat "$1/new" > "$1/f" && touch -d '-1 hour' "$1/f""#,
                         sdir)
        XCTAssertEqual(rewrite.status, 0, rewrite.summary)
        let want = sha(sdir + "/new")
        XCTAssertTrue(waitUntil(3) { self.sha(self.mdir + "/f") == want },
                      "the server's new content is not seen through the mount within 3 s (size \(size(mdir + "/f")))")
        XCTAssertEqual(runCmd(["rm", sdir + "/f"]).status, 0)
        XCTAssertTrue(waitUntil(3) { self.sh2ls(self.mdir) == "new\n" && !FileManager.default.fileExists(atPath: self.mdir + "/f") },
                      "the removal on the server is not seen through the mount within 3 s: [\(sh2ls(mdir))]")
    }

    func sh2ls(_ dir: String) -> String { sh(#"ls -A -- "$1""#, dir).stdout }
}
