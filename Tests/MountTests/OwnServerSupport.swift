// A Samba of the test's own (Scripts/samba-server), which the test may kill, restart or cut off:
// on a loopback address, or in a network namespace pair whose link the test controls
// (../shared/testing/netns.md).
import Foundation
import XCTest

class OwnServerTestCase: MountTestCase {
    override var mountsInSetUp: Bool { false }
    var smbDir: String!
    var ip: String!
    var script: String!
    /// Runs a command where the server lives (its network namespace), or as is.
    var inServer: [String] = []

    var sharePath: String { smbDir + "/shares/rw" }
    var conf: String { smbDir + "/etc/smb.conf" }

    /// The server's address; subclasses that make a namespace set it up first.
    func prepareNetwork() throws -> String {
        guard let addr = ProcessInfo.processInfo.environment["SMB3FS_OWN_SERVER_IP"] else {
            XCTFail("SMB3FS_OWN_SERVER_IP not set: run through Scripts/test")
            throw SetUpFailed(what: "environment")
        }
        return addr
    }

    override func setUpWithError() throws {
        try super.setUpWithError()
        guard let s = ProcessInfo.processInfo.environment["SMB3FS_SAMBA_SCRIPT"] else {
            XCTFail("SMB3FS_SAMBA_SCRIPT not set: run through Scripts/test")
            throw SetUpFailed(what: "environment")
        }
        script = s
        smbDir = work + "/samba"
        ip = try prepareNetwork()
        let setup = runCmd([script, "setup"], environment: serverEnv(), timeout: 60)
        XCTAssertEqual(setup.status, 0, setup.summary)
        try startServer()
    }

    override func tearDownWithError() throws {
        // Unmount while the server still runs, stop it before the base class removes its
        // directory, then undo the network.
        unmountAll()
        if let smbDir, FileManager.default.fileExists(atPath: smbDir + "/etc") {
            _ = runCmd(inServer + [script, "stop"], environment: serverEnv(), timeout: 60)
        }
        tearDownNetwork()
        try super.tearDownWithError()
    }

    /// Undoes `prepareNetwork`.
    func tearDownNetwork() {}

    func serverEnv() -> [String: String] {
        var e = ProcessInfo.processInfo.environment
        e["SMB_DIR"] = smbDir
        e["SMB_IP"] = ip
        e["SMB_USER"] = env.user
        e["SMB_PASS"] = env.password
        return e
    }

    func startServer(_ options: [String] = []) throws {
        let r = runCmd(inServer + [script, "start", "--option=server signing=mandatory"] + options.map { "--option=" + $0 },
                       environment: serverEnv(), timeout: 60)
        guard r.status == 0 else {
            XCTFail("starting the test's own Samba: \(r.summary)")
            throw SetUpFailed(what: "own Samba")
        }
    }

    func stopServer() {
        let r = runCmd(inServer + [script, "stop"], environment: serverEnv(), timeout: 60)
        XCTAssertEqual(r.status, 0, r.summary)
    }

    /// PIDs of the smbd processes serving a client (smbstatus -p on our server).
    func servingPids() -> [Int32] {
        let r = runCmd(inServer + ["smbstatus", "-s", conf, "-p"], timeout: 30)
        return r.stdout.split(separator: "\n").compactMap { line in
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard f.count > 2, f[1] == Substring(env.user) else { return nil }
            return Int32(f[0])
        }
    }

    /// Client-side TCP connections to the server's port 445, as `ss` shows them.
    func connectionsToServer() -> [String] {
        let r = runCmd(inServer.isEmpty ? ["ss", "-Htn", "state", "established", "dst", ip!, "and", "dport", "=", ":445"]
                                        : ["ss", "-Htn", "state", "established", "sport", "=", ":445"], timeout: 30)
        return r.stdout.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
    }

    func mountOwn(_ options: [String], share: String = "rw", at point: String? = nil) -> Bool {
        mountOK(source: "//\(ip!)/\(share)", at: point ?? mnt, options: ["credentials=\(credentials!)"] + options)
    }

    func serverSize(_ path: String) -> Int {
        var st = stat()
        return stat(path, &st) == 0 ? Int(st.st_size) : -1
    }

    /// sha256 of two files are equal (and both exist).
    func assertSameContent(_ a: String, _ b: String, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        let sums = sh(#"sha256sum < "$1" | cut -c1-64; sha256sum < "$2" | cut -c1-64"#, a, b, timeout: 120)
        let l = sums.stdout.split(separator: "\n")
        XCTAssertEqual(l.count, 2, sums.summary, file: file, line: line)
        XCTAssertEqual(l.first, l.last, what, file: file, line: line)
    }
}
