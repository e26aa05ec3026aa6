import Foundation
import XCTest

/// NEGOTIATE's SMB3 POSIX extensions context against the two Samba versions of the test run:
/// bookworm-backports' 4.22 with `smb3 unix extensions` offers them, Debian 12's 4.17 cannot.
final class PosixExtensionTests: MountTestCase {
    override var mountsInSetUp: Bool { false }

    func posix(_ point: String) -> String? {
        (status(point)?["share"] as? [String: Any])?["posixExtensions"] as? String
    }

    func testWhichServerOffersThemAndTheMountWorksWithEither() {
        guard let host = ProcessInfo.processInfo.environment["SMB3FS_POSIX_HOST"],
              let sharePath = ProcessInfo.processInfo.environment["SMB3FS_POSIX_SHARE_PATH"] else {
            return XCTFail("SMB3FS_POSIX_HOST and SMB3FS_POSIX_SHARE_PATH are set by Scripts/test")
        }
        let name = "posix-" + UUID().uuidString.prefix(8).lowercased()
        guard mountOK(source: "//\(host)/rw", options: ["credentials=\(credentials!)"]) else { return }
        XCTAssertEqual(posix(mnt), "in use (offered by the server)")
        let text = runCmd([env.binary, "status", mnt], timeout: 30)
        XCTAssertTrue(text.stdout.contains("  posix           in use (offered by the server)\n"), text.summary)
        XCTAssertTrue(text.stdout.contains("SMB3 POSIX extensions"), text.summary)
        // The mount reads and writes as with any server.
        let r = sh(#"mkdir "$1/$2" && echo hello > "$1/$2/f" && cat "$1/$2/f" && ls "$1/$2""#, mnt, name)
        XCTAssertEqual(r.stdout, "hello\nf\n", r.summary)
        XCTAssertEqual(try? String(contentsOfFile: sharePath + "/" + name + "/f", encoding: .utf8), "hello\n")
        unmount(mnt)

        guard mountOK(source: "//\(host)/rw", options: ["credentials=\(credentials!)", "noposix"]) else { return }
        XCTAssertEqual(posix(mnt), "not asked for (noposix)")
        XCTAssertEqual(sh(#"cat "$1/$2/f""#, mnt, name).stdout, "hello\n")
        XCTAssertEqual(sh(#"rm -r "$1/$2""#, mnt, name).status, 0)
        unmount(mnt)

        guard mountOK(options: ["credentials=\(credentials!)"]) else { return }
        XCTAssertEqual(posix(mnt), "not offered by the server")
    }
}
