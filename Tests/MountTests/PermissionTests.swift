import Foundation
import XCTest

/// Who checks access on a mount other users share (`allow_other`): with `perm` (the
/// default) the kernel, against the owner and modes shown; with `noperm` the server alone.
final class PermissionTests: ReadWriteTestCase {
    override var mountsInSetUp: Bool { false }
    var dir: String!

    override func setUpWithError() throws {
        try super.setUpWithError()
        // Scripts/samba-server setup makes the user: without it the test servers are not set up.
        guard getpwnam(env.user) != nil else {
            XCTFail("no Unix user \(env.user)")
            throw SetUpFailed(what: "the test's Unix user")
        }
        dir = try reachableDirectory()
    }

    override func tearDownWithError() throws {
        if let dir {
            if mountEntry(at: dir + "/m") != nil { unmount(dir + "/m") }
            try? FileManager.default.removeItem(atPath: dir)
        }
        try super.tearDownWithError()
    }

    /// `sh -c script` as the test's Unix user (not the mount's owner).
    func asUser(_ script: String, _ args: String...) -> ProcResult {
        runCmd(["runuser", "-u", env.user, "--", "sh", "-c", script, "sh"] + args, timeout: 60)
    }

    func testPermChecksTheModesShownAndNopermLeavesItToTheServer() {
        XCTAssertEqual(sh(#"echo server > "$1/f" && chown "$2" "$1/f""#, sdir, env.user).status, 0)
        let point = dir + "/m"
        mkdir(point, 0o755)
        let d = point + "/" + dirName

        // Root's mount for every user: everything shown as root's, 0644 and 0755, so another
        // user may read and may not write, although the server would let the mount's SMB
        // user do both.
        guard mountOK(at: point, options: ["credentials=\(credentials!)", "allow_other"]) else { return }
        XCTAssertTrue(mountEntry(at: point)?.superOptions.contains("default_permissions") ?? false)
        XCTAssertEqual(asUser(#"cat "$1/f""#, d).stdout, "server\n")
        for (what, script) in [("create", #"touch "$1/by-user""#), ("append", #"echo more >> "$1/f""#),
                               ("unlink", #"rm -f "$1/f""#), ("chmod", #"chmod 666 "$1/f""#)] {
            let r = asUser(script, d)
            XCTAssertNotEqual(r.status, 0, "\(what) allowed against the modes shown")
            XCTAssertTrue(r.stderr.contains("Permission denied") || r.stderr.contains("Operation not permitted"),
                          "\(what): \(r.summary)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: sdir + "/by-user"))
        XCTAssertEqual(try? String(contentsOfFile: sdir + "/f", encoding: .utf8), "server\n")
        XCTAssertEqual(status(point)?["permissions"] as? String, "kernel")
        let modes = status(point)?["modes"] as? String ?? ""
        XCTAssertTrue(modes.hasPrefix("file_mode=0644, dir_mode=0755, uid=0, gid=0"), modes)
        unmount(point)

        // noperm: the same user may do what the server lets the SMB user do.
        guard mountOK(at: point, options: ["credentials=\(credentials!)", "allow_other", "noperm"]) else { return }
        XCTAssertFalse(mountEntry(at: point)?.superOptions.contains("default_permissions") ?? true)
        var r = asUser(#"touch "$1/by-user" && echo more >> "$1/f""#, d)
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertTrue(FileManager.default.fileExists(atPath: sdir + "/by-user"))
        XCTAssertEqual(try? String(contentsOfFile: sdir + "/f", encoding: .utf8), "server\nmore\n")
        r = asUser(#"rm "$1/by-user""#, d)
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertFalse(FileManager.default.fileExists(atPath: sdir + "/by-user"))
        XCTAssertEqual(status(point)?["permissions"] as? String, "server")
        unmount(point)
    }
}
