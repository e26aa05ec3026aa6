import SMBClient
import SMBProtocol
#if canImport(Glibc)
import Glibc
#endif

/// Linux `user.*` extended attributes as SMB extended attributes (MS-FSCC 2.4.15): `user.NAME`
/// is the EA `NAME`. SMB has no other namespaces: setting one fails with EOPNOTSUPP, and reading
/// one finds nothing (ENODATA), because an EOPNOTSUPP from getxattr makes the kernel stop asking
/// for any attribute on the whole mount.
extension Filesystem {
    static let userPrefix = "user."

    /// Only `user.*` names can exist on an SMB share; any other getxattr finds nothing.
    public static func isStoredXattr(_ name: String) -> Bool { name.hasPrefix(userPrefix) }

    private static func eaName(_ name: String) throws -> String {
        guard name.hasPrefix(userPrefix), name.count > userPrefix.count else { throw FSError(EOPNOTSUPP) }
        let n = String(name.dropFirst(userPrefix.count))
        // EA names are ASCII without control characters (MS-FSCC 2.4.15).
        guard n.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }), n.utf8.count <= FileFullEaInformation.maxNameLength else {
            throw FSError(EINVAL)
        }
        return n
    }

    private func eas(path: String) async throws -> [FileFullEaInformation] {
        try await share.withOpen(path: path, access: [.readEA, .readAttributes, .synchronize]) { c in
            try await self.share.queryEAs(c.fileId)
        }
    }

    public func getxattr(_ ino: UInt64, name: String) async throws -> [UInt8] {
        guard name.hasPrefix(Self.userPrefix) else { throw FSError(ENODATA) }
        let n = try Self.eaName(name)
        // Servers compare EA names without regard to case.
        guard let ea = try await eas(path: try path(of: ino)).first(where: { $0.name.lowercased() == n.lowercased() }) else {
            throw FSError(ENODATA)
        }
        return ea.value
    }

    public func listxattr(_ ino: UInt64) async throws -> [String] {
        try await eas(path: try path(of: ino)).map { Self.userPrefix + $0.name }
    }

    /// XATTR_CREATE (1): fail if present; XATTR_REPLACE (2): fail if absent.
    public func setxattr(_ ino: UInt64, name: String, value: [UInt8], flags: Int32) async throws {
        if options.readOnly { throw FSError(EROFS) }
        let n = try Self.eaName(name)
        // An empty value would delete the EA (MS-FSA 2.1.5.15.5); SMB cannot store one.
        guard !value.isEmpty else { throw FSError(EINVAL) }
        guard value.count <= FileFullEaInformation.maxValueLength else { throw FSError(E2BIG) }
        let p = try path(of: ino)
        if flags & 3 != 0 {
            let exists = try await eas(path: p).contains { $0.name.lowercased() == n.lowercased() }
            if flags & 1 != 0 && exists { throw FSError(EEXIST) }
            if flags & 2 != 0 && !exists { throw FSError(ENODATA) }
        }
        try await share.withOpen(path: p, access: [.writeEA, .readAttributes, .synchronize]) { c in
            try await self.share.setEAs(c.fileId, [FileFullEaInformation(name: n, value: value)])
        }
    }

    public func removexattr(_ ino: UInt64, name: String) async throws {
        if options.readOnly { throw FSError(EROFS) }
        let n = try Self.eaName(name)
        let p = try path(of: ino)
        guard try await eas(path: p).contains(where: { $0.name.lowercased() == n.lowercased() }) else { throw FSError(ENODATA) }
        try await share.withOpen(path: p, access: [.writeEA, .readAttributes, .synchronize]) { c in
            try await self.share.setEAs(c.fileId, [FileFullEaInformation(name: n, value: [])])
        }
    }
}
