import SMBProtocol
import XCTest

/// Requests are laid out as MS-SMB2 section 2.2 says.
final class EncodingTests: XCTestCase {
    func testHeaderRoundTrip() throws {
        var h = Header(command: .read)
        h.creditCharge = 16
        h.credits = 80
        h.flags = [.signed]
        h.messageId = 0x1122334455
        h.treeId = 7
        h.sessionId = 0xABCDEF
        var w = WireWriter()
        h.encode(into: &w)
        XCTAssertEqual(w.count, 64)
        XCTAssertEqual(Array(w.bytes[0..<4]), [0xFE, 0x53, 0x4D, 0x42])
        XCTAssertEqual(try Header.decode(w.bytes), h)
    }

    func testNegotiateRequestLayout() throws {
        let req = NegotiateRequest(dialects: Dialect.allCases, securityMode: [.signingEnabled, .signingRequired],
                                   capabilities: [.largeMTU], clientGuid: Array(repeating: 9, count: 16),
                                   preauthSalt: Array(repeating: 5, count: 32), ciphers: Cipher.allCases,
                                   signingAlgorithms: [2, 1, 0], serverName: "srv")
        let b = req.encodeBody()
        var r = WireReader(b)
        XCTAssertEqual(try r.u16(), 36)
        XCTAssertEqual(try r.u16(), 5)                   // DialectCount
        XCTAssertEqual(try r.u16(), 3)                   // SecurityMode
        try r.skip(2 + 4 + 16)
        let ctxOffset = Int(try r.u32())
        XCTAssertEqual(try r.u16(), 4)                   // contexts: preauth, encryption, netname, signing
        try r.skip(2)
        XCTAssertEqual(try (0..<5).map { _ in try r.u16() }, [0x0202, 0x0210, 0x0300, 0x0302, 0x0311])
        XCTAssertEqual(ctxOffset % 8, 0)
        var c = WireReader(b, position: ctxOffset - 64)
        XCTAssertEqual(try c.u16(), 1)                   // PREAUTH_INTEGRITY_CAPABILITIES first
        XCTAssertEqual(try c.u16(), 38)
        try c.skip(4)
        XCTAssertEqual(try c.u16(), 1)                   // one hash
        XCTAssertEqual(try c.u16(), 32)                  // salt length
        XCTAssertEqual(try c.u16(), 1)                   // SHA-512
    }

    func testNegotiateWithout311HasNoContexts() {
        let req = NegotiateRequest(dialects: [.smb210, .smb300], securityMode: [.signingEnabled], capabilities: [],
                                   clientGuid: Array(repeating: 0, count: 16), preauthSalt: [], ciphers: [],
                                   signingAlgorithms: [], serverName: "")
        XCTAssertEqual(req.encodeBody().count, 36 + 4)
    }

    func testCreateRequestLayout() throws {
        var req = CreateRequest(name: "dir\\file.txt", desiredAccess: [.readData, .synchronize])
        req.createDisposition = .open
        let b = req.encodeBody()
        var r = WireReader(b)
        XCTAssertEqual(try r.u16(), 57)
        try r.skip(2 + 4 + 8 + 8)
        XCTAssertEqual(try r.u32(), 0x0010_0001)
        try r.skip(4 + 4)
        XCTAssertEqual(try r.u32(), 1)                   // FILE_OPEN
        try r.skip(4)
        XCTAssertEqual(try r.u16(), 120)                 // NameOffset = 64 + 56
        let len = Int(try r.u16())
        XCTAssertEqual(try UTF16LE.decode(Array(b[56..<(56 + len)])), "dir\\file.txt")
        // The share root has an empty name but still a one-byte buffer.
        XCTAssertEqual(CreateRequest(name: "", desiredAccess: []).encodeBody().count, 57)
    }

    func testReadRequestLayout() throws {
        let b = ReadRequest(fileId: FileId(persistent: 1, volatile: 2), offset: 1 << 33, length: 1 << 20).encodeBody()
        XCTAssertEqual(b.count, 49)
        var r = WireReader(b)
        XCTAssertEqual(try r.u16(), 49)
        try r.skip(2)
        XCTAssertEqual(try r.u32(), 1 << 20)
        XCTAssertEqual(try r.u64(), 1 << 33)
        XCTAssertEqual(try r.u64(), 1)
        XCTAssertEqual(try r.u64(), 2)
    }

    /// FileRenameInformation (class 10) and FileRenameInformationEx (class 65, MS-FSCC 2.4.37.2):
    /// the same layout, ReplaceIfExists as one byte or the Flags as four.
    func testRenameInformationLayouts() {
        let name = UTF16LE.encode("d\\n")
        let plain = FileSetInformation.rename(newName: "d\\n", replaceIfExists: true)
        XCTAssertEqual(plain.fileInfoClass, 10)
        XCTAssertEqual(plain.encode(), [1, 0, 0, 0, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 8) + [6, 0, 0, 0] + name)
        let posix = FileSetInformation.renamePOSIX(newName: "d\\n")
        XCTAssertEqual(posix.fileInfoClass, 65)
        // FILE_RENAME_REPLACE_IF_EXISTS | FILE_RENAME_POSIX_SEMANTICS, Reserved, RootDirectory 0.
        XCTAssertEqual(posix.encode(), [3, 0, 0, 0, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 8) + [6, 0, 0, 0] + name)
    }

    func testFileTimeConversion() {
        let t = FileTime(unixSeconds: 1_700_000_000, nanoseconds: 123_456_700)
        XCTAssertEqual(t.unix.seconds, 1_700_000_000)
        XCTAssertEqual(t.unix.nanoseconds, 123_456_700)
        XCTAssertEqual(FileTime(rawValue: 116_444_736_000_000_000).unix.seconds, 0)
        XCTAssertEqual(FileTime(rawValue: 0).unix.seconds, 0)
        // Before 1970: negative seconds, nanoseconds as a timespec keeps them (0..<10^9).
        let sixties = FileTime(unixSeconds: -315_619_200, nanoseconds: 123_456_700)
        XCTAssertEqual(sixties.rawValue, (11_644_473_600 - 315_619_200) * 10_000_000 + 1_234_567)
        XCTAssertEqual(sixties.unix.seconds, -315_619_200)
        XCTAssertEqual(sixties.unix.nanoseconds, 123_456_700)
        XCTAssertEqual(FileTime(unixSeconds: -1, nanoseconds: 999_999_900).unix.seconds, -1)
        XCTAssertEqual(FileTime(unixSeconds: 4_102_444_800).unix.seconds, 4_102_444_800)
        // Past either end: the first tick (never 0, "unchanged" in SET_INFO) and the last.
        XCTAssertEqual(FileTime(unixSeconds: -20_000_000_000).rawValue, 1)
        XCTAssertEqual(FileTime(unixSeconds: .max).unix.seconds, Int64.max / 10_000_000 - 11_644_473_601)
        XCTAssertEqual(FileTime(rawValue: .max).unix.seconds, Int64.max / 10_000_000 - 11_644_473_600)
    }

    func testNTStatusNames() {
        XCTAssertEqual(NTStatus.logonFailure.description, "STATUS_LOGON_FAILURE")
        XCTAssertEqual(NTStatus(rawValue: 0xC0DE_0001).description, "NTSTATUS 0xC0DE0001")
        XCTAssertTrue(NTStatus.accessDenied.isError)
        XCTAssertFalse(NTStatus.bufferOverflow.isError)
    }
}
