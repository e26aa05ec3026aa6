import Foundation
import Logging
import SMBAuth
import SMBClient
@testable import SMBFS
import SMBProtocol
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Changes through SMBFS (no mount), checked on the server's side of the share.
final class WritingTests: XCTestCase {
    var fs: Filesystem!
    var local = ""
    var dirIno: UInt64 = 0

    override func setUp() async throws {
        let s = try TestServer.fromEnvironment()
        let dir = "w-\(UUID().uuidString)"
        local = s.path + "/" + dir
        try FileManager.default.createDirectory(atPath: local, withIntermediateDirectories: true)
        // Samba writes as its own user.
        _ = chmod(local, 0o777)
        fs = try await s.filesystem(readOnly: false)
        let e = try await fs.lookup(parent: InodeTable.rootIno, name: dir)
        fs.remember(e, parent: InodeTable.rootIno)
        dirIno = e.attributes.ino
    }

    override func tearDown() async throws {
        await fs?.shutdown()
        try? FileManager.default.removeItem(atPath: local)
    }

    func serverBytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: local + "/" + name)))
    }

    func errno(of body: () async throws -> Void) async -> Int32 {
        do { try await body(); return 0 } catch { return ErrnoMapping.errno(for: error) }
    }

    func testCreateWriteReadTruncate() async throws {
        let (e, h) = try await fs.create(parent: dirIno, name: "f.bin", flags: OpenFlags(posix: O_RDWR | O_CREAT | O_EXCL))
        fs.remember(e, parent: dirIno)
        let data = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 5 &+ $0 >> 11) }
        let written = try await fs.write(handle: h, offset: 0, data: data)
        XCTAssertEqual(written, data.count)
        try await fs.fsync(handle: h)
        XCTAssertEqual(try serverBytes("f.bin"), data)
        let part = Array(try await fs.read(handle: h, offset: 1_000_000, size: 10))
        XCTAssertEqual(part, Array(data[1_000_000..<1_000_010]))

        var c = AttributeChanges()
        c.size = 1000
        let a = try await fs.setattr(e.attributes.ino, c, handle: h)
        XCTAssertEqual(a.size, 1000)
        await fs.release(handle: h)
        XCTAssertEqual(try serverBytes("f.bin"), Array(data[0..<1000]))

        // O_EXCL on an existing name.
        let exists = await errno { _ = try await self.fs.create(parent: self.dirIno, name: "f.bin", flags: OpenFlags(posix: O_WRONLY | O_CREAT | O_EXCL)) }
        XCTAssertEqual(exists, EEXIST)
        // O_TRUNC through open.
        let h2 = try await fs.open(e.attributes.ino, flags: OpenFlags(posix: O_WRONLY | O_TRUNC)).handle
        await fs.release(handle: h2)
        XCTAssertEqual(try serverBytes("f.bin"), [])
    }

    func testTimesModeAndOwnership() async throws {
        let (e, h) = try await fs.create(parent: dirIno, name: "t.txt", flags: OpenFlags(posix: O_WRONLY | O_CREAT))
        fs.remember(e, parent: dirIno)
        await fs.release(handle: h)
        var c = AttributeChanges()
        c.mtime = FileTime(unixSeconds: 981_173_106)
        c.atime = FileTime(unixSeconds: 981_173_000)
        var a = try await fs.setattr(e.attributes.ino, c, handle: nil)
        XCTAssertEqual(a.mtime.unix.seconds, 981_173_106)
        var st = stat()
        XCTAssertEqual(stat(local + "/t.txt", &st), 0)
        XCTAssertEqual(st.st_mtim.tv_sec, 981_173_106)

        c = AttributeChanges()
        c.mode = 0o444
        a = try await fs.setattr(e.attributes.ino, c, handle: nil)
        XCTAssertEqual(a.permissions, 0o444)
        c.mode = 0o644
        a = try await fs.setattr(e.attributes.ino, c, handle: nil)
        XCTAssertEqual(a.permissions, 0o644)

        c = AttributeChanges()
        c.uid = 7
        c.gid = 8
        _ = try await fs.setattr(e.attributes.ino, c, handle: nil)
        c.uid = 0
        let perm = await errno { _ = try await self.fs.setattr(e.attributes.ino, c, handle: nil) }
        XCTAssertEqual(perm, EPERM)

        // ignore_chown: accepted, nothing changes.
        var o = fs.options
        o.ignoreChown = true
        let lenient = Filesystem(share: fs.share, options: o, logger: fs.logger)
        let f = try await lenient.lookup(parent: InodeTable.rootIno, name: (local as NSString).lastPathComponent)
        lenient.remember(f, parent: InodeTable.rootIno)
        let t = try await lenient.lookup(parent: f.attributes.ino, name: "t.txt")
        lenient.remember(t, parent: f.attributes.ino)
        let after = try await lenient.setattr(t.attributes.ino, c, handle: nil)
        XCTAssertEqual(after.uid, 7)
    }

    func testDirectoriesRenameAndDelete() async throws {
        let d = try await fs.mkdir(parent: dirIno, name: "d")
        fs.remember(d, parent: dirIno)
        XCTAssertEqual(d.attributes.kind, .directory)
        let again = await errno { _ = try await self.fs.mkdir(parent: self.dirIno, name: "d") }
        XCTAssertEqual(again, EEXIST)
        let (f, h) = try await fs.create(parent: d.attributes.ino, name: "in.txt", flags: OpenFlags(posix: O_WRONLY | O_CREAT))
        fs.remember(f, parent: d.attributes.ino)
        _ = try await fs.write(handle: h, offset: 0, data: Array("inside".utf8))
        await fs.release(handle: h)

        let notEmpty = await errno { try await self.fs.rmdir(parent: self.dirIno, name: "d") }
        XCTAssertEqual(notEmpty, ENOTEMPTY)
        XCTAssertTrue(FileManager.default.fileExists(atPath: local + "/d/in.txt"))

        // Rename the directory; the file inside keeps its inode and is found at the new path.
        try await fs.rename(parent: dirIno, name: "d", newParent: dirIno, newName: "e", noReplace: false)
        let moved = try await fs.getattr(f.attributes.ino)
        XCTAssertEqual(moved.size, 6)
        XCTAssertEqual(try serverBytes("e/in.txt"), Array("inside".utf8))

        // Replace an existing file atomically; RENAME_NOREPLACE refuses.
        try Data("old".utf8).write(to: URL(fileURLWithPath: local + "/target"))
        try Data("new".utf8).write(to: URL(fileURLWithPath: local + "/source"))
        let noReplace = await errno { try await self.fs.rename(parent: self.dirIno, name: "source", newParent: self.dirIno, newName: "target", noReplace: true) }
        XCTAssertEqual(noReplace, EEXIST)
        try await fs.rename(parent: dirIno, name: "source", newParent: dirIno, newName: "target", noReplace: false)
        XCTAssertEqual(try serverBytes("target"), Array("new".utf8))
        XCTAssertFalse(FileManager.default.fileExists(atPath: local + "/source"))

        try await fs.unlink(parent: d.attributes.ino, name: "in.txt")
        try await fs.rmdir(parent: dirIno, name: "e")
        XCTAssertFalse(FileManager.default.fileExists(atPath: local + "/e"))
        let missing = await errno { try await self.fs.unlink(parent: self.dirIno, name: "nothing") }
        XCTAssertEqual(missing, ENOENT)
    }

    func testReadOnlyFilesystemRefusesChanges() async throws {
        let s = try TestServer.fromEnvironment()
        let ro = try await s.filesystem(readOnly: true)
        defer { Task { await ro.shutdown() } }
        let e = await errno { _ = try await ro.mkdir(parent: InodeTable.rootIno, name: "never-\(UUID().uuidString)") }
        XCTAssertEqual(e, EROFS)
    }
}
