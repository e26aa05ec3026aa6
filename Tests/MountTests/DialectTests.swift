import Foundation
import XCTest

/// One mount per dialect against the servers capped with `server max protocol`
/// (SMB3FS_DIALECT_SERVERS), signing mandatory: the data reads back, smbstatus shows the
/// dialect and a signed session.
final class DialectTests: MountTestCase {
    override var mountsInSetUp: Bool { false }

    static let samba = ["2.0.2": "SMB2_02", "2.1": "SMB2_10", "3.0": "SMB3_00", "3.0.2": "SMB3_02",
                        "3.1.1": "SMB3_11"]
    /// The signing algorithm each dialect must use (MS-SMB2 3.1.4.1): HMAC-SHA256 for 2.x,
    /// AES-CMAC for 3.0 and 3.0.2, AES-GMAC as negotiated for 3.1.1.
    static let signing = ["2.0.2": "HMAC-SHA256", "2.1": "HMAC-SHA256", "3.0": "AES-128-CMAC", "3.0.2": "AES-128-CMAC",
                          "3.1.1": "AES-128-GMAC"]

    func testEachDialect() throws {
        XCTAssertEqual(env.dialectServers.map(\.vers).sorted(), Self.samba.keys.sorted(), "SMB3FS_DIALECT_SERVERS")
        for server in env.dialectServers {
            let dir = try ensureFixture(env, sharePath: server.sharePath, "mt-dialect", script: """
                head -c 300001 /dev/urandom > data; echo "dialect \(server.vers)" > small
                """)
            for options in [[], ["vers=\(server.vers)"]] {
                let what = "\(server.vers) at \(server.host) \(options)"
                let conf = ((server.sharePath as NSString).deletingLastPathComponent as NSString)
                    .deletingLastPathComponent + "/etc/smb.conf"
                func sessions() -> [Substring] {
                    runCmd(["smbstatus", "-s", conf, "-b"]).stdout.split(separator: "\n").filter { $0.contains(env.user) }
                }
                // The previous mount's server process may take a moment to go.
                XCTAssertTrue(waitUntil(15) { sessions().isEmpty }, "\(what): old sessions \(sessions())")
                let point = makeDir("d-\(server.vers)-\(options.count)")
                guard mountOK(source: "//\(server.host)/rw", at: point,
                              options: ["credentials=\(credentials!)"] + options) else { continue }
                let sums = #"cd -- "$1" && sha256sum data small"#
                XCTAssertEqual(sh(sums, point + "/mt-dialect").stdout, sh(sums, dir).stdout, what)
                XCTAssertEqual(sh(#"ls -- "$1""#, point + "/mt-dialect").stdout, "data\nsmall\n", what)

                // The server's view of the session: dialect and signing.
                let rows = sessions()
                XCTAssertFalse(rows.isEmpty, "\(what): no session in smbstatus")
                for row in rows {
                    XCTAssertTrue(row.contains(Self.samba[server.vers]!), "\(what): \(row)")
                    let signing = row.split(separator: " ").last.map(String.init) ?? ""
                    XCTAssertEqual(signing, Self.signing[server.vers], "\(what): signing column of \(row)")
                }
                unmount(point)
            }
        }
    }
}
