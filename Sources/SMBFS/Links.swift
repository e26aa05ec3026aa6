import SMBClient
import SMBCrypto
import SMBProtocol
#if canImport(Glibc)
import Glibc
#endif

/// Symbolic links as Minshall–French symlink files (a 1067-byte regular file that starts with
/// "XSym"), which any SMB server can store and the kernel cifs client (`mfsymlinks`) reads too;
/// and hard links through FileLinkInformation.
extension Filesystem {
    static func md5(_ b: [UInt8]) -> [UInt8] { Digest.md5(b) }

    /// The target if the file at `path` is an MF symlink; nil for any other file.
    func symlinkTarget(path: String) async throws -> [UInt8]? {
        let bytes = try await share.withOpen(path: path, access: [.readData, .readAttributes, .synchronize],
                                             options: .nonDirectoryFile) { c in
            try await self.share.read(c.fileId, offset: 0, length: MFSymlink.fileSize)
        }
        guard bytes.count == MFSymlink.fileSize, bytes.starts(with: Array("XSym\n".utf8)) else { return nil }
        return try? MFSymlink.decode(bytes, md5: Self.md5)
    }

    /// The target of a server-side symbolic link (a reparse point, MS-FSCC 2.1.2.4), read with
    /// FSCTL_GET_REPARSE_POINT on the link itself (FILE_OPEN_REPARSE_POINT); nil for other files.
    func reparseTarget(path: String) async throws -> [UInt8]? {
        let out = try await share.withOpen(path: path, access: [.readAttributes, .synchronize],
                                           options: .openReparsePoint) { c in
            try await self.share.fsctl(c.fileId, code: FSCTL.FSCTL_GET_REPARSE_POINT, input: [],
                                       maxOutput: REPARSE_DATA_BUFFER.maximumSize)
        }
        guard let r = try? REPARSE_DATA_BUFFER.decode(out), r.reparseTag == ReparseTag.IO_REPARSE_TAG_SYMLINK,
              let link = try? SymbolicLinkReparseDataBuffer.decode(out) else { return nil }
        return Array(Self.unixTarget(link).utf8)
    }

    /// A Windows link target as a Unix path: backslashes become slashes; an absolute target
    /// keeps its form ("\??\C:\dir" → "/??/C:/dir"), which no Unix path resolves, rather
    /// than pointing somewhere else on this machine.
    static func unixTarget(_ link: SymbolicLinkReparseDataBuffer) -> String {
        let name = link.printName.isEmpty ? link.substituteName : link.printName
        return String(name.map { $0 == "\\" ? "/" : $0 })
    }

    /// Attributes of a file that may be a symlink: an MF symlink (only files of exactly 1067
    /// bytes are read) or a server reparse point with the symlink tag.
    func resolvingSymlink(_ a: Attributes, path: String, reparsePoint: Bool) async -> Attributes {
        var target: [UInt8]?
        if reparsePoint {
            target = try? await reparseTarget(path: path)
        } else if a.kind == .file, MFSymlink.isCandidate(size: a.size) {
            target = try? await symlinkTarget(path: path)
        }
        guard let target else { return a }
        var s = a
        s.kind = .symlink
        s.size = UInt64(target.count)
        s.permissions = 0o777
        return s
    }

    public func readlink(_ ino: UInt64) async throws -> [UInt8] {
        let p = try path(of: ino)
        if let target = try? await reparseTarget(path: p) { return target }
        guard let target = try await symlinkTarget(path: p) else { throw FSError(EINVAL) }
        return target
    }

    public func symlink(parent: UInt64, name: String, target: [UInt8]) async throws -> Entry {
        if options.readOnly { throw FSError(EROFS) }
        try Self.validate(name: name)
        guard !target.isEmpty else { throw FSError(ENOENT) }
        guard target.count <= MFSymlink.maxTargetLength else { throw FSError(ENAMETOOLONG) }
        let blob: [UInt8]
        do { blob = try MFSymlink.encode(target: target, md5: Self.md5) } catch { throw FSError(EINVAL) }
        let p = Self.join(try path(of: parent), name)
        willChange(p)
        do {
            try await share.withOpen(path: p, access: [.writeData, .readAttributes, .synchronize], disposition: .create,
                                     options: .nonDirectoryFile) { c in
                try await self.share.write(c.fileId, offset: 0, data: blob)
            }
        } catch {
            changedLocally(p, .added(nil))
            throw error
        }
        changedLocally(p, .added(nil))
        return try await lookup(parent: parent, name: name)
    }

    /// link(2): FileLinkInformation on the existing file (MS-FSCC 2.4.27.2).
    public func link(_ ino: UInt64, newParent: UInt64, newName: String) async throws -> Entry {
        if options.readOnly { throw FSError(EROFS) }
        try Self.validate(name: newName)
        let from = try path(of: ino)
        let to = Self.join(try path(of: newParent), newName)
        willChange(to)
        willChange(from)
        do {
            try await share.withOpen(path: from, access: [.readAttributes, .synchronize]) { c in
                try await self.share.link(c.fileId, at: to)
            }
        } catch {
            changedLocally(to, .added(nil))
            throw error
        }
        // The linked file's count and ctime changed too.
        changedLocally(from, .modified)
        changedLocally(to, .added(nil))
        return try await lookup(parent: newParent, name: newName)
    }
}
