import Foundation
import SMBClient
import SMBProtocol
import XCTest

/// FilePosixInformation and the POSIX directory listing from Samba 4.22 with `smb3 unix
/// extensions`: modes with setuid, setgid and sticky, Unix ids, link counts and file types as the
/// server's filesystem has them, and names that differ only in case as two files.
final class PosixQueryTests: XCTestCase {
    func sh(_ script: String, _ args: String...) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", script, "sh"] + args
        XCTAssertNoThrow(try p.run())
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, script)
    }

    func testModesOwnersLinksAndTypes() async throws {
        let server = try TestServer.posix()
        let share = try await Share.connect(server.configuration())
        XCTAssertTrue(share.posixExtensionsOffered)
        let dir = "posixq-\(UUID().uuidString.prefix(8))"
        let d = server.sharePath + "/" + dir
        // Made on the server's own filesystem: the types and modes a POSIX client must see.
        sh(#"""
            set -e; mkdir "$1"; cd "$1"
            echo data > f; chown 1234:4321 f; chmod 4751 f
            ln f hard
            mkdir sub; chmod 1777 sub
            mkfifo fifo; chmod 640 fifo
            ln -s f link
            echo a > case; echo B > CASE
            chown -h "$2" . fifo link case CASE sub
            """#, d, server.user)
        defer { try? FileManager.default.removeItem(atPath: d) }

        let f = try await share.queryPosixInformation(path: dir + "/f")
        XCTAssertEqual(f.mode.permissions, 0o4751)
        XCTAssertEqual(f.mode.fileType, .regular)
        XCTAssertEqual(f.owner.unixUID, 1234, "\(f.owner)")
        XCTAssertEqual(f.group.unixGID, 4321, "\(f.group)")
        XCTAssertEqual(f.hardLinks, 2)
        XCTAssertEqual(f.basics.endOfFile, 5)
        var st = stat()
        XCTAssertEqual(stat(d + "/f", &st), 0)
        XCTAssertEqual(f.inode, UInt64(st.st_ino))

        let entries = try await share.listDirectoryPosix(path: dir)
        let byName = Dictionary(entries.map { ($0.name, $0.info) }, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(Set(byName.keys), ["f", "hard", "sub", "fifo", "link", "case", "CASE"])
        XCTAssertEqual(byName["sub"]?.mode.fileType, .directory)
        XCTAssertEqual(byName["sub"]?.mode.permissions, 0o1777)
        XCTAssertEqual(byName["fifo"]?.mode.fileType, .fifo)
        XCTAssertEqual(byName["fifo"]?.mode.permissions, 0o640)
        XCTAssertEqual(byName["link"]?.mode.fileType, .symlink)
        XCTAssertEqual(byName["hard"]?.inode, f.inode)
        XCTAssertEqual(byName["f"]?.mode.permissions, 0o4751)
        XCTAssertEqual(byName["case"]?.basics.endOfFile, 2)
        XCTAssertEqual(byName["CASE"]?.basics.endOfFile, 2)
        XCTAssertNotEqual(byName["case"]?.inode, byName["CASE"]?.inode)
        // A name that differs only in case opens its own file on a POSIX open.
        let upper = try await share.queryPosixInformation(path: dir + "/CASE")
        XCTAssertEqual(upper.inode, byName["CASE"]?.inode)
        await share.disconnect()
    }
}
