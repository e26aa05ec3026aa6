import Foundation
import Locking
@testable import SMBClient
import SMBCrypto
import SMBProtocol
import XCTest

/// A server that sends what no honest one does, in a signed response the client must accept
/// as genuine: a relay in front of the real Samba replaces one answer with a forged one,
/// signed with the session's key. Each forgery fails the one request (or the connection,
/// for a frame too large to read); the daemon neither traps nor buffers without bound, and
/// the share works again afterwards.
final class HostileServerTests: XCTestCase {
    static let queryDirectory: UInt16 = 0x0E
    static let queryInfo: UInt16 = 0x10

    /// Replaces the next response to `command`, once armed, by the genuine header (status
    /// success, NextCommand and signature cleared) with `body`, signed as the server would sign it.
    final class Forgery: Sendable {
        let signer = Locked<MessageSigner?>(nil)
        private let armed = Locked<(UInt16, [UInt8])?>(nil)

        func arm(_ command: UInt16, body: [UInt8]) { armed.withLock { $0 = (command, body) } }

        func take(_ command: UInt16) -> [UInt8]? {
            armed.withLock { a in
                guard let (c, body) = a, c == command else { return nil }
                a = nil
                return body
            }
        }

        func forge(_ genuine: [UInt8], body: [UInt8]) -> [UInt8] {
            var m = Array(genuine[0..<64])
            for i in 8..<12 { m[i] = 0 }
            for i in 20..<24 { m[i] = 0 }
            for i in 48..<64 { m[i] = 0 }
            m += body
            _ = try? signer.withLock { try $0?.sign(&m) }
            return m
        }
    }

    private func connect(_ forgery: Forgery) async throws -> (Share, TamperingProxy, TestServer) {
        let server = try TestServer.main()
        let proxy = try TamperingProxy(targetHost: server.host) { command, _ in
            guard let body = forgery.take(command) else { return .pass }
            return .replace { forgery.forge($0, body: body) }
        }
        var config = server.configuration()
        config.host = "127.0.0.1"
        config.port = Int(proxy.port)
        config.maxChannels = 1
        let share = try await Share.connect(config)
        forgery.signer.withLock { $0 = share.link.current?.connection.sessionSigner }
        return (share, proxy, server)
    }

    /// A QUERY_DIRECTORY / QUERY_INFO response body (MS-SMB2 2.2.34, 2.2.38): StructureSize 9,
    /// the output right after the fixed part.
    static func outputBody(_ output: [UInt8]) -> [UInt8] {
        var w = WireWriter()
        w.u16(9); w.u16(UInt16(Header.size + 8)); w.u32(UInt32(output.count))
        w.bytes(output)
        return w.bytes
    }

    /// `count` FILE_ID_BOTH_DIR_INFORMATION entries (MS-FSCC 2.4.17) named "x", each
    /// NextEntryOffset `next` (0 on the last unless `open`).
    static func directoryChain(count: Int, next: UInt32) -> [UInt8] {
        var w = WireWriter(capacity: count * 112)
        let name = UTF16LE.encode("x")
        for i in 0..<count {
            let start = w.count
            w.u32(i == count - 1 ? 0 : next); w.u32(UInt32(truncatingIfNeeded: i))
            w.zeros(32); w.u64(1); w.u64(4096)
            w.u32(0x20); w.u32(UInt32(name.count)); w.u32(0); w.u8(0); w.u8(0)
            w.zeros(24); w.u16(0); w.u64(UInt64(i))
            w.bytes(name)
            while w.count - start < 112 { w.u8(0) }
        }
        return w.bytes
    }

    private func makeDirectory(_ server: TestServer, files: Int) throws -> String {
        let name = "hostile-\(UUID().uuidString)"
        let dir = server.sharePath + "/" + name
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        for i in 0..<files { try Data("\(i)".utf8).write(to: URL(fileURLWithPath: "\(dir)/f\(i)")) }
        return name
    }

    /// 2^24 - 1 bytes of directory entries, more than any response this client asks for: the
    /// frame is refused from its length prefix (never buffered), the connection is dropped and
    /// made again with the open reclaimed, and the query, sent again, answers what the
    /// directory holds.
    func testSixteenMiBDirectoryChainIsRefusedFromItsLength() async throws {
        let forgery = Forgery()
        let (share, proxy, server) = try await connect(forgery)
        defer { proxy.stop() }
        let dir = try makeDirectory(server, files: 3)
        defer { try? FileManager.default.removeItem(atPath: server.sharePath + "/" + dir) }
        let generation = share.generation
        let total = (1 << 24) - 1
        var body = Self.outputBody(Self.directoryChain(count: (total - Header.size - 8) / 112, next: 112))
        body += [UInt8](repeating: 0, count: total - Header.size - body.count)
        let d = try await share.create(path: dir, access: [.readData, .synchronize], options: .directoryFile)
        forgery.arm(Self.queryDirectory, body: body)
        let got = try await share.queryDirectory(d.fileId, restart: true)
        XCTAssertEqual(proxy.tamperedCount, 1)
        XCTAssertEqual(got?.map(\.name).filter { $0 != "." && $0 != ".." }.sorted(), ["f0", "f1", "f2"])
        XCTAssertGreaterThan(share.generation, generation, "the 16 MiB frame did not end the connection")
        let names = try await share.listDirectory(path: dir).map(\.name).sorted()
        XCTAssertEqual(names, ["f0", "f1", "f2"])
        try await share.close(d.fileId)
        await share.disconnect()
    }

    /// Entries inside the response whose NextEntryOffset points into the entry itself (8, 100) or
    /// past the buffer: the listing fails as malformed, the connection stays, and the next
    /// listing is the real one.
    func testDirectoryChainThatOverlapsOrOverrunsFailsTheRequestOnly() async throws {
        let forgery = Forgery()
        let (share, proxy, server) = try await connect(forgery)
        defer { proxy.stop() }
        let dir = try makeDirectory(server, files: 2)
        defer { try? FileManager.default.removeItem(atPath: server.sharePath + "/" + dir) }
        let generation = share.generation
        for next: UInt32 in [8, 100, 0xFFFF_FFF8, 0x7FFF_FFF0] {
            let d = try await share.create(path: dir, access: [.readData, .synchronize], options: .directoryFile)
            forgery.arm(Self.queryDirectory, body: Self.outputBody(Self.directoryChain(count: 600, next: next)))
            do {
                let got = try await share.queryDirectory(d.fileId, restart: true)
                XCTFail("NextEntryOffset \(next): \(got?.count ?? 0) entries accepted")
            } catch let e as SMBError {
                guard case .malformed = e else { return XCTFail("NextEntryOffset \(next): \(e)") }
            }
            let names = try await share.listDirectory(path: dir).map(\.name).sorted()
            XCTAssertEqual(names, ["f0", "f1"], "NextEntryOffset \(next)")
            try await share.close(d.fileId)
        }
        XCTAssertEqual(proxy.tamperedCount, 4)
        XCTAssertEqual(share.generation, generation, "a malformed body dropped the connection")
        await share.disconnect()
    }

    /// A QUERY_DIRECTORY that succeeds with an empty buffer (a real server says
    /// STATUS_NO_MORE_FILES instead): refused as malformed, so a listing cannot ask again for
    /// ever; the connection stays and the next listing is the real one.
    func testDirectoryQueryThatSucceedsWithNothingIsRefused() async throws {
        let forgery = Forgery()
        let (share, proxy, server) = try await connect(forgery)
        defer { proxy.stop() }
        let dir = try makeDirectory(server, files: 2)
        defer { try? FileManager.default.removeItem(atPath: server.sharePath + "/" + dir) }
        let generation = share.generation
        let d = try await share.create(path: dir, access: [.readData, .synchronize], options: .directoryFile)
        forgery.arm(Self.queryDirectory, body: Self.outputBody([]))
        do {
            let got = try await share.queryDirectory(d.fileId, restart: true)
            XCTFail("an empty success taken as \(got?.count ?? -1) entries")
        } catch let e as SMBError {
            guard case .malformed = e else { return XCTFail("\(e)") }
        }
        XCTAssertEqual(proxy.tamperedCount, 1)
        let names = try await share.listDirectory(path: dir).map(\.name).sorted()
        XCTAssertEqual(names, ["f0", "f1"])
        try await share.close(d.fileId)
        XCTAssertEqual(share.generation, generation, "a malformed body dropped the connection")
        await share.disconnect()
    }

    /// FILE_FULL_EA_INFORMATION (MS-FSCC 2.4.15) with NextEntryOffset -8 as a signed 32-bit
    /// number, 2^31 - 16, and 2 (inside the entry): refused; 0 ends the list whatever follows.
    func testEAListWhoseOffsetsLoopOrOverrunIsRefused() async throws {
        let forgery = Forgery()
        let (share, proxy, server) = try await connect(forgery)
        defer { proxy.stop() }
        let name = "hostile-ea-\(UUID().uuidString)"
        try Data("x".utf8).write(to: URL(fileURLWithPath: server.sharePath + "/" + name))
        defer { try? FileManager.default.removeItem(atPath: server.sharePath + "/" + name) }
        let generation = share.generation
        func ea(_ next: UInt32) -> [UInt8] {
            var w = WireWriter()
            w.u32(next); w.u8(0); w.u8(1); w.u16(1)
            w.bytes(Array("a".utf8)); w.u8(0); w.u8(0x42)
            w.align(4)
            return w.bytes
        }
        let f = try await share.create(path: name, access: [.readData, .readEA, .synchronize])
        for next: UInt32 in [0xFFFF_FFF8, 0x7FFF_FFF0, 2] {
            forgery.arm(Self.queryInfo, body: Self.outputBody((0..<1000).flatMap { _ in ea(next) }))
            do {
                let got = try await share.queryEAs(f.fileId)
                XCTFail("NextEntryOffset \(next): \(got.count) EAs accepted")
            } catch let e as SMBError {
                guard case .malformed = e else { return XCTFail("NextEntryOffset \(next): \(e)") }
            }
        }
        forgery.arm(Self.queryInfo, body: Self.outputBody(ea(0) + (0..<100).flatMap { _ in ea(12) }))
        let one = try await share.queryEAs(f.fileId)
        XCTAssertEqual(one.map(\.name), ["a"])
        XCTAssertEqual(one.first?.value, [0x42])
        let real = try await share.queryEAs(f.fileId)
        XCTAssertEqual(real, [], "the file's real EAs")
        XCTAssertEqual(proxy.tamperedCount, 4)
        XCTAssertEqual(share.generation, generation)
        try await share.close(f.fileId)
        await share.disconnect()
    }
}
