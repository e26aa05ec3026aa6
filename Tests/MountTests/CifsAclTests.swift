import Foundation
import XCTest

/// `cifsacl`: modes and owners kept in each file's security descriptor, on the test Samba's
/// `acl` share (acl_xattr keeps a DACL as it is set). Two mounts: the one that changes, and a
/// second with `actimeo=0` that reads what the server kept.
final class CifsAclTests: MountTestCase {
    override var mountsInSetUp: Bool { false }
    var dirName: String!
    /// Server-side path of this test's directory in the acl share.
    var sdir: String!
    var other: String!

    var aclSource: String { "//\(env.host)/acl" }

    override func setUpWithError() throws {
        try super.setUpWithError()
        guard getpwnam(env.user) != nil else {
            XCTFail("no Unix user \(env.user)")
            throw SetUpFailed(what: "the test's Unix user")
        }
        dirName = "cifsacl-" + UUID().uuidString.prefix(8).lowercased()
        sdir = (env.sharePath as NSString).deletingLastPathComponent + "/acl/" + dirName
        let r = sh(#"mkdir -p -- "$1" && chown -- "$2" "$1" && chmod 0755 -- "$1""#, sdir, env.user)
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

    /// Both mounts of the acl share with `cifsacl` (and `extra` on the first).
    func mountBoth(_ extra: [String] = []) -> Bool {
        mountOK(source: aclSource, options: ["credentials=\(credentials!)", "cifsacl"] + extra)
            && mountOK(source: aclSource, at: other, options: ["credentials=\(credentials!)", "cifsacl", "actimeo=0"])
    }

    /// Every permission mode set with chmod reads back the same through the other mount; modes
    /// of files and directories survive a remount; new files and directories get the mode they
    /// were made with (umask applied).
    func testEveryModeRoundTrips() {
        guard mountBoth() else { return }
        let a = mnt + "/" + dirName, b = other + "/" + dirName
        XCTAssertEqual(sh(#"echo data > "$1/f" && mkdir "$1/d""#, a).status, 0)
        // Each mode in turn through the first mount, read at once through the second.
        let r = runCmd(["python3", "-c", #"""
import os, sys
a, b = sys.argv[1], sys.argv[2]
bad = []
for name in ("f", "d"):
    for m in range(0o1000):
        os.chmod(os.path.join(a, name), m)
        got = os.stat(os.path.join(b, name)).st_mode & 0o7777
        if got != m:
            bad.append("%s %04o -> %04o" % (name, m, got))
os.chmod(os.path.join(a, "d"), 0o755)
print(len(bad), " ".join(bad[:10]))
"""#, a, b], timeout: 600)
        XCTAssertEqual(r.stdout, "0 \n", r.summary)

        // The server holds them: the owner SMB user reads and writes as the modes say.
        let modes: [(String, String)] = [("m000", "0"), ("m123", "123"), ("m456", "456"), ("m640", "640"),
                                        ("m700", "700"), ("m755", "755"), ("m604", "604"), ("m777", "777")]
        for (name, m) in modes {
            XCTAssertEqual(sh(#"echo x > "$1/$2" && chmod "$3" "$1/$2""#, a, name, m).status, 0, name)
        }
        XCTAssertEqual(sh(#"mkdir "$1/d750" && chmod 750 "$1/d750" && mkdir "$1/d701" && chmod 701 "$1/d701""#, a).status, 0)
        // Made with a mode and a umask: open(O_CREAT) and mkdir.
        XCTAssertEqual(sh(#"umask 027 && : > "$1/new" && mkdir "$1/newdir" && umask 077 && install -m 0640 /dev/null "$1/installed""#, a).status, 0)
        // The mount's default modes asked for in a directory whose DACL gives 777 to all it holds.
        XCTAssertEqual(sh(#"umask 022 && mkdir "$1/wide" && chmod 777 "$1/wide" && : > "$1/wide/f644" && mkdir "$1/wide/d755""#, a).status, 0)
        let names = modes.map(\.0) + ["d750", "d701", "new", "newdir", "installed", "wide/f644", "wide/d755"]
        let want = modes.map { String(Int($0.1, radix: 8)!, radix: 8) } + ["750", "701", "640", "750", "640", "644", "755"]
        XCTAssertEqual(stats("%a", names.map { b + "/" + $0 }), want)
        unmount(mnt)
        unmount(other)
        guard mountBoth() else { return }
        XCTAssertEqual(stats("%a", names.map { b + "/" + $0 }), want, "after a remount")
        XCTAssertEqual(stats("%a", names.map { a + "/" + $0 }), want, "through a listing")
        // Setuid, setgid and sticky have no place in a DACL: chmod keeps the rest.
        XCTAssertEqual(sh(#"chmod 4755 "$1/m755" && chmod 3777 "$1/d750""#, a).status, 0)
        XCTAssertEqual(stats("%a", [b + "/m755", b + "/d750"]), ["755", "777"])
        let modesLine = status()?["modes"] as? String ?? ""
        XCTAssertTrue(modesLine.hasPrefix("each file's security descriptor (cifsacl)"), modesLine)
    }

    /// chown and chgrp as root give the file to other Unix ids (S-1-22-1-UID / S-1-22-2-GID,
    /// which Samba maps to the ids themselves), and the mode moves with it.
    func testChownAndChgrpRoundTrip() {
        guard mountBoth() else { return }
        let a = mnt + "/" + dirName, b = other + "/" + dirName
        XCTAssertEqual(sh(#"echo x > "$1/f" && chmod 640 "$1/f" && mkdir "$1/d" && chmod 750 "$1/d""#, a).status, 0)
        var r = sh(#"chown 1234:4321 "$1/f" && chown 2345:5432 "$1/d""#, a)
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertEqual(stats("%u %g %a", [b + "/f", b + "/d"]), ["1234 4321 640", "2345 5432 750"])
        XCTAssertEqual(stats("%u %g", [sdir + "/f", sdir + "/d"]), ["1234 4321", "2345 5432"], "the server's own ids")
        XCTAssertEqual(stats("%u %g %a", [a + "/f", a + "/d"]), ["1234 4321 640", "2345 5432 750"])
        // chgrp alone, of a file the SMB user still owns.
        r = sh(#"echo y > "$1/g" && chmod 604 "$1/g" && chgrp 777 "$1/g""#, a)
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertEqual(stats("%g %a", [b + "/g"]), ["777 604"])
        // Given away, the file is no longer the SMB user's to change: Samba refuses a new DACL.
        r = sh(#"chmod 600 "$1/f""#, a)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("Permission denied"), r.summary)
        XCTAssertEqual(stats("%u %g %a", [b + "/f"]), ["1234 4321 640"])
    }

    /// rsync -a and tar -p as root chown every file to the ids it shows before setting its mode
    /// and times: that changes nothing, and every mode arrives; a second rsync finds nothing to do.
    func testRsyncAndTarKeepModes() {
        guard mountBoth() else { return }
        let a = mnt + "/" + dirName, b = other + "/" + dirName
        let src = work + "/src"
        var r = sh(#"""
            set -e; mkdir -p "$1/sub/deeper"; cd "$1"
            echo run > run.sh; chmod 755 run.sh; echo secret > key; chmod 600 key
            echo x > sub/deeper/ro; chmod 444 sub/deeper/ro; chmod 750 sub; chmod 700 sub/deeper
            """#, src)
        XCTAssertEqual(r.status, 0, r.summary)
        let names = ["run.sh", "key", "sub", "sub/deeper", "sub/deeper/ro"]
        let want = ["755", "600", "750", "700", "444"]
        r = sh(#"rsync -a "$1/" "$2/rs/""#, src, a)
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertEqual(stats("%a", names.map { b + "/rs/" + $0 }), want)
        r = sh(#"rsync -ai "$1/" "$2/rs/""#, src, a)
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertEqual(r.stdout, "", "a second rsync -a changes nothing")
        r = sh(#"mkdir "$2/tx" && tar -C "$1" -cf - . | tar -C "$2/tx" -xpf -"#, src, a)
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertEqual(stats("%a", names.map { b + "/tx/" + $0 }), want)
    }

    /// With root's `allow_other` mount and `perm`, another Unix user is refused what the modes
    /// refuse and allowed what they allow.
    func testModesAreEnforcedForOtherUsers() {
        guard mountOK(source: aclSource, options: ["credentials=\(credentials!)", "cifsacl", "allow_other"]) else { return }
        let a = mnt + "/" + dirName
        guard let pw = getpwnam(env.user) else { return XCTFail("no user") }
        let uid = pw.pointee.pw_uid
        func asUser(_ script: String) -> ProcResult {
            runCmd(["runuser", "-u", env.user, "--", "sh", "-c", script, "sh", a], timeout: 60)
        }
        XCTAssertEqual(sh(#"echo secret > "$1/private" && chmod 600 "$1/private" && echo open > "$1/public" && chmod 644 "$1/public" && mkdir "$1/closed" "$1/shared" && chmod 755 "$1/closed" && chmod 777 "$1/shared""#, a).status, 0)
        for (what, script) in [("read 0600", #"cat "$1/private""#), ("write 0644", #"echo more >> "$1/public""#),
                               ("create in 0755", #"touch "$1/closed/x""#), ("chmod another's", #"chmod 666 "$1/public""#)] {
            let r = asUser(script)
            XCTAssertNotEqual(r.status, 0, "\(what) allowed against the modes")
            XCTAssertTrue(r.stderr.contains("Permission denied") || r.stderr.contains("Operation not permitted"), "\(what): \(r.summary)")
        }
        XCTAssertEqual(asUser(#"cat "$1/public""#).stdout, "open\n")
        var r = asUser(#"touch "$1/shared/mine""#)
        XCTAssertEqual(r.status, 0, r.summary)
        // Given to the user: the user may now change its mode and write it.
        r = sh(#"chown "$2" "$1/private""#, a, String(uid))
        XCTAssertEqual(r.status, 0, r.summary)
        r = asUser(#"chmod 640 "$1/private" && echo more >> "$1/private" && stat -c %a "$1/private""#)
        XCTAssertEqual(r.stdout, "640\n", r.summary)
        XCTAssertEqual(try? String(contentsOfFile: sdir + "/private", encoding: .utf8), "secret\nmore\n")
    }
}
