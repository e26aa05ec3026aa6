// Issue 5: two mounts are two SMB clients; what one changes, the other sees, within what the
// cache settings promise. No timing is asserted: where the other side learns of a change
// asynchronously (a lease break), the test waits for the event with a bound.
import Foundation
import XCTest

final class CoherenceTests: ReadWriteTestCase {
    /// A second mount of the same share (another SMB client) and the test directory through it.
    func secondMount(_ options: [String] = []) -> String? {
        let other = makeDir("other")
        guard mountOK(at: other, options: ["credentials=\(credentials!)", "rw"] + options) else { return nil }
        return other + "/" + dirName
    }

    /// Close-to-open: A writes and closes; B, which read the old, shorter version a moment
    /// before (its attributes cached for 30 s), opens the file again and reads all the new bytes.
    func testCloseToOpenAcrossClients() throws {
        guard let b = secondMount(["actimeo=30"]) else { return }
        XCTAssertEqual(sh(#"printf first > "$1/f""#, mdir).status, 0)
        XCTAssertEqual(runCmd(["cat", b + "/f"]).stdout, "first")
        XCTAssertEqual(sh(#"printf 'second, and longer than the first' > "$1/f""#, mdir).status, 0)
        XCTAssertEqual(runCmd(["cat", b + "/f"]).stdout, "second, and longer than the first")
    }

    /// B keeps a file open with its pages cached; A overwrites it (same length) and closes.
    /// The server breaks B's read lease, B drops its pages, and B's reads on the same descriptor
    /// return A's bytes. B caches attributes for 30 s, so only the lease break can tell it.
    func testLeaseBreakDropsTheOtherClientsCachedPages() throws {
        guard let b = secondMount(["actimeo=30"]) else { return }
        XCTAssertEqual(sh(#"printf AAAAAAAAAAAAAAAA > "$1/g""#, mdir).status, 0)
        let go = work + "/go", ready = work + "/ready"
        guard var reader = spawn(["python3", "-c", #"""
            import os, sys, time
            path, go, ready = sys.argv[1:4]
            fd = os.open(path, os.O_RDONLY)
            print("before", os.pread(fd, 16, 0).decode(), flush=True)
            os.pread(fd, 16, 0)                       # from the page cache now
            open(ready, "w").close()
            while not os.path.exists(go): time.sleep(0.01)
            start = time.monotonic()
            while True:
                now = os.pread(fd, 16, 0).decode()
                if now != "A" * 16 or time.monotonic() - start > 10: break
                time.sleep(0.01)
            print("after", now, flush=True)
            print("waited", round(time.monotonic() - start, 3), file=sys.stderr)
            """#, b + "/g", go, ready], stdoutPath: work + "/reader.out", stderrPath: work + "/reader.err")
        else { return XCTFail("cannot start the reader") }
        XCTAssertTrue(waitUntil(30) { FileManager.default.fileExists(atPath: ready) || !reader.poll() })
        XCTAssertEqual(sh(#"printf BBBBBBBBBBBBBBBB > "$1/g""#, mdir).status, 0)
        XCTAssertTrue(FileManager.default.createFile(atPath: go, contents: nil))
        XCTAssertTrue(reader.wait(60), "reader did not finish")
        let out = (try? String(contentsOfFile: work + "/reader.out", encoding: .utf8)) ?? ""
        print("CoherenceTests:", (try? String(contentsOfFile: work + "/reader.err", encoding: .utf8)) ?? "")
        XCTAssertEqual(out, "before AAAAAAAAAAAAAAAA\nafter BBBBBBBBBBBBBBBB\n",
                       "the open descriptor kept serving the old pages")
    }

    /// Files created and removed directly in the share's directory on the server show in B's
    /// `ls` and `stat` within 1 s (the issue's bound), although B caches entries and listings
    /// for 30 s: B watches the directory it listed (CHANGE_NOTIFY) and drops what changed.
    func testServerSideChangesShowWithinASecond() throws {
        guard let b = secondMount(["actimeo=30"]) else { return }
        func names() -> [String] { runCmd(["ls", b]).stdout.split(separator: "\n").map(String.init) }
        XCTAssertEqual(sh(#"printf x > "$1/before" && chown "$2" "$1/before""#, sdir, env.user).status, 0)
        XCTAssertEqual(names(), ["before"])
        XCTAssertNotEqual(runCmd(["stat", b + "/new"]).status, 0)        // now a cached negative entry
        XCTAssertEqual(sh(#"printf y > "$1/new""#, sdir).status, 0)
        var start = Date()
        XCTAssertTrue(waitUntil(1) { names() == ["before", "new"] && runCmd(["stat", b + "/new"]).status == 0 },
                      "a file created on the server is not seen within 1 s: \(names())")
        print("CoherenceTests: created on the server, seen after", Date().timeIntervalSince(start), "s")
        XCTAssertEqual(runCmd(["rm", sdir + "/before"]).status, 0)
        start = Date()
        XCTAssertTrue(waitUntil(1) { names() == ["new"] && runCmd(["stat", b + "/before"]).status != 0 },
                      "a file removed on the server is still seen after 1 s: \(names())")
        print("CoherenceTests: removed on the server, gone after", Date().timeIntervalSince(start), "s")
    }

    /// Directories listed again are watched through open handles; renaming one, or a directory
    /// above it, and removing the tree still work through the same mount, and through another
    /// client whose listings keep the directories watched.
    func testWatchedDirectoriesCanBeRenamedAndRemoved() throws {
        guard let b = secondMount() else { return }
        let twice = #"ls -R "$1" > /dev/null && ls -R "$1" > /dev/null"#
        XCTAssertEqual(sh(#"mkdir -p "$1/p/q/r" && echo f > "$1/p/q/r/f""#, mdir).status, 0)
        XCTAssertEqual(sh(twice, mdir + "/p").status, 0)
        XCTAssertEqual(sh(twice, b + "/p").status, 0)
        XCTAssertEqual(runCmd(["mv", mdir + "/p", mdir + "/p2"]).status, 0)
        XCTAssertEqual(runCmd(["cat", mdir + "/p2/q/r/f"]).stdout, "f\n")
        XCTAssertEqual(sh(twice, b + "/p2").status, 0)
        XCTAssertEqual(runCmd(["mv", mdir + "/p2/q", mdir + "/q2"]).status, 0)
        let rm = runCmd(["rm", "-rf", mdir + "/p2", mdir + "/q2"])
        XCTAssertEqual(rm.status, 0, rm.stderr)
        XCTAssertEqual(runCmd(["ls", mdir]).stdout, "")
        // The second mount's watches on the removed directories hold them delete-pending until
        // it hears of the removal and closes them: a moment, not the timeout.
        XCTAssertTrue(waitUntil(2) { (try? FileManager.default.contentsOfDirectory(atPath: self.sdir)) == [] },
                      "removed directories linger on the server")
        XCTAssertEqual(runCmd(["mkdir", mdir + "/p2"]).status, 0, "the removed name is free again")
    }

    /// Listings cached for 30 s (no notifications to drop them) follow what the same mount
    /// changes: after every step the mount's listing, sizes and lookups equal the server's.
    func testOwnChangesKeepCachedListingsTrue() throws {
        guard let b = secondMount(["actimeo=30", "nonotify"]) else { return }
        let r = runCmd(["python3", "-c", #"""
            import os, sys
            mnt, srv = sys.argv[1:3]
            links = set()   # symlinks are Minshall-French files on the server
            def view(root):
                out = {}
                for dp, dns, fns in os.walk(root):
                    for n in dns + fns:
                        p = os.path.join(dp, n)
                        st = os.lstat(p)
                        rel = os.path.relpath(p, root)
                        out[rel] = "l" if rel in links else st.st_size if os.path.isfile(p) else "d"
                return out
            def check(step, absent=()):
                m, s = view(mnt), view(srv)
                if m != s: sys.exit(f"{step}: mount {sorted(m.items())} server {sorted(s.items())}")
                for n in absent:
                    if os.path.lexists(os.path.join(mnt, n)): sys.exit(f"{step}: {n} still there")
            def write(n, data, mode="w"):
                with open(os.path.join(mnt, n), mode) as f: f.write(data)
            os.mkdir(f"{mnt}/d"); check("mkdir")
            write("d/a", "1"); write("d/b", "22"); check("create")
            os.rename(f"{mnt}/d/a", f"{mnt}/d/c"); check("rename", ["d/a"])
            write("d/b", "333", "a"); check("append")
            os.unlink(f"{mnt}/d/c"); check("unlink", ["d/c"])
            write("d/c", "4444"); check("create again")
            # The directory's own times move with what is created in it, though the server
            # is not asked for them again within the timeout.
            os.stat(f"{mnt}/d"); before = os.stat(f"{mnt}/d").st_mtime_ns
            write("d/e", ""); os.unlink(f"{mnt}/d/e")
            if os.stat(f"{mnt}/d").st_mtime_ns <= before: sys.exit("the directory's mtime did not move")
            check("create and remove")
            os.mkdir(f"{mnt}/d/sub"); write("d/sub/x", "x"); check("mkdir inside")
            os.rename(f"{mnt}/d/sub", f"{mnt}/d/sub2"); check("rename dir", ["d/sub", "d/sub/x"])
            os.mkdir(f"{mnt}/d/sub"); check("mkdir old name")
            os.rmdir(f"{mnt}/d/sub"); check("rmdir", ["d/sub"])
            os.truncate(f"{mnt}/d/b", 0); check("truncate")
            os.symlink("b", f"{mnt}/d/s"); links.add("d/s"); check("symlink")
            if os.readlink(f"{mnt}/d/s") != "b": sys.exit("symlink target")
            os.link(f"{mnt}/d/c", f"{mnt}/d/h"); check("link")
            os.rename(f"{mnt}/d/b", f"{mnt}/d/c"); check("rename over", ["d/b"])
            """#, b, sdir])
        XCTAssertEqual(r.status, 0, r.stderr + r.stdout)
    }

    /// A directory renamed through the mount takes nothing of its cached listing to the name
    /// it left: a new directory made there on the server lists empty, although listings are
    /// cached for 30 s.
    func testRenamedDirectoryLeavesNoListingBehind() throws {
        guard let b = secondMount(["actimeo=30"]) else { return }
        XCTAssertEqual(sh(#"mkdir "$1/sub" && echo x > "$1/sub/x""#, mdir).status, 0)
        XCTAssertEqual(runCmd(["ls", b + "/sub"]).stdout, "x\n")
        XCTAssertEqual(runCmd(["ls", b]).stdout, "sub\n")
        XCTAssertEqual(runCmd(["mv", b + "/sub", b + "/sub2"]).status, 0)
        XCTAssertEqual(sh(#"mkdir "$1/sub" && chown "$2" "$1/sub""#, sdir, env.user).status, 0)
        // Only a change notification can tell (listings are cached 30 s): within a second or so.
        XCTAssertTrue(waitUntil(3) { runCmd(["ls", b]).stdout == "sub\nsub2\n" }, "the new directory is not seen within 3 s")
        XCTAssertEqual(runCmd(["ls", b + "/sub"]).stdout, "", "the renamed directory's listing answered for the new one")
        XCTAssertEqual(runCmd(["ls", b + "/sub2"]).stdout, "x\n")
    }

    /// A file opened again unchanged keeps the pages the kernel cached of it (keep_cache;
    /// fincore opens the file itself, so it sees what an open leaves). Changed on the server,
    /// the next open drops them and reads return the new bytes.
    func testUnchangedFileKeepsItsPagesAcrossOpens() throws {
        func resident() -> String {
            runCmd(["fincore", "--bytes", "--noheadings", "--output", "RES", mdir + "/k"]).stdout
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
        XCTAssertEqual(sh(#"head -c 1048576 /dev/urandom > "$1/k" && chown "$2" "$1/k""#, sdir, env.user).status, 0)
        XCTAssertEqual(sh(#"cat "$1/k" > /dev/null"#, mdir).status, 0)
        XCTAssertEqual(resident(), "1048576", "the pages read were dropped at the next open")
        XCTAssertEqual(sh(#"head -c 1000 /dev/urandom >> "$1/k""#, sdir).status, 0)
        XCTAssertEqual(resident(), "0", "pages of the old contents kept after the file changed")
        XCTAssertEqual(runCmd(["sha256sum", mdir + "/k"]).stdout.prefix(64), runCmd(["sha256sum", sdir + "/k"]).stdout.prefix(64))
    }

    /// cache=none: every stat asks the server, so a change made on the server shows at once.
    func testCacheNoneStatReflectsTheServer() throws {
        guard let b = secondMount(["cache=none"]) else { return }
        XCTAssertEqual(sh(#"printf 12345 > "$1/h" && chown "$2" "$1/h""#, sdir, env.user).status, 0)
        XCTAssertEqual(runCmd(["stat", "-c", "%s", b + "/h"]).stdout, "5\n")
        XCTAssertEqual(sh(#"printf 67890 >> "$1/h""#, sdir).status, 0)
        XCTAssertEqual(runCmd(["stat", "-c", "%s", b + "/h"]).stdout, "10\n")
        XCTAssertEqual(runCmd(["rm", sdir + "/h"]).status, 0)
        XCTAssertNotEqual(runCmd(["stat", b + "/h"]).status, 0, "a file removed on the server is still there")
    }
}
