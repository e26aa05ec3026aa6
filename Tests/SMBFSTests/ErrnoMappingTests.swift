@testable import SMBFS
import SMBClient
import SMBProtocol
import XCTest
#if canImport(Glibc)
import Glibc
#endif

final class ErrnoMappingTests: XCTestCase {
    func testStatusTable() {
        let table: [(NTStatus, Int32)] = [
            (.objectNameNotFound, ENOENT), (.objectPathNotFound, ENOENT), (.noSuchFile, ENOENT),
            (.objectNameCollision, EEXIST), (.accessDenied, EACCES), (.directoryNotEmpty, ENOTEMPTY),
            (.fileIsADirectory, EISDIR), (.notADirectory, ENOTDIR), (.sharingViolation, EBUSY),
            (.fileLockConflict, EAGAIN), (.lockNotGranted, EAGAIN), (.cannotDelete, EACCES),
            (.eaTooLarge, E2BIG), (.easNotSupported, EOPNOTSUPP),
            (.diskFull, ENOSPC), (.quotaExceeded, EDQUOT), (.mediaWriteProtected, EROFS),
            (.nameTooLong, ENAMETOOLONG), (.notSameDevice, EXDEV), (.notSupported, EOPNOTSUPP),
            (.ioTimeout, ETIMEDOUT), (NTStatus(rawValue: 0xC0DE_0001), EIO),
        ]
        for (status, errno) in table {
            XCTAssertEqual(ErrnoMapping.errno(for: status), errno, "\(status)")
            XCTAssertEqual(ErrnoMapping.errno(for: SMBError.status(status, .create)), errno, "\(status) as SMBError")
        }
    }

    /// A Kerberos ticket that ran out mid-mount: EKEYEXPIRED, as the kernel's cifs client says.
    func testMissingTicketIsKeyExpired() {
        XCTAssertEqual(ErrnoMapping.errno(for: SMBError.noTicket("cifs/fs.example.com")), EKEYEXPIRED)
        XCTAssertEqual(SMBError.noTicket("cifs/fs.example.com").description, "no Kerberos ticket for cifs/fs.example.com (run kinit)")
    }

    func testClientFailuresAreEIO() {
        XCTAssertEqual(ErrnoMapping.errno(for: SMBError.signatureInvalid(.read, 5)), EIO)
        XCTAssertEqual(ErrnoMapping.errno(for: SMBError.malformed("x")), EIO)
        XCTAssertEqual(ErrnoMapping.errno(for: SMBError.connectionClosed("x")), EIO)
        XCTAssertEqual(ErrnoMapping.errno(for: SMBError.timeout(.read)), ETIMEDOUT)
        XCTAssertEqual(ErrnoMapping.errno(for: FSError(EROFS)), EROFS)
        XCTAssertEqual(ErrnoMapping.errno(for: CancellationError()), EIO)
    }
}

final class InodeTableTests: XCTestCase {
    func testServerFileIdsAreStableAcrossForget() {
        var t = InodeTable(rootPath: "")
        let a = t.number(for: "dir/a", fileId: 4711)
        XCTAssertEqual(a, 4711)
        t.remember(a, path: "dir/a")
        XCTAssertEqual(t.path(of: a), "dir/a")
        t.forget(a, count: 1)
        XCTAssertNil(t.path(of: a))
        XCTAssertEqual(t.number(for: "dir/a", fileId: 4711), a)
    }

    func testMadeUpNumbersForUnusableIds() {
        var t = InodeTable(rootPath: "")
        let x = t.number(for: "x", fileId: 0)
        let y = t.number(for: "y", fileId: 1)           // 1 is the root's number
        XCTAssertGreaterThanOrEqual(x, InodeTable.syntheticBase)
        XCTAssertNotEqual(x, y)
        XCTAssertEqual(t.number(for: "x", fileId: 0), x)
    }

    func testLookupCounting() {
        var t = InodeTable(rootPath: "")
        t.remember(10, path: "a")
        t.remember(10, path: "a")
        t.forget(10, count: 1)
        XCTAssertEqual(t.path(of: 10), "a")
        t.forget(10, count: 1)
        XCTAssertNil(t.path(of: 10))
        t.forget(InodeTable.rootIno, count: 100)
        XCTAssertEqual(t.path(of: InodeTable.rootIno), "")
    }

    func testModesFromAttributes() {
        let own = Ownership(uid: 1000, gid: 100, fileMode: 0o664, dirMode: 0o750)
        let t = FileTime(unixSeconds: 1_700_000_000)
        var b = FileBasics(creationTime: t, lastAccessTime: t, lastWriteTime: t, changeTime: t,
                           allocationSize: 4096, endOfFile: 10, fileAttributes: [.archive])
        var a = own.attributes(ino: 5, basics: b)
        XCTAssertEqual(a.kind, .file)
        XCTAssertEqual(a.permissions, 0o664)
        XCTAssertEqual(a.size, 10)
        XCTAssertEqual(a.uid, 1000)
        b.fileAttributes = [.readonly]
        a = own.attributes(ino: 5, basics: b)
        XCTAssertEqual(a.permissions, 0o444)
        b.fileAttributes = [.directory, .readonly]
        a = own.attributes(ino: 5, basics: b)
        XCTAssertEqual(a.kind, .directory)
        XCTAssertEqual(a.permissions, 0o750)
    }
}

final class SymlinkTargetTests: XCTestCase {
    func testReparseTargetsBecomeUnixPaths() {
        XCTAssertEqual(Filesystem.unixTarget(SymbolicLinkReparseDataBuffer(substituteName: "dir\\file", printName: "dir\\file",
                                                                          flags: SymbolicLinkReparseDataBuffer.SYMLINK_FLAG_RELATIVE)),
                       "dir/file")
        XCTAssertEqual(Filesystem.unixTarget(SymbolicLinkReparseDataBuffer(substituteName: "\\??\\C:\\data", printName: "",
                                                                          flags: 0)),
                       "/??/C:/data")
        XCTAssertEqual(Filesystem.unixTarget(SymbolicLinkReparseDataBuffer(substituteName: "\\??\\C:\\x", printName: "C:\\x",
                                                                          flags: 0)),
                       "C:/x")
    }
}
