import Foundation
import SMBClient
import SMBProtocol
import XCTest

/// Security descriptors read and set over SMB (QUERY_INFO / SET_INFO, InfoType security)
/// against Samba: its mapping of Unix modes, and a share that keeps ACLs as set (acl_xattr).
final class SecurityTests: XCTestCase {
    static let read: UInt32 = 0x1, write: UInt32 = 0x2, execute: UInt32 = 0x20

    func run(_ argv: String...) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = argv
        XCTAssertNoThrow(try p.run())
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, argv.joined(separator: " "))
    }

    /// rwx of one class as Samba shows it: READ_DATA, WRITE_DATA, EXECUTE of the ACE for `sid`.
    func bits(_ sd: SecurityDescriptor, _ sid: SID?) -> String {
        guard let m = sd.dacl?.aces.first(where: { $0.sid == sid && $0.type == ACE.accessAllowed })?.mask else { return "---" }
        return (m & Self.read != 0 ? "r" : "-") + (m & Self.write != 0 ? "w" : "-") + (m & Self.execute != 0 ? "x" : "-")
    }

    func testTheDescriptorShowsTheServersOwnerGroupAndModes() async throws {
        let server = try TestServer.main()
        let share = try await Share.connect(server.configuration())
        let name = "sd-\(UUID().uuidString)"
        let path = server.sharePath + "/" + name
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data("x".utf8)))
        defer { try? FileManager.default.removeItem(atPath: path) }
        run("chown", server.user + ":daemon", path)
        let daemon = try XCTUnwrap(getgrnam("daemon")).pointee.gr_gid
        for (mode, expected) in [("0640", ["rw-", "r--", "---"]), ("0755", ["rwx", "r-x", "r-x"]),
                                 ("0604", ["rw-", "---", "r--"]), ("0777", ["rwx", "rwx", "rwx"])] {
            run("chmod", mode, path)
            let (info, sd) = try await share.queryAllInformationAndSecurity(path: name)
            XCTAssertEqual(info.basics.endOfFile, 1)
            XCTAssertEqual(sd.group?.unixGID, daemon, "\(sd.group.map(String.init(describing:)) ?? "no group")")
            XCTAssertNotNil(sd.owner)
            XCTAssertEqual([bits(sd, sd.owner), bits(sd, sd.group), bits(sd, .everyone)], expected, mode)
        }
        await share.disconnect()
    }

    /// On a share that keeps the ACL it is given, a DACL set reads back as set: ACEs in order,
    /// masks, flags and inheritable entries; the owner and group stay.
    func testADACLSetReadsBackAsSet() async throws {
        let server = try TestServer.main()
        let share = try await Share.connect(server.configuration(share: "acl"))
        let aclPath = (server.sharePath as NSString).deletingLastPathComponent + "/acl"
        let name = "sd-\(UUID().uuidString)"
        XCTAssertTrue(FileManager.default.createFile(atPath: aclPath + "/" + name, contents: Data("x".utf8)))
        defer { try? FileManager.default.removeItem(atPath: aclPath + "/" + name) }
        run("chown", server.user, aclPath + "/" + name)
        let (_, before) = try await share.queryAllInformationAndSecurity(path: name)
        let owner = try XCTUnwrap(before.owner)
        let aces: [ACE] = [.allowed(owner, 0x12019f), .denied(SID.unixGroup(4321), Self.write),
                           .allowed(try XCTUnwrap(before.group), 0x1200a9), .allowed(.everyone, 0x120089),
                           .allowed(.creatorOwner, 0x1f01ff, flags: ACE.objectInherit | ACE.inheritOnly)]
        try await share.setSecurity(path: name, SecurityDescriptor(dacl: ACL(aces: aces)), parts: .dacl)
        let (_, after) = try await share.queryAllInformationAndSecurity(path: name)
        XCTAssertEqual(after.dacl?.aces, aces)
        XCTAssertEqual(after.owner, before.owner)
        XCTAssertEqual(after.group, before.group)
        await share.disconnect()
    }
}
