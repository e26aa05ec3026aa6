import Foundation
import SMBClient
import SMBProtocol
import XCTest
#if canImport(Glibc)
import Glibc
#endif

final class ShareTests: XCTestCase {
    func testReadFileAndListRoot() async throws {
        let server = try TestServer.main()
        let dir = "client-\(UUID().uuidString)"
        let local = server.sharePath + "/" + dir
        try FileManager.default.createDirectory(atPath: local, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: local) }
        var content = [UInt8](repeating: 0, count: 200_000)
        for i in content.indices { content[i] = UInt8(truncatingIfNeeded: i &* 31 &+ i >> 8) }
        try Data(content).write(to: URL(fileURLWithPath: local + "/data.bin"))

        let share = try await Share.connect(server.configuration())
        XCTAssertTrue(share.isSigned)
        try await share.echo()
        let d = try await share.create(path: dir, access: [.readData, .readAttributes, .synchronize],
                                       options: .directoryFile)
        let entries = try await share.listDirectory(d.fileId)
        try await share.close(d.fileId)
        XCTAssertEqual(entries.map(\.name), ["data.bin"])
        XCTAssertEqual(entries.first?.basics.endOfFile, UInt64(content.count))

        let f = try await share.create(path: dir + "/data.bin", access: [.readData, .readAttributes, .synchronize])
        XCTAssertEqual(f.basics.endOfFile, UInt64(content.count))
        let all = try await share.read(f.fileId, offset: 0, length: content.count + 100)
        XCTAssertEqual(all, content)
        let middle = try await share.read(f.fileId, offset: 70_000, length: 1000)
        XCTAssertEqual(middle, Array(content[70_000..<71_000]))
        let past = try await share.read(f.fileId, offset: UInt64(content.count + 10), length: 10)
        XCTAssertEqual(past, [])
        let info = try await share.queryAllInformation(f.fileId)
        XCTAssertEqual(info.basics.endOfFile, UInt64(content.count))
        XCTAssertFalse(info.isDirectory)
        let fs = try await share.queryFullSize(f.fileId)
        XCTAssertGreaterThan(fs.totalAllocationUnits, 0)
        try await share.close(f.fileId)

        do {
            _ = try await share.create(path: dir + "/missing", access: [.readData])
            XCTFail("opened a missing file")
        } catch let e as SMBError {
            XCTAssertEqual(e.ntStatus, .objectNameNotFound)
        }
        await share.disconnect()
    }

    /// CREATE + QUERY_INFO + CLOSE as one signed compound: the attributes in one round trip; a
    /// missing name fails the CREATE (and with it the related requests) with its own status.
    func testCompoundQueryOfAPath() async throws {
        let server = try TestServer.main()
        let name = "compound-\(UUID().uuidString).bin"
        try Data(repeating: 7, count: 123_457).write(to: URL(fileURLWithPath: server.sharePath + "/" + name))
        defer { try? FileManager.default.removeItem(atPath: server.sharePath + "/" + name) }
        let share = try await Share.connect(server.configuration())
        for _ in 0..<3 {
            let info = try await share.queryAllInformation(path: name)
            XCTAssertEqual(info.basics.endOfFile, 123_457)
            XCTAssertFalse(info.isDirectory)
        }
        let root = try await share.queryAllInformation(path: "", options: .directoryFile)
        XCTAssertTrue(root.isDirectory)
        do {
            _ = try await share.queryAllInformation(path: name + ".missing")
            XCTFail("queried a missing file")
        } catch let e as SMBError {
            XCTAssertEqual(e.ntStatus, .objectNameNotFound)
        }
        // The connection is fine afterwards, and no open was left behind.
        try await share.echo()
        await share.disconnect()
    }

    /// A task that prefers the share's executor sends and is resumed on the connection's own
    /// thread (NIO's), every time: the FUSE operations rely on it to avoid thread hand-overs.
    func testTasksPreferringTheSharesExecutorStayOnTheConnectionsThread() async throws {
        let server = try TestServer.main()
        let share = try await Share.connect(server.configuration())
        func current() -> (pthread_t, String) {
            let name = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? "?"
            return (pthread_self(), name.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let seen = try await Task(executorPreference: share.executor) { () async throws -> [(pthread_t, String)] in
            var seen = [current()]
            for _ in 0..<10 {
                try await share.echo()
                seen.append(current())
                _ = try await share.queryAllInformation(path: "", options: .directoryFile)
                seen.append(current())
            }
            return seen
        }.value
        XCTAssertTrue(seen[0].1.hasPrefix("NIO-"), "ran on \(seen[0].1)")
        for (thread, name) in seen {
            XCTAssertTrue(pthread_equal(thread, seen[0].0) != 0, "moved to \(name)")
        }
        await share.disconnect()
    }

    func testWrongPasswordFails() async throws {
        let server = try TestServer.main()
        do {
            let s = try await Share.connect(server.configuration(password: "wrong-" + server.password))
            await s.disconnect()
            XCTFail("logged on with a wrong password")
        } catch let e as SMBError {
            guard case .authentication(let msg) = e else { return XCTFail("unexpected error \(e)") }
            XCTAssertTrue(msg.contains("logon failure"), msg)
        }
    }

    func testUnknownShareFails() async throws {
        let server = try TestServer.main()
        do {
            let s = try await Share.connect(server.configuration(share: "no-such-share"))
            await s.disconnect()
            XCTFail("connected to a missing share")
        } catch let e as SMBError {
            guard case .connectFailed(let msg) = e else { return XCTFail("unexpected error \(e)") }
            XCTAssertTrue(msg.contains("not found"), msg)
        }
    }

    func testRefusedPortFails() async throws {
        let server = try TestServer.main()
        var config = server.configuration()
        config.port = 1
        do {
            let s = try await Share.connect(config)
            await s.disconnect()
            XCTFail("connected to port 1")
        } catch let e as SMBError {
            guard case .connectFailed(let msg) = e else { return XCTFail("unexpected error \(e)") }
            XCTAssertTrue(msg.contains("refused"), msg)
        }
    }
}
