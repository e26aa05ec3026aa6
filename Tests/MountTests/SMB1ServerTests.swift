import Foundation
import XCTest

/// A Samba that speaks only SMB1 (server min/max protocol = NT1): the mount fails with one
/// line that says why, and smb3fs never negotiates SMB1.
final class SMB1ServerTests: OwnServerTestCase {
    func testSMB1OnlyServerGetsAClearLine() throws {
        stopServer()
        try startServer(["server min protocol=NT1", "server max protocol=NT1"])
        let r = mount(source: "//\(ip!)/rw", options: ["credentials=\(credentials!)"])
        assertCleanFailure(r, "SMB1-only server")
        XCTAssertTrue(r.stderr.contains("server only offers SMB1, which smb3fs does not speak"), r.summary)
        // Samba saw no SMB1 session (nothing went on over SMB1).
        let sessions = runCmd(inServer + ["smbstatus", "-s", conf, "-b"], timeout: 30).stdout
        XCTAssertFalse(sessions.contains(env.user), sessions)
    }
}
