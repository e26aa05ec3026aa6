import Foundation
import XCTest

/// utimes, chmod, chown and statfs on a `-o rw` mount.
final class WriteMetadataTests: ReadWriteTestCase {
    func stat(_ format: String, _ path: String) -> String {
        let r = runCmd(["stat", "-c", format, path])
        return r.status == 0 ? r.stdout.trimmingCharacters(in: .whitespacesAndNewlines) : "stat failed: \(r.summary)"
    }

    /// Unmounts the setUp mount and mounts it again (nothing cached in the kernel or daemon).
    func remount(file: StaticString = #filePath, line: UInt = #line) -> Bool {
        unmount(mnt, file: file, line: line)
        return mountOK(at: mnt, options: ["credentials=\(credentials!)", "rw"], file: file, line: line)
    }

    /// touch -d on an existing file, a new file and a directory: stat -c %Y through the mount
    /// and on the server equal the given time, also after a remount; os.utime with a
    /// fractional time keeps at least the second.
    func testTouchDRoundTrips() throws {
        XCTAssertEqual(sh(#"echo data > "$1/existing" && mkdir "$1/dir""#, mdir).status, 0)
        let when = "2001-02-03 04:05:06"
        let epoch = sh(#"date -d "$1" +%s"#, when).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(epoch.count, 9, "date -d: \(epoch)")
        for name in ["existing", "created-by-touch", "dir"] {
            let t = runCmd(["touch", "-d", when, mdir + "/" + name])
            XCTAssertEqual(t.status, 0, t.summary)
            XCTAssertEqual(stat("%Y", mdir + "/" + name), epoch, "\(name): mtime through the mount")
            XCTAssertEqual(stat("%Y", sdir + "/" + name), epoch, "\(name): mtime on the server")
            XCTAssertEqual(stat("%X", sdir + "/" + name), epoch, "\(name): atime on the server")
        }
        let u = python(#"import os, sys; os.utime(sys.argv[1], ns=(1_234_567_890_750_000_000, 1_234_567_891_250_000_000))"#,
                       mdir + "/existing")
        XCTAssertEqual(u.status, 0, u.summary)
        XCTAssertEqual(stat("%Y", mdir + "/existing"), "1234567891", "os.utime: mtime through the mount")
        XCTAssertEqual(stat("%Y", sdir + "/existing"), "1234567891", "os.utime: mtime on the server")
        XCTAssertEqual(try? String(contentsOfFile: sdir + "/existing", encoding: .utf8), "data\n",
                       "touch changed the content")

        guard remount() else { return }
        XCTAssertEqual(stat("%Y", mdir + "/existing"), "1234567891", "existing: mtime after a remount")
        XCTAssertEqual(stat("%Y", mdir + "/created-by-touch"), epoch, "created-by-touch: mtime after a remount")
        XCTAssertEqual(stat("%Y", mdir + "/dir"), epoch, "dir: mtime after a remount")
    }

    /// Times before 1970 and after 2038, with their nanoseconds to the 100 ns SMB keeps, through
    /// the mount, on the server and after a remount; UTIME_OMIT keeps a time and UTIME_NOW sets
    /// the present (touch -a, touch -m).
    func testTimesBefore1970AndAfter2038RoundTrip() throws {
        XCTAssertEqual(sh(#"echo data > "$1/f""#, mdir).status, 0)
        let times: [Int64] = [-315_619_200_123_456_700, 4_102_444_800_987_654_300]
        for t in times {
            let u = python(#"import os, sys; t = int(sys.argv[2]); os.utime(sys.argv[1], ns=(t, t))"#, mdir + "/f", String(t))
            XCTAssertEqual(u.status, 0, u.summary)
            let seconds = String(t >= 0 ? t / 1_000_000_000 : (t - 999_999_999) / 1_000_000_000)
            for (what, path) in [("mount", mdir + "/f"), ("server", sdir + "/f")] {
                XCTAssertEqual(stat("%Y %X", path), "\(seconds) \(seconds)", "\(t): \(what)")
            }
            let ns = python(#"import os, sys; s = os.stat(sys.argv[1]); print(s.st_mtime_ns, s.st_atime_ns)"#, mdir + "/f")
            XCTAssertEqual(ns.stdout, "\(t) \(t)\n", "\(t): nanoseconds through the mount")
        }
        guard remount() else { return }
        XCTAssertEqual(stat("%Y", mdir + "/f"), "4102444800", "after a remount")
        XCTAssertEqual(runCmd(["touch", "-a", "-d", "@7", mdir + "/f"]).status, 0)
        XCTAssertEqual(stat("%X %Y", mdir + "/f"), "7 4102444800", "touch -a: mtime omitted")
        XCTAssertEqual(stat("%X %Y", sdir + "/f"), "7 4102444800", "touch -a: on the server")
        let before = Int(Date().timeIntervalSince1970)
        XCTAssertEqual(runCmd(["touch", "-m", mdir + "/f"]).status, 0)
        let after = stat("%X %Y", sdir + "/f").split(separator: " ").compactMap { Int($0) }
        XCTAssertEqual(after.first, 7, "touch -m: atime omitted")
        XCTAssertTrue((after.last ?? 0) >= before - 1 && (after.last ?? 0) <= before + 60, "touch -m: mtime now: \(after)")
    }

    /// ctime moves with every change made through the mount, as POSIX says: chmod (even one
    /// that keeps the owner-write bit), chown to the same owner, rename, link, unlink of another
    /// name, utimes, truncate and write; nlink follows link and unlink.
    func testCtimeMovesOnEveryChange() throws {
        let r = python(#"""
            import os, sys
            os.chdir(sys.argv[1])
            open("f", "w").write("data")
            steps = [("chmod-w", lambda: os.chmod("f", 0o444), "f"), ("chmod+w", lambda: os.chmod("f", 0o644), "f"),
                     ("chmod-x", lambda: os.chmod("f", 0o600), "f"), ("chown", lambda: os.chown("f", os.getuid(), os.getgid()), "f"),
                     ("rename", lambda: os.rename("f", "g"), "g"), ("link", lambda: os.link("g", "h"), "g"),
                     ("unlink", lambda: os.unlink("h"), "g"), ("utime", lambda: os.utime("g", (1, 1)), "g"),
                     ("truncate", lambda: os.truncate("g", 1), "g"), ("write", lambda: open("g", "a").write("x"), "g")]
            name = "f"
            for what, step, after in steps:
                before = os.stat(name).st_ctime_ns
                step()
                name = after
                s = os.stat(name)
                print(what, "moved" if s.st_ctime_ns > before else "SAME", s.st_nlink)
            """#, mdir)
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertEqual(r.stdout, """
            chmod-w moved 1
            chmod+w moved 1
            chmod-x moved 1
            chown moved 1
            rename moved 1
            link moved 2
            unlink moved 1
            utime moved 1
            truncate moved 1
            write moved 1

            """)
    }

    /// Times set while the file is still open after writes (cp -p, cp -a and tar call futimens
    /// on the new file before close; the mount keeps them for the close) show at once, and
    /// survive the close, to the 100 ns SMB keeps, on the server and after a remount. A write
    /// after them moves the mtime on again.
    func testTimesSetWhileOpenSurviveClose() throws {
        let r = python(#"""
            import os, sys
            d = sys.argv[1]
            fd = os.open(d + "/shown", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.write(fd, b"w" * 10)
            os.utime(fd, ns=(1_100_000_000_123_456_700, 1_200_000_000_987_654_300))
            st, fst = os.stat(d + "/shown"), os.fstat(fd)
            print(st.st_atime_ns, st.st_mtime_ns, fst.st_atime_ns, fst.st_mtime_ns, st.st_size)
            os.close(fd)
            fd = os.open(d + "/then-written", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.write(fd, b"z")
            os.utime(fd, (1000000000, 1000000000))
            os.write(fd, b"z")
            os.close(fd)
            fd = os.open(d + "/futimens", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.write(fd, b"x" * 100000)
            os.utime(fd, (1000000000, 1000000000))
            os.close(fd)
            fd = os.open(d + "/by-path", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.write(fd, b"y" * 100000)
            os.utime(d + "/by-path", (1000000000, 1000000000))
            os.close(fd)
            """#, mdir)
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertEqual(r.stdout, "1100000000123456700 1200000000987654300 1100000000123456700 1200000000987654300 10\n",
                       "atime and mtime through the mount while still open")
        XCTAssertEqual(stat("%.9X %.9Y %s", sdir + "/shown"), "1100000000.123456700 1200000000.987654300 10",
                       "atime and mtime on the server after close")
        let now = Int(Date().timeIntervalSince1970)
        XCTAssertLessThanOrEqual(abs((Int(stat("%Y", sdir + "/then-written")) ?? 0) - now), 5,
                                 "a write after futimens: the server's mtime is not about now")
        XCTAssertEqual(stat("%Y", mdir + "/then-written"), stat("%Y", sdir + "/then-written"))
        let local = makeDir("cp-p") + "/old"
        XCTAssertEqual(sh(#"head -c 50000 /dev/urandom > "$1" && touch -d @1000000000 "$1""#, local).status, 0)
        let cp = runCmd(["cp", "-p", local, mdir + "/cp-p"])
        XCTAssertEqual(cp.status, 0, cp.summary)
        for name in ["futimens", "by-path", "cp-p"] {
            XCTAssertEqual(stat("%Y", sdir + "/" + name), "1000000000", "\(name): mtime on the server after close")
        }
        guard remount() else { return }
        for name in ["futimens", "by-path", "cp-p"] {
            XCTAssertEqual(stat("%Y", mdir + "/" + name), "1000000000", "\(name): mtime after a remount")
        }
        XCTAssertEqual(stat("%.9X %.9Y", mdir + "/shown"), "1100000000.123456700 1200000000.987654300",
                       "atime and mtime after a remount")
    }

    /// Writing through the mount moves the mtime to now (on both sides).
    func testWriteUpdatesMtime() throws {
        XCTAssertEqual(sh(#"echo old > "$1/f" && touch -d '2001-02-03 04:05:06' "$1/f""#, mdir).status, 0)
        let before = Int(stat("%Y", sdir + "/f")) ?? 0
        XCTAssertEqual(sh(#"echo more >> "$1/f""#, mdir).status, 0)
        let now = Int(Date().timeIntervalSince1970)
        let server = Int(stat("%Y", sdir + "/f")) ?? 0
        XCTAssertGreaterThan(server, before, "the server's mtime did not move")
        XCTAssertLessThanOrEqual(abs(server - now), 5, "the server's mtime is not about now")
        // The mount's own write is known at once: the same time through the mount, no waiting.
        XCTAssertEqual(stat("%.9Y", mdir + "/f"), stat("%.9Y", sdir + "/f"), "mtime through the mount vs the server")
    }

    /// chmod a-w ↔ the DOS read-only attribute. Other mode bits are accepted, not stored:
    /// the mode shown is file_mode (0644) without write bits when read-only.
    func testChmodReadOnly() throws {
        XCTAssertEqual(sh(#"echo data > "$1/f""#, mdir).status, 0)
        let f = mdir + "/f", rel = dirName + "/f"
        XCTAssertEqual(stat("%a", f), "644")
        XCTAssertEqual(dosAttributes(rel).map { $0.contains("R") }, false, "a new file is not read-only")

        XCTAssertEqual(runCmd(["chmod", "a-w", f]).status, 0)
        XCTAssertEqual(stat("%a", f), "444", "after chmod a-w")
        let attrs = dosAttributes(rel)
        XCTAssertEqual(attrs.map { $0.contains("R") }, true, "server-side DOS attributes after chmod a-w: \(attrs ?? "?")")
        guard remount() else { return }
        XCTAssertEqual(stat("%a", f), "444", "after chmod a-w and a remount")

        XCTAssertEqual(runCmd(["chmod", "u+w", f]).status, 0)
        XCTAssertEqual(stat("%a", f), "644", "after chmod u+w")
        XCTAssertEqual(dosAttributes(rel).map { $0.contains("R") }, false, "after chmod u+w on the server")

        // Other bits: accepted, not stored.
        for (mode, shown) in [("600", "644"), ("755", "644"), ("400", "444"), ("0", "444"), ("664", "644")] {
            let r = runCmd(["chmod", mode, f])
            XCTAssertEqual(r.status, 0, "chmod \(mode): \(r.summary)")
            XCTAssertEqual(stat("%a", f), shown, "mode shown after chmod \(mode)")
            XCTAssertEqual(dosAttributes(rel).map { $0.contains("R") }, shown == "444",
                           "server-side read-only attribute after chmod \(mode)")
        }
        guard remount() else { return }
        XCTAssertEqual(stat("%a", f), "644", "after the last chmod and a remount")
        XCTAssertEqual(try? String(contentsOfFile: f, encoding: .utf8), "data\n")
    }

    /// chown to the mount's own uid/gid succeeds and changes nothing; to anything else EPERM.
    func testChownRules() throws {
        XCTAssertEqual(sh(#"echo data > "$1/f" && mkdir "$1/d""#, mdir).status, 0)
        let uid = stat("%u", mnt), gid = stat("%g", mnt)
        XCTAssertEqual(uid, String(getuid()), "the mount's uid defaults to the mounting user's")
        let got = probe(#"""
            d, uid, gid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
            for name in ["f", "d"]:
                p = d + "/" + name
                attempt(name + "-same", lambda: os.chown(p, uid, gid))
                attempt(name + "-nothing", lambda: os.chown(p, -1, -1))
                attempt(name + "-same-uid-only", lambda: os.chown(p, uid, -1))
                attempt(name + "-other-uid", lambda: os.chown(p, uid + 1, -1))
                attempt(name + "-other-gid", lambda: os.chown(p, -1, gid + 1))
                attempt(name + "-other-both", lambda: os.chown(p, 4321, 4321))
            """#, mdir, uid, gid)
        var want: [String: Set<String>] = [:]
        for name in ["f", "d"] {
            want[name + "-same"] = ["OK"]
            want[name + "-nothing"] = ["OK"]
            want[name + "-same-uid-only"] = ["OK"]
            want[name + "-other-uid"] = ["EPERM"]
            want[name + "-other-gid"] = ["EPERM"]
            want[name + "-other-both"] = ["EPERM"]
        }
        assertProbe(got, want)
        XCTAssertEqual(stat("%u %g", mdir + "/f"), "\(uid) \(gid)")
        XCTAssertEqual(stat("%u %g", mdir + "/d"), "\(uid) \(gid)")
        let chownTool = runCmd(["chown", "\(uid):\(gid)", mdir + "/f"])
        XCTAssertEqual(chownTool.status, 0, chownTool.summary)
    }

    /// statfs on the rw mount agrees with the server's file system.
    func testStatfs() throws {
        let sizes = #"""
            import os, sys
            s = os.statvfs(sys.argv[1])
            print(s.f_blocks * s.f_frsize, s.f_bavail * s.f_frsize, s.f_bsize > 0, s.f_namemax)
            """#
        let server = python(sizes, env.sharePath), mounted = python(sizes, mdir)
        XCTAssertEqual(mounted.status, 0, mounted.summary)
        let sv = server.stdout.split(whereSeparator: \.isWhitespace).map(String.init)
        let mv = mounted.stdout.split(whereSeparator: \.isWhitespace).map(String.init)
        guard sv.count == 4, mv.count == 4, let s0 = Double(sv[0]), let m0 = Double(mv[0]),
              let s1 = Double(sv[1]), let m1 = Double(mv[1])
        else { return XCTFail("statvfs: \(server.stdout) / \(mounted.summary)") }
        XCTAssertEqual(m0, s0, accuracy: s0 * 0.01, "total bytes")
        XCTAssertEqual(m1, s1, accuracy: s0 * 0.02, "available bytes")
        XCTAssertEqual(mv[2], "True", "f_bsize")
        XCTAssertGreaterThan(Int(mv[3]) ?? 0, 0, "f_namemax")
        let df = runCmd(["df", "-P", mdir])
        XCTAssertEqual(df.status, 0, df.summary)
    }
}
