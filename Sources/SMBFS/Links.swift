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
        Self.symlinkTarget(reparse: try await reparsePoint(path: path))
    }

    /// The reparse buffer of the file at `path`, opened itself (FILE_OPEN_REPARSE_POINT).
    func reparsePoint(path: String) async throws -> [UInt8] {
        try await share.withOpen(path: path, access: [.readAttributes, .synchronize], options: .openReparsePoint) { c in
            try await self.share.fsctl(c.fileId, code: FSCTL.FSCTL_GET_REPARSE_POINT, input: [],
                                       maxOutput: REPARSE_DATA_BUFFER.maximumSize)
        }
    }

    /// The Unix target a symbolic link reparse buffer names; nil for any other buffer.
    static func symlinkTarget(reparse out: [UInt8]) -> [UInt8]? {
        guard let r = try? REPARSE_DATA_BUFFER.decode(out), r.reparseTag == ReparseTag.IO_REPARSE_TAG_SYMLINK,
              let link = try? SymbolicLinkReparseDataBuffer.decode(out) else { return nil }
        return Array(unixTarget(link).utf8)
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
    /// With `sfu`, a small system file may be a FIFO, socket or device node (SpecialFiles.swift);
    /// so may an NFS reparse point (NFSReparseData), as Windows' NFS server and POSIX Samba keep them.
    func resolvingSymlink(_ a: Attributes, path: String, fileAttributes: FileAttributes) async -> Attributes {
        // A FIFO or socket a POSIX server named has nothing more to read (no target, no numbers).
        if a.kind == .fifo || a.kind == .socket { return a }
        var target: [UInt8]?
        // A POSIX server names a symlink's type; its reparse point gives the target.
        if fileAttributes.contains(.reparsePoint) || a.kind == .symlink {
            guard let out = try? await reparsePoint(path: path) else { return a }
            if let special = (try? REPARSE_DATA_BUFFER.decode(out)).flatMap(NFSReparseData.decode) {
                return Self.shown(a, as: special)
            }
            target = Self.symlinkTarget(reparse: out)
        } else if a.kind == .file, MFSymlink.isCandidate(size: a.size) {
            target = try? await symlinkTarget(path: path)
        } else if options.sfu, a.kind == .file, InterixSpecialFile.isCandidate(attributes: fileAttributes, size: a.size) {
            return await resolvingSpecialFile(a, path: path)
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
        // PATH_MAX with its NUL, as the kernel already enforces.
        guard target.count < 4096 else { throw FSError(ENAMETOOLONG) }
        if target.count > MFSymlink.maxTargetLength { return try await reparseSymlink(parent: parent, name: name, target: target) }
        let blob: [UInt8]
        do { blob = try MFSymlink.encode(target: target, md5: Self.md5) } catch { throw FSError(EINVAL) }
        let p = try child(parent, name)
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

    /// A symlink whose target a Minshall–French file cannot hold (over 1,024 bytes): a symbolic
    /// link reparse point (IO_REPARSE_TAG_SYMLINK, MS-FSCC 2.1.2.4) set with
    /// FSCTL_SET_REPARSE_POINT on a new empty file, where the server stores reparse points. One
    /// that does not (Samba 4.17 answers STATUS_NOT_A_REPARSE_POINT) leaves nothing behind and
    /// the answer is ENAMETOOLONG.
    func reparseSymlink(parent: UInt64, name: String, target: [UInt8]) async throws -> Entry {
        guard let text = String(validating: target, as: UTF8.self) else { throw FSError(ENAMETOOLONG) }
        let p = try child(parent, name)
        // Only the substitute name: both names of a 4,095-byte target would not fit the 16 KiB
        // reparse buffer (readers take the substitute name when the print name is empty).
        let link = SymbolicLinkReparseDataBuffer(substituteName: String(text.map { $0 == "/" ? "\\" : $0 }),
                                                 printName: "", flags: text.hasPrefix("/") ? 0 : SymbolicLinkReparseDataBuffer.SYMLINK_FLAG_RELATIVE)
        let buffer: [UInt8]
        do { buffer = try link.encode() } catch { throw FSError(ENAMETOOLONG) }
        guard try await madeReparsePoint(path: p, buffer, contexts: []) else { throw FSError(ENAMETOOLONG) }
        return try await lookup(parent: parent, name: name)
    }

    /// A new empty file at `p` (FILE_CREATE: EEXIST for a name in use) with the reparse point
    /// `buffer` set (FSCTL_SET_REPARSE_POINT); false, and nothing left behind, where the server
    /// refuses the reparse point.
    func madeReparsePoint(path p: String, _ buffer: [UInt8], contexts: [CreateContext]) async throws -> Bool {
        willChange(p)
        let stored: Bool
        do {
            stored = try await share.withOpen(path: p, access: [.writeData, .writeAttributes, .readAttributes, .delete, .synchronize],
                                              disposition: .create, options: .nonDirectoryFile, contexts: contexts) { c in
                do {
                    _ = try await self.share.fsctl(c.fileId, code: FSCTL.FSCTL_SET_REPARSE_POINT, input: buffer, maxOutput: 0)
                    return true
                } catch let e as SMBError where e.ntStatus != nil {
                    self.logger.debug("reparse point refused", metadata: ["path": "\(p)", "status": "\(e)"])
                    try await self.share.setInfo(c.fileId, .disposition(deletePending: true))
                    return false
                }
            }
        } catch {
            changedLocally(p, .added(nil))
            throw error
        }
        changedLocally(p, stored ? .added(nil) : .removed)
        return stored
    }

    /// link(2): FileLinkInformation on the existing file (MS-FSCC 2.4.27.2).
    public func link(_ ino: UInt64, newParent: UInt64, newName: String) async throws -> Entry {
        if options.readOnly { throw FSError(EROFS) }
        let from = try path(of: ino)
        let to = try child(newParent, newName)
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
        // The linked file's count and ctime changed too: asked of the server by the new name
        // (FileStandardInformation.NumberOfLinks), not taken from a listing, which has no count.
        changedLocally(from, .modified)
        noteChanged(ino)
        let stamp = freshStamp
        let a: Attributes
        do {
            a = try await stat(path: to)
        } catch {
            changedLocally(to, .added(nil))
            throw error
        }
        let e = Entry(name: newName, attributes: a)
        rememberAttributes(a)
        changedLocally(to, .added(e))
        markFresh(a, stamp: stamp)
        return e
    }
}
