import Foundation
import XCTest

/// `smb3fs status MOUNTPOINT`: the daemon's own account of the mount, over its socket.
final class StatusTests: MountTestCase {
    func testStatusReportsTheSessionOpensAndCaches() throws {
        let name = "status-\(UUID().uuidString.prefix(8)).txt"
        XCTAssertEqual(sh(#"echo hello > "$1/$2" && ls -l "$1" > /dev/null && cat "$1/$2""#, mnt, name).stdout, "hello\n")
        let text = runCmd([env.binary, "status", mnt], timeout: 30)
        XCTAssertEqual(text.status, 0, text.summary)
        XCTAssertEqual(text.stderr, "")
        XCTAssertTrue(text.stdout.hasPrefix("\(env.source) on \(mnt!)\n"), text.stdout)
        for want in ["  dialect         3.1.1\n", "  signing         AES-128-GMAC\n", "  state           connected\n",
                     "  authentication  NTLMv2 as \(env.user)\n", "  reconnects      0\n", "  last error      none\n"] {
            XCTAssertTrue(text.stdout.contains(want), "\(want) in:\n\(text.stdout)")
        }
        // A file held open shows as an open here and on the server; the listing read for ls
        // and the attributes fetched are counted.
        let held = sh(#"exec 3< "$1/$2"; "$3" status --json "$1""#, mnt, name, env.binary)
        XCTAssertEqual(held.status, 0, held.summary)
        let o = try JSONSerialization.jsonObject(with: held.stdoutData) as? [String: Any] ?? [:]
        let share = o["share"] as? [String: Any] ?? [:]
        XCTAssertEqual(o["openFiles"] as? Int, 1, "\(o)")
        XCTAssertGreaterThanOrEqual(share["opens"] as? Int ?? 0, 1, "\(share)")
        XCTAssertEqual(share["dialect"] as? String, "3.1.1")
        XCTAssertNil(share["encryption"])
        XCTAssertEqual((share["channels"] as? [[String: Any]])?.first?["state"] as? String, "up")
        let cache = o["cache"] as? [String: [String: Int]] ?? [:]
        XCTAssertGreaterThanOrEqual(cache["listings"]?["misses"] ?? 0, 1, "\(cache)")
        XCTAssertEqual(Set(cache.keys), ["attributes", "listings", "lookups", "reads", "opens"])
        try? FileManager.default.removeItem(atPath: env.sharePath + "/" + name)
    }

    func testSealedMountShowsItsCipher() throws {
        let point = makeDir("sealed")
        guard mountOK(at: point, options: ["credentials=\(credentials!)", "seal"]) else { return }
        let share = status(point)?["share"] as? [String: Any] ?? [:]
        XCTAssertEqual(share["encryption"] as? String, "AES-128-GCM", "\(share)")
        // What Samba shows for this user's sessions (this mount's and setUp's): the same
        // dialect, signing and cipher.
        let conf = ((env.sharePath as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent + "/etc/smb.conf"
        let json = runCmd(["smbstatus", "-s", conf, "--json"]).stdoutData
        let sessions = ((try? JSONSerialization.jsonObject(with: json) as? [String: Any])?["sessions"] as? [String: [String: Any]] ?? [:])
            .values.filter { $0["username"] as? String == env.user }
        XCTAssertFalse(sessions.isEmpty, "smbstatus shows no session of \(env.user)")
        let dialects = Set(sessions.compactMap { $0["session_dialect"] as? String })
        XCTAssertTrue(dialects.contains("SMB3_11") && share["dialect"] as? String == "3.1.1", "\(dialects)")
        let signing = Set(sessions.compactMap { ($0["signing"] as? [String: Any])?["cipher"] as? String })
        XCTAssertTrue(signing.contains(share["signing"] as? String ?? "none"), "smbstatus: \(signing), status: \(share)")
        let ciphers = Set(sessions.compactMap { ($0["encryption"] as? [String: Any])?["cipher"] as? String })
        XCTAssertTrue(ciphers.contains("AES-128-GCM"), "smbstatus: \(ciphers)")
        unmount(point)
        // The socket goes with the mount.
        let r = runCmd([env.binary, "status", point], timeout: 30)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertEqual(r.stderrLines, ["smb3fs: \(point) is not a mount point"], r.summary)
    }

    func testWhatIsNotAnSmb3fsMountIsOneLine() {
        for (point, what) in [("/proc", "is not an smb3fs mount (it is proc)"), (work!, "is not a mount point")] {
            let r = runCmd([env.binary, "status", point], timeout: 30)
            XCTAssertNotEqual(r.status, 0)
            XCTAssertEqual(r.stdout, "")
            XCTAssertEqual(r.stderrLines, ["smb3fs: \(point) \(what)"], r.summary)
        }
        // Another user may not ask root's mount.
        let other = runCmd(["runuser", "-u", env.user, "--", env.binary, "status", mnt], timeout: 30)
        XCTAssertNotEqual(other.status, 0)
        XCTAssertEqual(other.stderrLines.count, 1, other.summary)
        XCTAssertTrue(other.stderr.hasPrefix("smb3fs: ") && other.stdout.isEmpty, other.summary)
    }
}
