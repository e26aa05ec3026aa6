import Foundation
import XCTest

/// Errors of a `-o rw` mount, each asserted by errno (never by message text).
final class WriteErrorTests: ReadWriteTestCase {
    /// Server-side fixture in the test directory, owned by the Samba user:
    /// file, file2, dir/child, emptydir, emptydir2.
    func makeFixture() {
        let r = sh(#"""
            cd -- "$1" && echo one > file && echo two > file2 && mkdir dir emptydir emptydir2 &&
              echo child > dir/child && chown -R -- "$2" .
            """#, sdir, env.user)
        XCTAssertEqual(r.status, 0, r.summary)
    }

    func serverListing() -> String {
        sh(#"cd -- "$1" && find . -printf '%y %P %s\n' | LC_ALL=C sort"#, sdir).stdout
    }

    func testENOENT() throws {
        makeFixture()
        let before = serverListing()
        let got = probe(#"""
            d = sys.argv[1]
            attempt("open-missing", lambda: os.close(os.open(d + "/missing", os.O_RDONLY)))
            attempt("open-missing-wronly", lambda: os.close(os.open(d + "/missing", os.O_WRONLY)))
            attempt("stat-missing", lambda: os.stat(d + "/missing"))
            attempt("mkdir-under-missing", lambda: os.mkdir(d + "/missing/sub"))
            attempt("create-under-missing", lambda: create(d + "/missing/new"))
            attempt("unlink-missing", lambda: os.unlink(d + "/missing"))
            attempt("rmdir-missing", lambda: os.rmdir(d + "/missing"))
            attempt("rename-missing", lambda: os.rename(d + "/missing", d + "/other"))
            attempt("rename-into-missing-dir", lambda: os.rename(d + "/file", d + "/missing/file"))
            attempt("truncate-missing", lambda: os.truncate(d + "/missing", 0))
            """#, mdir)
        assertProbe(got, [
            "open-missing": ["ENOENT"], "open-missing-wronly": ["ENOENT"], "stat-missing": ["ENOENT"],
            "mkdir-under-missing": ["ENOENT"], "create-under-missing": ["ENOENT"],
            "unlink-missing": ["ENOENT"], "rmdir-missing": ["ENOENT"], "rename-missing": ["ENOENT"],
            "rename-into-missing-dir": ["ENOENT"], "truncate-missing": ["ENOENT"],
        ])
        XCTAssertEqual(serverListing(), before, "the server-side directory changed")
    }

    func testEEXIST() throws {
        makeFixture()
        let before = serverListing()
        let got = probe(#"""
            d = sys.argv[1]
            X = os.O_WRONLY | os.O_CREAT | os.O_EXCL
            attempt("excl-existing-file", lambda: os.close(os.open(d + "/file", X, 0o644)))
            attempt("excl-existing-dir", lambda: os.close(os.open(d + "/dir", X, 0o644)))
            attempt("mkdir-existing-dir", lambda: os.mkdir(d + "/dir"))
            attempt("mkdir-existing-file", lambda: os.mkdir(d + "/file"))
            attempt("noreplace-file", lambda: renameat2(d + "/file", d + "/file2", RENAME_NOREPLACE))
            attempt("noreplace-dir", lambda: renameat2(d + "/emptydir", d + "/dir", RENAME_NOREPLACE))
            """#, mdir)
        assertProbe(got, [
            "excl-existing-file": ["EEXIST"], "excl-existing-dir": ["EEXIST"], "mkdir-existing-dir": ["EEXIST"],
            "mkdir-existing-file": ["EEXIST"], "noreplace-file": ["EEXIST"], "noreplace-dir": ["EEXIST"],
        ])
        XCTAssertEqual(serverListing(), before, "the server-side directory changed")
        XCTAssertEqual(try? String(contentsOfFile: sdir + "/file2", encoding: .utf8), "two\n")

        // A name the mount has just seen missing, then created on the server: O_EXCL and
        // RENAME_NOREPLACE must still answer EEXIST (the server decides, not a stale cache).
        let miss = probe(#"""
            d = sys.argv[1]
            attempt("stat-late", lambda: os.stat(d + "/late"))
            attempt("stat-late2", lambda: os.stat(d + "/late2"))
            """#, mdir)
        assertProbe(miss, ["stat-late": ["ENOENT"], "stat-late2": ["ENOENT"]])
        let make = sh(#"cd -- "$1" && echo late > late && echo late2 > late2 && chown -- "$2" late late2"#,
                      sdir, env.user)
        XCTAssertEqual(make.status, 0, make.summary)
        let late = probe(#"""
            d = sys.argv[1]
            attempt("excl-created-on-server", lambda: os.close(os.open(d + "/late", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)))
            attempt("noreplace-created-on-server", lambda: renameat2(d + "/file", d + "/late2", RENAME_NOREPLACE))
            """#, mdir)
        assertProbe(late, ["excl-created-on-server": ["EEXIST"], "noreplace-created-on-server": ["EEXIST"]])
        XCTAssertEqual(try? String(contentsOfFile: sdir + "/late", encoding: .utf8), "late\n")
        XCTAssertEqual(try? String(contentsOfFile: sdir + "/late2", encoding: .utf8), "late2\n")
        XCTAssertEqual(try? String(contentsOfFile: sdir + "/file", encoding: .utf8), "one\n")
    }

    func testENOTEMPTY() throws {
        makeFixture()
        // emptydir2 is listed (empty) through the mount, then gets a file on the server.
        XCTAssertEqual(sh(#"ls -A -- "$1""#, mdir + "/emptydir2").stdout, "")
        let add = sh(#"echo x > "$1/x" && chown -- "$2" "$1/x""#, sdir + "/emptydir2", env.user)
        XCTAssertEqual(add.status, 0, add.summary)
        let got = probe(#"""
            d = sys.argv[1]
            attempt("rmdir-nonempty", lambda: os.rmdir(d + "/dir"))
            attempt("rmdir-filled-on-server", lambda: os.rmdir(d + "/emptydir2"))
            """#, mdir)
        assertProbe(got, ["rmdir-nonempty": ["ENOTEMPTY"], "rmdir-filled-on-server": ["ENOTEMPTY"]])
        XCTAssertEqual(try? String(contentsOfFile: sdir + "/dir/child", encoding: .utf8), "child\n")
        XCTAssertEqual(try? String(contentsOfFile: sdir + "/emptydir2/x", encoding: .utf8), "x\n")
        XCTAssertEqual(try? String(contentsOfFile: mdir + "/dir/child", encoding: .utf8), "child\n")
    }

    func testEISDIRAndENOTDIR() throws {
        makeFixture()
        let before = serverListing()
        let got = probe(#"""
            d = sys.argv[1]
            attempt("open-dir-wronly", lambda: os.close(os.open(d + "/dir", os.O_WRONLY)))
            attempt("open-dir-rdwr", lambda: os.close(os.open(d + "/dir", os.O_RDWR)))
            attempt("create-over-dir", lambda: os.close(os.open(d + "/dir", os.O_WRONLY | os.O_CREAT, 0o644)))
            attempt("unlink-dir", lambda: os.unlink(d + "/emptydir"))
            attempt("rename-file-over-dir", lambda: os.rename(d + "/file", d + "/emptydir"))
            attempt("mkdir-under-file", lambda: os.mkdir(d + "/file/sub"))
            attempt("create-under-file", lambda: create(d + "/file/new"))
            attempt("rmdir-file", lambda: os.rmdir(d + "/file"))
            attempt("rename-dir-over-file", lambda: os.rename(d + "/emptydir", d + "/file"))
            """#, mdir)
        assertProbe(got, [
            "open-dir-wronly": ["EISDIR"], "open-dir-rdwr": ["EISDIR"], "create-over-dir": ["EISDIR"],
            "unlink-dir": ["EISDIR"], "rename-file-over-dir": ["EISDIR"],
            "mkdir-under-file": ["ENOTDIR"], "create-under-file": ["ENOTDIR"], "rmdir-file": ["ENOTDIR"],
            "rename-dir-over-file": ["ENOTDIR"],
        ])
        XCTAssertEqual(serverListing(), before, "the server-side directory changed")
    }

    /// The server's read-only share mounted with `-o rw`: changes are refused (Samba answers
    /// ACCESS_DENIED: EACCES; EROFS if smb3fs learns the share is read-only), reads work.
    func testReadOnlyShareMountedRw() throws {
        let point = makeDir("ro-share")
        guard mountOK(source: "//\(env.host)/\(env.roShare)", at: point,
                      options: ["credentials=\(credentials!)", "rw"]) else { return }
        let roPath = (env.sharePath as NSString).deletingLastPathComponent + "/" + env.roShare
        let before = sh(#"cd -- "$1" && find . -printf '%y %P %s %T@\n' | LC_ALL=C sort"#, roPath).stdout
        XCTAssertEqual(try? String(contentsOfFile: point + "/readme.txt", encoding: .utf8), "hello\n")
        let got = probe(#"""
            d = sys.argv[1]
            attempt("create", lambda: create(d + "/new-file", b"x"))
            attempt("mkdir", lambda: os.mkdir(d + "/new-dir"))
            attempt("open-wronly", lambda: os.close(os.open(d + "/readme.txt", os.O_WRONLY)))
            attempt("truncate", lambda: os.truncate(d + "/readme.txt", 0))
            attempt("unlink", lambda: os.unlink(d + "/readme.txt"))
            attempt("rename", lambda: os.rename(d + "/readme.txt", d + "/renamed.txt"))
            """#, point)
        let refused: Set<String> = ["EACCES", "EROFS"]
        assertProbe(got, ["create": refused, "mkdir": refused, "open-wronly": refused, "truncate": refused,
                          "unlink": refused, "rename": refused])
        let after = sh(#"cd -- "$1" && find . -printf '%y %P %s %T@\n' | LC_ALL=C sort"#, roPath).stdout
        XCTAssertEqual(after, before, "the read-only share changed on the server")
        XCTAssertEqual(try? String(contentsOfFile: point + "/readme.txt", encoding: .utf8), "hello\n")
    }

    /// Where the server's file system denies the Samba user (a directory and a file owned by
    /// root, mode 0755 / 0644): EACCES.
    func testEACCESWhereServerDenies() throws {
        let r = sh(#"""
            cd -- "$1" && mkdir denied && echo root > denied/rootfile && echo root > rootfile &&
              chmod 0755 denied && chmod 0644 denied/rootfile rootfile
            """#, sdir)
        XCTAssertEqual(r.status, 0, r.summary)
        let before = serverListing()
        let got = probe(#"""
            d = sys.argv[1]
            attempt("create-in-denied-dir", lambda: create(d + "/denied/new", b"x"))
            attempt("excl-create-in-denied-dir", lambda: create(d + "/denied/new2", b"", os.O_WRONLY | os.O_CREAT | os.O_EXCL))
            attempt("mkdir-in-denied-dir", lambda: os.mkdir(d + "/denied/sub"))
            attempt("unlink-in-denied-dir", lambda: os.unlink(d + "/denied/rootfile"))
            attempt("rename-out-of-denied-dir", lambda: os.rename(d + "/denied/rootfile", d + "/moved"))
            attempt("open-root-file-wronly", lambda: os.close(os.open(d + "/rootfile", os.O_WRONLY)))
            attempt("truncate-root-file", lambda: os.truncate(d + "/rootfile", 0))
            """#, mdir)
        assertProbe(got, [
            "create-in-denied-dir": ["EACCES"], "excl-create-in-denied-dir": ["EACCES"],
            "mkdir-in-denied-dir": ["EACCES"], "unlink-in-denied-dir": ["EACCES"],
            "rename-out-of-denied-dir": ["EACCES"], "open-root-file-wronly": ["EACCES"],
            "truncate-root-file": ["EACCES"],
        ])
        XCTAssertEqual(serverListing(), before, "the server-side directory changed")
        XCTAssertEqual(try? String(contentsOfFile: sdir + "/rootfile", encoding: .utf8), "root\n")
    }

    /// Writes go to the server behind the application; one the server refuses (a full disk:
    /// the directory is a 1 MiB tmpfs) is reported by a later write, fsync or close, never lost
    /// silently: ENOSPC, and the same through close after plain writes.
    func testWriteFailureIsReportedByFsyncAndClose() throws {
        let small = sdir + "/small"
        let m = sh(#"mkdir "$1" && mount -t tmpfs -o size=1m tmpfs "$1" && chown "$2" "$1""#, small, env.user)
        XCTAssertEqual(m.status, 0, m.summary)
        defer { _ = sh(#"umount "$1" || umount -l "$1""#, small) }
        let got = probe(#"""
            d = sys.argv[1] + "/small"
            chunk = b"z" * 65536
            def fill(name, end):
                fd = os.open(d + "/" + name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                try:
                    for _ in range(64):              # 4 MiB into 1 MiB
                        os.write(fd, chunk)
                    end(fd)
                finally:
                    try: os.close(fd)
                    except OSError: pass
            def with_close(fd):
                os.close(fd)
                raise OSError(0, "closed without error")
            attempt("fsync", lambda: fill("a", os.fsync))
            os.unlink(d + "/a")
            attempt("close", lambda: fill("b", with_close))
            os.unlink(d + "/b")
            # Each write(2) fits in flight and is acknowledged; the second cannot land (1.5 MiB
            # into 1 MiB): only fsync, and close, can tell.
            piece = b"w" * (768 << 10)
            fd = os.open(d + "/c", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            attempt("behind_write1", lambda: os.write(fd, piece))
            attempt("behind_write2", lambda: os.write(fd, piece))
            attempt("behind_fsync", lambda: os.fsync(fd))
            attempt("behind_close", lambda: os.close(fd))
            os.unlink(d + "/c")
            fd = os.open(d + "/e", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            attempt("close_write1", lambda: os.write(fd, piece))
            attempt("close_write2", lambda: os.write(fd, piece))
            attempt("close_close", lambda: os.close(fd))
            """#, mdir)
        // Filling 4 MiB, the error may come from a later write already; it must come before
        // fsync/close succeed.
        assertProbe(got, ["fsync": ["ENOSPC"], "close": ["ENOSPC"]])
        assertProbe(got, ["behind_write1": ["OK"], "behind_write2": ["OK"], "behind_fsync": ["ENOSPC"],
                          // Reported once: close after the fsync that told it succeeds.
                          "behind_close": ["OK"], "close_write1": ["OK"], "close_write2": ["OK"], "close_close": ["ENOSPC"]])
    }
}
