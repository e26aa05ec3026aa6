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

    /// Attributes of a file that may be an MF symlink: only files of exactly 1067 bytes are read.
    func resolvingSymlink(_ a: Attributes, path: String) async -> Attributes {
        guard a.kind == .file, MFSymlink.isCandidate(size: a.size),
              let target = try? await symlinkTarget(path: path) else { return a }
        var s = a
        s.kind = .symlink
        s.size = UInt64(target.count)
        s.permissions = 0o777
        return s
    }

    public func readlink(_ ino: UInt64) async throws -> [UInt8] {
        guard let target = try await symlinkTarget(path: try path(of: ino)) else { throw FSError(EINVAL) }
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
        try await share.withOpen(path: p, access: [.writeData, .readAttributes, .synchronize], disposition: .create,
                                 options: .nonDirectoryFile) { c in
            try await self.share.write(c.fileId, offset: 0, data: blob)
        }
        return try await lookup(parent: parent, name: name)
    }

    /// link(2): FileLinkInformation on the existing file (MS-FSCC 2.4.27.2).
    public func link(_ ino: UInt64, newParent: UInt64, newName: String) async throws -> Entry {
        if options.readOnly { throw FSError(EROFS) }
        try Self.validate(name: newName)
        let from = try path(of: ino)
        let to = Self.join(try path(of: newParent), newName)
        try await share.withOpen(path: from, access: [.readAttributes, .synchronize]) { c in
            try await self.share.link(c.fileId, at: to)
        }
        return try await lookup(parent: newParent, name: newName)
    }
}
