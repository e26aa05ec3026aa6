import Foundation
import XCTest

/// A mount that uses the SMB3 POSIX extensions (Samba 4.22 with `smb3 unix extensions`): the
/// server's own modes, owners, link counts and file types, case-sensitive names and names with
/// characters Windows forbids, unmapped. Two mounts: the one that changes, and a second with
/// `actimeo=0` that reads what the server kept; the server's filesystem is checked too.
final class PosixModeTests: MountTestCase {
    override var mountsInSetUp: Bool { false }
    var dirName: String!
    /// Server-side path of this test's directory.
    var sdir: String!
    var other: String!
    var source: String!

    override func setUpWithError() throws {
        try super.setUpWithError()
        let e = ProcessInfo.processInfo.environment
        guard let host = e["SMB3FS_POSIX_HOST"], let path = e["SMB3FS_POSIX_SHARE_PATH"] else {
            XCTFail("SMB3FS_POSIX_HOST and SMB3FS_POSIX_SHARE_PATH are set by Scripts/test")
            throw SetUpFailed(what: "the POSIX test server")
        }
        source = "//\(host)/rw"
        dirName = "posixm-" + UUID().uuidString.prefix(8).lowercased()
        sdir = path + "/" + dirName
        let r = sh(#"mkdir -p -- "$1" && chown -- "$2" "$1" && chmod 0777 -- "$1""#, sdir, env.user)
        guard r.status == 0 else {
            XCTFail("creating \(sdir!): \(r.summary)")
            throw SetUpFailed(what: "server-side test directory")
        }
        other = work + "/other"
        mkdir(other, 0o755)
    }

    override func tearDownWithError() throws {
        if let sdir { sh(#"rm -rf --one-file-system -- "$1""#, sdir, timeout: 120) }
        try super.tearDownWithError()
    }

    func mountBoth(_ extra: [String] = []) -> Bool {
        mountOK(source: source, options: ["credentials=\(credentials!)"] + extra)
            && mountOK(source: source, at: other, options: ["credentials=\(credentials!)", "actimeo=0"] + extra)
    }

    /// Every mode 0000-0777 set with chmod reads back the same through the other mount and on
    /// the server; setuid, setgid and sticky the server's files have show; new files get their
    /// mode with the umask; modes survive a remount; the status and notice name the source.
    func testEveryModeRoundTrips() {
        guard mountBoth() else { return }
        let a = mnt + "/" + dirName, b = other + "/" + dirName
        XCTAssertEqual(sh(#"echo data > "$1/f" && mkdir "$1/d""#, a).status, 0)
        let r = runCmd(["python3", "-c", #"""
import os, sys
a, b, s = sys.argv[1], sys.argv[2], sys.argv[3]
bad = []
for name in ("f", "d"):
    for m in range(0o1000):
        os.chmod(os.path.join(a, name), m)
        got = os.stat(os.path.join(b, name)).st_mode & 0o7777
        real = os.stat(os.path.join(s, name)).st_mode & 0o7777
        if got != m or real != m:
            bad.append("%s %04o -> %04o (server %04o)" % (name, m, got, real))
os.chmod(os.path.join(a, "d"), 0o755)
print(len(bad), " ".join(bad[:10]))
"""#, a, b, sdir], timeout: 600)
        XCTAssertEqual(r.stdout, "0 \n", r.summary)
        // Stat needs no right on the file itself: mode 0 still shows.
        XCTAssertEqual(sh(#"chmod 0 "$1/f" && stat -c %a "$1/f" && chmod 644 "$1/f""#, a).stdout, "0\n")

        // Set on the server (Samba keeps chmod through SMB to 0777): shown as they are.
        XCTAssertEqual(sh(#"cd "$1" && touch su sg && mkdir st && chown "$2" su sg st && chmod 4751 su && chmod 2755 sg && chmod 1777 st"#,
                          sdir, env.user).status, 0)
        XCTAssertEqual(stats("%a %F", [b + "/su", b + "/sg", b + "/st"]), ["4751 regular empty file", "2755 regular empty file", "1777 directory"])
        XCTAssertEqual(runCmd(["ls", "-l", b]).stdout.split(separator: "\n").filter { $0.hasSuffix(" st") }.map { String($0.prefix(10)) },
                       ["drwxrwxrwt"], "a listing shows the sticky bit too")

        // New files: the mode asked for, the umask applied, by the server itself.
        XCTAssertEqual(sh(#"cd "$1" && umask 027 && touch u && mkdir ud && install -m 0604 /dev/null inst"#, a).status, 0)
        XCTAssertEqual(stats("%a", [b + "/u", b + "/ud", b + "/inst"]), ["640", "750", "604"])
        XCTAssertEqual(stats("%a", [sdir + "/u", sdir + "/ud", sdir + "/inst"]), ["640", "750", "604"])

        XCTAssertEqual(sh(#"chmod 600 "$1/f" && chmod 710 "$1/d""#, a).status, 0)
        unmount(mnt)
        guard mountOK(source: source, options: ["credentials=\(credentials!)"]) else { return }
        XCTAssertEqual(stats("%a", [a + "/f", a + "/d", a + "/su"]), ["600", "710", "4751"])
        let text = runCmd([env.binary, "status", mnt], timeout: 30)
        XCTAssertTrue(text.stdout.contains("  posix           in use (offered by the server)\n"), text.summary)
        XCTAssertTrue(text.stdout.contains("the server's Unix modes, owners and file types (SMB3 POSIX extensions)"), text.summary)
    }

    /// FIFOs, sockets and device nodes made through the mount have their type (and numbers)
    /// through the other mount; the server's own FIFO shows as one; symlinks and hard links
    /// round-trip with their link counts in listings.
    func testFileTypesAndLinks() {
        guard mountBoth() else { return }
        let a = mnt + "/" + dirName, b = other + "/" + dirName
        var r = sh(#"""
            set -e; cd "$1"
            mkfifo fifo; mknod chr c 1 3; mknod blk b 8 1
            python3 -c 'import socket; socket.socket(socket.AF_UNIX).bind("sock")'
            echo target > t; ln -s t link; ln t hard
            """#, a)
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertEqual(stats("%F %t:%T", ["fifo", "chr", "blk", "sock"].map { b + "/" + $0 }),
                       ["fifo 0:0", "character special file 1:3", "block special file 8:1", "socket 0:0"])
        XCTAssertEqual(runCmd(["readlink", b + "/link"]).stdout, "t\n")
        XCTAssertEqual(runCmd(["cat", b + "/link"]).stdout, "target\n")
        // The link itself is renamed, touched and removed, never its target (git probes
        // symlinks so at every clone).
        r = sh(#"cd "$1" && mv link link2 && readlink link2 && touch -h link2 && rm link2 && cat t"#, a)
        XCTAssertEqual(r.stdout, "t\ntarget\n", r.summary)
        XCTAssertFalse(FileManager.default.fileExists(atPath: sdir + "/link2"))
        // A symlink of the server's own filesystem, which the server shows as a reparse point
        // (through the mount that caches nothing: this one learns of it when the server says).
        XCTAssertEqual(sh(#"ln -s t "$1/srvlink" && chown -h "$2" "$1/srvlink""#, sdir, env.user).status, 0)
        r = sh(#"cd "$1" && readlink srvlink && mv srvlink srvlink2 && readlink srvlink2 && touch -h srvlink2 && rm srvlink2 && cat t"#, b)
        XCTAssertEqual(r.stdout, "t\nt\ntarget\n", r.summary)
        XCTAssertEqual(try? FileManager.default.contentsOfDirectory(atPath: sdir).filter { $0.hasPrefix("srvlink") }, [])
        // The link count from the listing, not only from stat.
        r = runCmd(["ls", "-ln", b])
        let links = r.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true) }
            .filter { ["t", "hard"].contains($0.last ?? "") && !$0.contains("->") }.map { String($0[1]) }
        XCTAssertEqual(links, ["2", "2"], r.summary)
        XCTAssertEqual(sh(#"rm "$1/hard""#, a).status, 0)
        XCTAssertEqual(stats("%h", [b + "/t"]), ["1"])
        // Made on the server's own filesystem.
        XCTAssertEqual(sh(#"mkfifo -m 640 "$1/srvfifo" && chown "$2" "$1/srvfifo""#, sdir, env.user).status, 0)
        XCTAssertEqual(stats("%F %a", [b + "/srvfifo"]), ["fifo 640"])
        // A pipe on this machine, as the kernel serves a FIFO itself.
        r = sh(#"(echo through > "$1/fifo" &) ; cat "$1/fifo""#, a, timeout: 30)
        XCTAssertEqual(r.stdout, "through\n", r.summary)
    }

    /// git, cp -a and rm -r on a POSIX mount: the executable bit and symlinks of a clone
    /// round-trip, the work tree is clean, and a copy of it compares equal.
    func testEverydayTools() {
        guard mountOK(source: source, options: ["credentials=\(credentials!)"]) else { return }
        let a = mnt + "/" + dirName
        let src = work + "/repo"
        var r = sh(#"""
            set -e; git init -q "$1"; cd "$1"
            echo run > run.sh; chmod 755 run.sh; echo data > data; ln -s data link
            git add -A; git -c user.email=t@t -c user.name=t commit -qm init
            """#, src)
        XCTAssertEqual(r.status, 0, r.summary)
        r = sh(#"cd "$2" && git clone -q "$1" r && cd r && git config core.filemode && git status --porcelain && stat -c %a run.sh && readlink link"#,
               src, a, timeout: 120)
        XCTAssertEqual(r.stdout, "true\n755\ndata\n", r.summary)
        XCTAssertEqual(stats("%a", [sdir + "/r/run.sh"]), ["755"])
        r = sh(#"cd "$1" && cp -a r r2 && diff -r r r2 && rm -r r r2 && ls -A"#, a, timeout: 120)
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertEqual(r.stdout, "", r.summary)
    }

    /// rsync -a as root from a tree of other owners: given away, a directory would no longer
    /// take the SMB user's new files (the server refuses rsync's mkstemp in it); with
    /// `ignore_chown` every file arrives with its mode and stays the SMB user's, and a second
    /// rsync finds contents, modes and times the same.
    func testRsyncOfOtherOwnersWithIgnoreChown() {
        guard mountOK(source: source, options: ["credentials=\(credentials!)", "ignore_chown"]) else { return }
        let a = mnt + "/" + dirName
        let src = work + "/src"
        var r = sh(#"""
            set -e; mkdir -p "$1/sub"; cd "$1"; echo a > a; echo b > sub/b; chmod 640 a; chmod 4755 sub/b
            chmod 750 sub; chown -R 1234:4321 .
            """#, src)
        XCTAssertEqual(r.status, 0, r.summary)
        r = sh(#"rsync -a "$1/" "$2/rs/""#, src, a)
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertEqual(stats("%a %U", [sdir + "/rs/a", sdir + "/rs/sub", sdir + "/rs/sub/b"]),
                       ["640 \(env.user)", "750 \(env.user)", "755 \(env.user)"], "setuid is Samba's to drop")
        XCTAssertEqual(sh(#"cat "$1/rs/a" "$1/rs/sub/b""#, a).stdout, "a\nb\n")
        // Owners still differ (kept away on purpose), and sub/b's setuid: all else is the same.
        r = sh(#"rsync -ai --no-owner --no-group --exclude=sub/b "$1/" "$2/rs/""#, src, a)
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertEqual(r.stdout, "", "a second rsync -a changes nothing")
    }

    /// Names differing only in case are two files; characters Windows forbids and names it
    /// reserves are kept and listed as they were made, on the server too.
    func testNamesAsTheyAre() {
        guard mountBoth() else { return }
        let a = mnt + "/" + dirName, b = other + "/" + dirName
        let names = ["a", "A", #"back\slash"#, "co:lon", "st*r", "qu?", #"dq""#, "l<t", "g>t", "p|pe", "CON", "AUX", "nul.txt", "trail. "]
        for (i, n) in names.enumerated() {
            XCTAssertEqual(sh(#"printf '%s' "$3" > "$1/$2""#, a, n, String(i)).status, 0, n)
        }
        let want = Set(names)
        let listed = Set(runCmd(["ls", "-A", b]).stdout.split(separator: "\n").map(String.init))
        XCTAssertEqual(listed, want)
        let onServer = (try? FileManager.default.contentsOfDirectory(atPath: sdir)).map(Set.init)
        XCTAssertEqual(onServer, want)
        for (i, n) in names.enumerated() {
            XCTAssertEqual(try? String(contentsOfFile: b + "/" + n, encoding: .utf8), String(i), n)
        }
        // A rename that changes only the case is an ordinary rename.
        XCTAssertEqual(sh(#"mv "$1/a" "$1/Case" && mv "$1/Case" "$1/case""#, a).status, 0)
        XCTAssertEqual(try? String(contentsOfFile: sdir + "/case", encoding: .utf8), "0")
        XCTAssertFalse(FileManager.default.fileExists(atPath: sdir + "/a"))
        XCTAssertEqual(try? String(contentsOfFile: b + "/A", encoding: .utf8), "1")
    }

    /// chown and chgrp as root give files to other Unix ids on the server; with root's
    /// `allow_other` mount another Unix user is refused what the modes refuse (a sticky
    /// directory included) and allowed what they allow; its write clears setuid and setgid.
    func testOwnersAndEnforcement() {
        guard mountBoth(["allow_other"]) else { return }
        let a = mnt + "/" + dirName, b = other + "/" + dirName
        var r = sh(#"echo x > "$1/f" && chmod 640 "$1/f" && mkdir "$1/d" && chown 1234:4321 "$1/f" && chgrp 777 "$1/d""#, a)
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertEqual(stats("%u %g %a", [b + "/f"]), ["1234 4321 640"])
        XCTAssertEqual(stats("%u %g", [sdir + "/f"]), ["1234 4321"], "the server's own ids")
        XCTAssertEqual(stats("%g", [sdir + "/d", b + "/d"]), ["777", "777"])

        // Another local user than the SMB user, with no account anywhere: the server keeps its
        // files under its bare id (S-1-22-1-UID); "nobody" would be Samba's guest account.
        let id: UInt32 = 4242
        func asUser(_ script: String) -> ProcResult {
            runCmd(["setpriv", "--reuid=\(id)", "--regid=\(id)", "--clear-groups", "--", "sh", "-c", script, "sh", a], timeout: 60)
        }
        r = sh(#"""
            cd "$1" && echo secret > private && chmod 600 private && echo open > public && chmod 644 public &&
            mkdir closed shared sticky && chmod 755 closed && chmod 777 shared && touch sticky/roots
            """#, a)
        XCTAssertEqual(r.status, 0, r.summary)
        // Samba keeps chmod through SMB to 0777: the sticky bit is set on the server.
        XCTAssertEqual(sh(#"chmod 1777 "$1/sticky""#, sdir).status, 0)
        XCTAssertEqual(stats("%a", [a + "/sticky"]), ["1777"])
        for (what, script) in [("read 0600", #"cat "$1/private""#), ("write 0644", #"echo more >> "$1/public""#),
                               ("create in 0755", #"touch "$1/closed/x""#), ("chmod another's", #"chmod 666 "$1/public""#)] {
            let r = asUser(script)
            XCTAssertNotEqual(r.status, 0, "\(what) allowed against the modes")
            XCTAssertTrue(r.stderr.contains("Permission denied") || r.stderr.contains("Operation not permitted"), "\(what): \(r.summary)")
        }
        XCTAssertEqual(asUser(#"cat "$1/public""#).stdout, "open\n")
        // One SMB session does everything: a file another local user makes is the SMB user's
        // on the server, shown as the mount's uid, and written through the open that made it.
        r = asUser(#"echo mine > "$1/shared/mine" && cat "$1/shared/mine""#)
        XCTAssertEqual(r.stdout, "mine\n", r.summary)
        XCTAssertEqual(stats("%u", [a + "/shared/mine"]), ["0"])
        XCTAssertEqual(stats("%U", [sdir + "/shared/mine"]), [env.user])
        // A write by another user than the owner clears setuid and setgid (set on the server:
        // Samba keeps them out of chmod through SMB), as on a local filesystem. Through the
        // mount that caches nothing, which sees the server's change at once.
        XCTAssertEqual(sh(#"cd "$1" && touch su sg && chown "$2" su sg && chmod 4777 su && chmod 2777 sg"#, sdir, env.user).status, 0)
        XCTAssertEqual(stats("%a", [b + "/su", b + "/sg"]), ["4777", "2777"])
        r = runCmd(["setpriv", "--reuid=\(id)", "--regid=\(id)", "--clear-groups", "--", "sh", "-c",
                    #"echo x >> "$1/su" && echo x >> "$1/sg""#, "sh", b], timeout: 60)
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertEqual(stats("%a", [b + "/su", b + "/sg", sdir + "/su", sdir + "/sg"]), ["777", "777", "777", "777"])
        r = asUser(#"rm -f "$1/sticky/roots""#)
        XCTAssertNotEqual(r.status, 0, "a sticky directory keeps another's file: \(r.summary)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: sdir + "/sticky/roots"))
    }
}
