import Foundation
import Locking
import Logging
import SMBAuth
import SMBClient
import SMBProtocol
@testable import SMBFS
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Filesystem semantics against the real Samba of Scripts/test, without a mount.
final class FilesystemTests: XCTestCase {
    func server() throws -> TestServer { try TestServer.fromEnvironment() }

    func mount(_ s: TestServer, root: String, readOnly: Bool = true, closeTimeout: Duration = .zero) async throws -> Filesystem {
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let config = ClientConfiguration(host: s.host, share: s.share,
                                         credentials: NTLMCredentials(user: s.user, password: s.pass, domain: "", workstation: "T"),
                                         logger: logger)
        let share = try await Share.connect(config)
        var options = Filesystem.Options(ownership: Ownership(uid: 1, gid: 2), rootPath: root)
        options.readOnly = readOnly
        options.closeTimeout = closeTimeout
        let fs = Filesystem(share: share, options: options, logger: logger)
        try await fs.checkRoot()
        return fs
    }

    func testLookupReaddirReadAndErrors() async throws {
        let s = try server()
        let dir = "fs-\(UUID().uuidString)"
        let local = s.path + "/" + dir
        try FileManager.default.createDirectory(atPath: local + "/sub", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: local) }
        let names = ["plain.txt", "with space", "Grüße", "日本語.md"]
        for (i, n) in names.enumerated() {
            try Data(repeating: UInt8(65 + i), count: 1000 * (i + 1)).write(to: URL(fileURLWithPath: local + "/sub/" + n))
        }

        // Mount the subdirectory as the root, as //HOST/SHARE/PATH does.
        let fs = try await mount(s, root: dir)
        let sub = try await fs.lookup(parent: InodeTable.rootIno, name: "sub")
        XCTAssertEqual(sub.attributes.kind, .directory)
        XCTAssertEqual(sub.attributes.permissions, 0o755)
        fs.remember(sub, parent: InodeTable.rootIno)

        let h = try fs.opendir(sub.attributes.ino)
        let entries = try await fs.readdir(handle: h, offset: 0)
        XCTAssertEqual(Set(entries.map(\.name)), Set(names))
        for e in entries {
            let i = names.firstIndex(of: e.name)!
            XCTAssertEqual(e.attributes.size, UInt64(1000 * (i + 1)), e.name)
            XCTAssertEqual(e.attributes.uid, 1)
            XCTAssertEqual(e.attributes.gid, 2)
            // readdirplus and lookup agree on the inode number.
            let looked = try await fs.lookup(parent: sub.attributes.ino, name: e.name)
            XCTAssertEqual(looked.attributes.ino, e.attributes.ino, e.name)
            XCTAssertEqual(looked.attributes.size, e.attributes.size, e.name)
        }
        let tail = try await fs.readdir(handle: h, offset: 2)
        XCTAssertEqual(tail.count, names.count - 2)
        fs.releasedir(handle: h)
        do { _ = try await fs.readdir(handle: h, offset: 0); XCTFail("read a released directory") } catch {
            XCTAssertEqual(ErrnoMapping.errno(for: error), EBADF)
        }

        let f = try await fs.lookup(parent: sub.attributes.ino, name: "Grüße")
        fs.remember(f, parent: sub.attributes.ino)
        let fh = try await fs.open(f.attributes.ino, flags: OpenFlags(posix: O_RDONLY)).handle
        let data = Array(try await fs.read(handle: fh, offset: 500, size: 10_000))
        XCTAssertEqual(data, [UInt8](repeating: 67, count: 2500))
        await fs.release(handle: fh)

        do { _ = try await fs.open(f.attributes.ino, flags: OpenFlags(posix: O_RDWR)); XCTFail("opened for writing") } catch {
            XCTAssertEqual(ErrnoMapping.errno(for: error), EROFS)
        }
        do { _ = try await fs.lookup(parent: sub.attributes.ino, name: "missing"); XCTFail("found a missing name") } catch {
            XCTAssertEqual(ErrnoMapping.errno(for: error), ENOENT)
        }
        do { _ = try await fs.lookup(parent: f.attributes.ino, name: "x"); XCTFail("looked up inside a file") } catch {
            XCTAssertEqual(ErrnoMapping.errno(for: error), ENOTDIR, "\(error)")
        }
        let st = try await fs.statfs()
        XCTAssertGreaterThan(st.blocks, 0)
        XCTAssertGreaterThanOrEqual(st.blocks, st.blocksFree)
        await fs.shutdown()
    }

    /// A setattr's answer already shows its own change: it stays fresh, so what tar does next
    /// to the file (fchown, fchmod) is answered without asking the server again.
    func testSetattrAnswerStaysFresh() async throws {
        let s = try server()
        let dir = "fs-\(UUID().uuidString)"
        let local = s.path + "/" + dir
        try FileManager.default.createDirectory(atPath: local, withIntermediateDirectories: true)
        chmod(local, 0o777)
        defer { try? FileManager.default.removeItem(atPath: local) }
        let fs = try await mount(s, root: dir, readOnly: false)
        let (e, h) = try await fs.create(parent: InodeTable.rootIno, name: "f",
                                         flags: OpenFlags(posix: O_WRONLY | O_CREAT | O_EXCL))
        fs.remember(e, parent: InodeTable.rootIno)
        let ino = e.attributes.ino
        _ = try await fs.write(handle: h, offset: 0, data: [UInt8](repeating: 1, count: 2000))
        var times = AttributeChanges()
        times.mtime = FileTime(unixSeconds: 1_700_000_000, nanoseconds: 0)
        let a = try await fs.setattr(ino, times, handle: h)
        XCTAssertEqual(a.size, 2000)
        XCTAssertEqual(a.mtime, times.mtime)
        XCTAssertEqual(fs.freshAttributes(ino)?.mtime, times.mtime)
        XCTAssertEqual(fs.freshAttributes(ino)?.size, 2000)
        // A write after it shows in what stays fresh: the size it made, the mtime moved on.
        _ = try await fs.write(handle: h, offset: 2000, data: [1])
        try await fs.flush(handle: h)
        XCTAssertEqual(fs.freshAttributes(ino)?.size, 2001)
        XCTAssertGreaterThan(fs.freshAttributes(ino)?.mtime.rawValue ?? 0, times.mtime!.rawValue)
        await fs.release(handle: h)
        await fs.shutdown()
    }

    func testMissingRootFails() async throws {
        let s = try server()
        do {
            let fs = try await mount(s, root: "no-such-dir-\(UUID().uuidString)")
            await fs.shutdown()
            XCTFail("mounted a missing directory")
        } catch {
            XCTAssertEqual(ErrnoMapping.errno(for: error), ENOENT)
        }
    }

    /// A directory longer than one QUERY_DIRECTORY response: the first readdir answers with
    /// the first response's entries while the rest are still being read, and reading on from
    /// each offset gives every entry once, as `ls` on the server's disk has them.
    func testALongDirectoryIsGivenAsItIsRead() async throws {
        let s = try server()
        let dir = "long-\(UUID().uuidString)"
        let local = s.path + "/" + dir
        try FileManager.default.createDirectory(atPath: local, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: local) }
        let names = (0..<6000).map { String(format: "entry-with-a-longer-name-%05d", $0) }
        for n in names { FileManager.default.createFile(atPath: local + "/" + n, contents: nil) }

        let fs = try await mount(s, root: "")
        let d = try await fs.lookup(parent: InodeTable.rootIno, name: dir)
        fs.remember(d, parent: InodeTable.rootIno)
        let h = try fs.opendir(d.attributes.ino)
        let first = try await fs.readdir(handle: h, offset: 0)
        XCTAssertGreaterThan(first.count, 0)
        XCTAssertLessThan(first.count, names.count, "the first readdir waited for the whole listing")
        var seen = Array(first.map(\.name))
        while true {
            let more = try await fs.readdir(handle: h, offset: seen.count)
            if more.isEmpty { break }
            seen += more.map(\.name)
        }
        XCTAssertEqual(seen.count, names.count)
        XCTAssertEqual(Set(seen), Set(names))
        // The handle's snapshot: offsets index the same entries on a second pass.
        let again = try await fs.readdir(handle: h, offset: 0)
        XCTAssertEqual(again.map(\.name), seen)
        fs.releasedir(handle: h)
        await fs.shutdown()
    }

    /// `cat f; cat f` with `closetimeo=`: the kernel sends the first open's RELEASE before the
    /// second OPEN, and the adapter starts each request's task on the connection's executor in
    /// the order they came. The OPEN must find the first open kept, every time: the release
    /// once waited for write-behind (an actor hop) first, and the OPEN sometimes ran ahead of it.
    func testAnOpenRightAfterAReleaseTakesTheOpenBack() async throws {
        let s = try server()
        let name = "again-\(UUID().uuidString)"
        try Data("first\n".utf8).write(to: URL(fileURLWithPath: s.path + "/" + name))
        defer { try? FileManager.default.removeItem(atPath: s.path + "/" + name) }
        let fs = try await mount(s, root: "", readOnly: false, closeTimeout: .seconds(30))
        let f = try await fs.lookup(parent: InodeTable.rootIno, name: name)
        fs.remember(f, parent: InodeTable.rootIno)
        let ino = f.attributes.ino
        var handle = try await fs.open(ino, flags: OpenFlags(posix: O_RDONLY)).handle
        for round in 0..<200 {
            let kept = fs.counters.openHits.load(ordering: .relaxed)
            let h = handle
            let released = Task(executorPreference: fs.share.executor) { await fs.release(handle: h) }
            let opened = Task(executorPreference: fs.share.executor) {
                try await fs.open(ino, flags: OpenFlags(posix: O_RDONLY)).handle
            }
            await released.value
            handle = try await opened.value
            let bytes = try await fs.read(handle: handle, offset: 0, size: 100)
            XCTAssertEqual(Array(bytes), Array("first\n".utf8))
            guard fs.counters.openHits.load(ordering: .relaxed) == kept + 1 else {
                return XCTFail("round \(round): the open after the release sent a CREATE")
            }
        }
        await fs.release(handle: handle)
        await fs.shutdown()
    }

    /// The kernel is told to drop cached state thousands of times a second under load; the
    /// last notice must cost what the first did. Each used to reach the adapter's notify
    /// through a thunk chain two links longer than the one before (see LockedFunction): in
    /// the 64-process soak the event loop's stack grew by a megabyte and every call slowed.
    func testInvalidationsKeepTheirStackDepth() async throws {
        let s = try server()
        let fs = try await mount(s, root: "")
        let depths = Locked<[UInt]>([])
        fs.setInvalidator { _, _ in
            var marker = 0
            let d = withUnsafeMutablePointer(to: &marker) { UInt(bitPattern: $0) }
            depths.withLock { $0.append(d) }
        }
        for _ in 0..<20_000 { fs.invalidate(InodeTable.rootIno, .entry("x")) }
        let seen = depths.withLock { $0 }
        XCTAssertEqual(seen.count, 20_000)
        XCTAssertEqual(Set(seen).count, 1, "deepest \((seen.first ?? 0) - (seen.min() ?? 0)) bytes below the first call")
        fs.setInvalidator(nil)
        await fs.shutdown()
    }
}

/// The Samba server Scripts/test starts, from its environment.
struct TestServer {
    let host, user, pass, share, path: String

    static func fromEnvironment() throws -> TestServer {
        let env = ProcessInfo.processInfo.environment
        guard let host = env["SMB3FS_TEST_HOST"], let user = env["SMB3FS_TEST_USER"], let pass = env["SMB3FS_TEST_PASS"],
              let share = env["SMB3FS_TEST_SHARE"], let path = env["SMB3FS_TEST_SHARE_PATH"] else {
            XCTFail("SMB3FS_TEST_* is not set: run through Scripts/test, which starts the Samba server")
            throw CancellationError()
        }
        return TestServer(host: host, user: user, pass: pass, share: share, path: path)
    }

    /// A Filesystem over a new connection to this server's share.
    func filesystem(readOnly: Bool, root: String = "", uid: UInt32 = 7, gid: UInt32 = 8) async throws -> Filesystem {
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let share = try await Share.connect(ClientConfiguration(
            host: host, share: share,
            credentials: NTLMCredentials(user: user, password: pass, domain: "", workstation: "T"), logger: logger))
        var o = Filesystem.Options(ownership: Ownership(uid: uid, gid: gid), rootPath: root)
        o.readOnly = readOnly
        return Filesystem(share: share, options: o, logger: logger)
    }
}
