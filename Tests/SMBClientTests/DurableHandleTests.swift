// Durable handles v2 with leases (MS-SMB2 3.2.4.3.3, 3.2.4.4) against the main Samba's
// [durable] share, and lease break acknowledgment (3.2.5.19.2).
import Foundation
import Locking
@testable import SMBClient
import SMBProtocol
import XCTest

final class DurableHandleTests: XCTestCase {
    var server: TestServer!
    var dir = ""
    var local = ""

    override func setUpWithError() throws {
        server = try TestServer.main()
        dir = "durable-\(UUID().uuidString)"
        // [durable] is the rw share's sibling (Scripts/samba-server).
        local = (server.sharePath as NSString).deletingLastPathComponent + "/durable/" + dir
        let r = Process()
        r.executableURL = URL(fileURLWithPath: "/usr/bin/install")
        r.arguments = ["-d", "-o", server.user, local]
        try r.run()
        r.waitUntilExit()
        XCTAssertEqual(r.terminationStatus, 0, "mkdir \(local)")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: local)
    }

    func connect(requestTimeout: Duration = .seconds(60)) async throws -> Share {
        var c = server.configuration(share: "durable")
        c.requestTimeout = requestTimeout
        return try await Share.connect(c)
    }

    /// A durable open comes back with DH2C after the connection drops: same open, same data,
    /// and its byte-range lock still held against another client.
    func testDurableOpenSurvivesADroppedConnectionWithItsLock() async throws {
        let a = try await connect()
        let f = try await a.create(path: dir + "/held", access: [.readData, .writeData, .readAttributes, .synchronize],
                                   disposition: .create, durable: true)
        let granted = a.link.record(f.fileId)?.durable
        XCTAssertEqual(granted?.granted, true, "no durable handle granted: \(String(describing: granted))")
        XCTAssertEqual(granted?.leaseState.contains(.handleCaching), true)
        try await a.write(f.fileId, offset: 0, data: Array("before".utf8))
        try await a.lock(f.fileId, offset: 0, length: 100, flags: [.exclusiveLock, .failImmediately])

        let old = try XCTUnwrap(a.link.current)
        old.connection.fail(.connectionClosed("dropped by the test"))
        // The next use waits for the reconnect and reclaims the open.
        try await a.write(f.fileId, offset: 6, data: Array("+after".utf8))
        XCTAssertNotEqual(a.link.current?.generation, old.generation, "no reconnect happened")
        XCTAssertEqual(a.link.reclaimCounts, .init(durable: 1, byPath: 0, lost: 0))
        let back = try await a.read(f.fileId, offset: 0, length: 100)
        XCTAssertEqual(String(decoding: back, as: UTF8.self), "before+after")

        let b = try await connect()
        let g = try await b.create(path: dir + "/held", access: [.readData, .writeData, .synchronize])
        do {
            try await b.lock(g.fileId, offset: 10, length: 1, flags: [.exclusiveLock, .failImmediately])
            XCTFail("another client took a range the reclaimed open still locks")
        } catch let e as SMBError {
            XCTAssertTrue([.lockNotGranted, .fileLockConflict].contains(e.ntStatus), "\(e)")
        }
        try await a.close(f.fileId)
        try await b.lock(g.fileId, offset: 10, length: 1, flags: [.exclusiveLock, .failImmediately])
        try await b.close(g.fileId)
        await a.disconnect()
        await b.disconnect()
    }

    /// When the server process that held a durable open is gone, DH2C fails and the open is
    /// reopened by path, its lock taken again.
    func testOpenReopenedByPathWhenTheDurableHandleIsRefused() async throws {
        let a = try await connect()
        let f = try await a.create(path: dir + "/p", access: [.readData, .writeData, .synchronize],
                                   disposition: .create, durable: true)
        try await a.write(f.fileId, offset: 0, data: Array("data".utf8))
        try await a.lock(f.fileId, offset: 0, length: 4, flags: [.sharedLock, .failImmediately])
        // A CreateGuid the server never saw: DH2C is refused (STATUS_OBJECT_NAME_NOT_FOUND), as
        // after the server process holding the open was killed.
        a.link.tamperDurable(f.fileId) { $0.createGuid = Array(repeating: 0x5A, count: 16) }
        try XCTUnwrap(a.link.current).connection.fail(.connectionClosed("dropped by the test"))
        let back = try await a.read(f.fileId, offset: 0, length: 10)
        XCTAssertEqual(String(decoding: back, as: UTF8.self), "data")
        XCTAssertEqual(a.link.reclaimCounts, .init(durable: 0, byPath: 1, lost: 0))
        XCTAssertEqual(a.link.record(f.fileId)?.locks.count, 1, "the lock was not kept")
        let b = try await connect()
        let g = try await b.create(path: dir + "/p", access: [.readData, .writeData, .synchronize])
        do {
            try await b.lock(g.fileId, offset: 0, length: 1, flags: [.exclusiveLock, .failImmediately])
            XCTFail("the shared lock was not taken again after reopening by path")
        } catch let e as SMBError {
            XCTAssertTrue([.lockNotGranted, .fileLockConflict].contains(e.ntStatus), "\(e)")
        }
        try await b.close(g.fileId)
        try await a.close(f.fileId)
        await a.disconnect()
        await b.disconnect()
    }

    /// A file replaced on the server while the connection was down is never attached to the old
    /// descriptor: that one fails (EIO above), once, and the share goes on working.
    func testReplacedFileIsLostNotReattached() async throws {
        let a = try await connect()
        let f = try await a.create(path: dir + "/r", access: [.readData, .writeData, .synchronize],
                                   disposition: .create, durable: true)
        try await a.write(f.fileId, offset: 0, data: Array("old".utf8))
        a.link.tamperDurable(f.fileId) { $0.createGuid = Array(repeating: 0x5A, count: 16) }
        try XCTUnwrap(a.link.current).connection.fail(.connectionClosed("dropped by the test"))
        // While disconnected, another client replaces the file.
        try FileManager.default.removeItem(atPath: local + "/r")
        try Data("new".utf8).write(to: URL(fileURLWithPath: local + "/r"))
        do {
            _ = try await a.read(f.fileId, offset: 0, length: 10)
            XCTFail("read the replaced file through the old descriptor")
        } catch let e as SMBError {
            guard case .openLost = e else { return XCTFail("unexpected \(e)") }
        }
        XCTAssertEqual(a.link.reclaimCounts.lost, 1)
        let g = try await a.create(path: dir + "/r", access: [.readData, .synchronize])
        let now = try await a.read(g.fileId, offset: 0, length: 10)
        XCTAssertEqual(String(decoding: now, as: UTF8.self), "new")
        try await a.close(g.fileId)
        try await a.close(f.fileId)
        await a.disconnect()
    }

    /// A second client's open breaks the first one's write-caching lease; the break is
    /// acknowledged at once, so the second open completes well before Samba's 35 s break timeout.
    func testLeaseBreakIsAcknowledged() async throws {
        let a = try await connect()
        let f = try await a.create(path: dir + "/shared", access: [.readData, .writeData, .synchronize],
                                   disposition: .create, durable: true)
        XCTAssertEqual(a.link.record(f.fileId)?.durable?.leaseState.contains(.writeCaching), true, "no RWH lease")
        let b = try await connect(requestTimeout: .seconds(10))
        let g = try await b.create(path: dir + "/shared", access: [.readData, .writeData, .synchronize])
        XCTAssertEqual(a.link.record(f.fileId)?.durable?.leaseState.contains(.writeCaching), false,
                       "the lease was not broken")
        try await b.write(g.fileId, offset: 0, data: [1, 2, 3])
        let seen = try await a.read(f.fileId, offset: 0, length: 3)
        XCTAssertEqual(seen, [1, 2, 3])
        try await b.close(g.fileId)
        try await a.close(f.fileId)
        await a.disconnect()
        await b.disconnect()
    }

    /// Every open of one file shares one lease key (MS-SMB2 3.2.4.3.8): a reader opening a file
    /// this client holds open for writing breaks nothing, where a key per open would have
    /// broken the writer's RWH lease and waited for the acknowledgment.
    func testOpensOfOneFileShareOneLease() async throws {
        let a = try await connect()
        let broken = Locked(0)
        a.onLeaseBreak { _, _ in broken.withLock { $0 += 1 } }
        let w = try await a.create(path: dir + "/one", access: [.readData, .writeData, .synchronize],
                                   disposition: .create, durable: true)
        try await a.write(w.fileId, offset: 0, data: [7, 8, 9])
        let r = try await a.create(path: dir + "/one", access: [.readData, .synchronize], durable: true)
        let wKey = try XCTUnwrap(a.link.record(w.fileId)?.durable?.leaseKey, "writer has no lease")
        XCTAssertEqual(a.link.record(r.fileId)?.durable?.leaseKey, wKey, "a second lease for one file")
        XCTAssertEqual(broken.withLock { $0 }, 0, "the client's own opens broke each other's lease")
        XCTAssertEqual(a.link.record(w.fileId)?.durable?.leaseState.contains(.writeCaching), true)
        let seen = try await a.read(r.fileId, offset: 0, length: 3)
        XCTAssertEqual(seen, [7, 8, 9])
        // Another file has a lease of its own.
        let o = try await a.create(path: dir + "/other", access: [.readData, .writeData, .synchronize],
                                   disposition: .create, durable: true)
        XCTAssertNotEqual(a.link.record(o.fileId)?.durable?.leaseKey, wKey)
        try await a.close(o.fileId)
        try await a.close(r.fileId)
        try await a.close(w.fileId)
        // All closed: the next open of the file starts a new lease.
        let again = try await a.create(path: dir + "/one", access: [.readData, .synchronize], durable: true)
        XCTAssertNotEqual(a.link.record(again.fileId)?.durable?.leaseKey, wKey)
        try await a.close(again.fileId)
        await a.disconnect()
    }

    /// A file renamed while open keeps its lease key; a new file created under the old name
    /// cannot have that key (the server answers STATUS_INVALID_PARAMETER) and gets its own,
    /// which later opens of that name then share.
    func testNameReusedWhileTheOldFileIsOpenGetsItsOwnLease() async throws {
        let a = try await connect()
        let old = try await a.create(path: dir + "/name", access: [.readData, .writeData, .synchronize, .delete],
                                     disposition: .create, durable: true)
        let oldKey = try XCTUnwrap(a.link.record(old.fileId)?.durable?.leaseKey)
        try await a.rename(old.fileId, to: dir + "/moved", replaceIfExists: false)
        let new = try await a.create(path: dir + "/name", access: [.readData, .writeData, .synchronize],
                                     disposition: .create, durable: true)
        let newKey = try XCTUnwrap(a.link.record(new.fileId)?.durable?.leaseKey, "the new file got no lease")
        XCTAssertNotEqual(newKey, oldKey)
        try await a.write(new.fileId, offset: 0, data: [1])
        let again = try await a.create(path: dir + "/name", access: [.readData, .synchronize], durable: true)
        XCTAssertEqual(a.link.record(again.fileId)?.durable?.leaseKey, newKey)
        let back = try await a.read(again.fileId, offset: 0, length: 1)
        XCTAssertEqual(back, [1])
        for f in [again, new, old] { try await a.close(f.fileId) }
        await a.disconnect()
    }
}

