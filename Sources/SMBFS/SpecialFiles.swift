import SMBClient
import SMBProtocol
#if canImport(Glibc)
import Glibc
#endif

/// FIFOs, sockets and device nodes on servers without POSIX extensions (`sfu`): Interix system
/// files (InterixSpecialFile), which the kernel client's `sfu` mounts read and write the same
/// way. The kernel serves a FIFO, socket or device node itself once stat shows its type (FUSE
/// never opens one), so a FIFO on the mount is a pipe on this machine, as with the kernel client.
extension Filesystem {
    /// `a` as the special file its bytes make it; unchanged for any other content. An empty
    /// system file is a FIFO without reading it.
    func resolvingSpecialFile(_ a: Attributes, path: String) async -> Attributes {
        let special: InterixSpecialFile?
        if a.size == 0 {
            special = .fifo
        } else {
            let bytes = try? await share.withOpen(path: path, access: [.readData, .readAttributes, .synchronize],
                                                  options: .nonDirectoryFile) { c in
                try await self.share.read(c.fileId, offset: 0, length: InterixSpecialFile.maxSize)
            }
            special = bytes.flatMap(InterixSpecialFile.decode)
        }
        guard let special else { return a }
        return Self.shown(a, as: special)
    }

    /// `a` as the special file `special` (its type and device numbers, no size).
    static func shown(_ a: Attributes, as special: InterixSpecialFile) -> Attributes {
        var s = a
        s.size = 0
        switch special {
        case .fifo: s.kind = .fifo
        case .socket: s.kind = .socket
        case .characterDevice(let major, let minor):
            s.kind = .characterDevice
            s.device = .init(major: UInt32(truncatingIfNeeded: major), minor: UInt32(truncatingIfNeeded: minor))
        case .blockDevice(let major, let minor):
            s.kind = .blockDevice
            s.device = .init(major: UInt32(truncatingIfNeeded: major), minor: UInt32(truncatingIfNeeded: minor))
        }
        return s
    }

    /// mknod(2), mkfifo(3) and bind(2) of a socket with `sfu`: CREATE (FILE_CREATE, so EEXIST
    /// for a name in use) with FILE_ATTRIBUTE_SYSTEM, the record written, CLOSE. Without `sfu`
    /// SMB has no such file: EPERM, as the kernel client answers.
    public func mknod(parent: UInt64, name: String, special: InterixSpecialFile, creation: Creation? = nil) async throws -> Entry {
        try writable()
        if posixModes { return try await mknodPosix(parent: parent, name: name, special: special, creation: creation) }
        guard options.sfu else { throw FSError(EPERM) }
        let p = try child(parent, name)
        willChange(p)
        let bytes = special.encode()
        do {
            try await share.withOpen(path: p, access: [.writeData, .readAttributes, .synchronize], disposition: .create,
                                     options: .nonDirectoryFile, attributes: [.system]) { c in
                if !bytes.isEmpty { try await self.share.write(c.fileId, offset: 0, data: bytes) }
            }
        } catch {
            changedLocally(p, .added(nil))
            throw error
        }
        changedLocally(p, .added(nil))
        var e = try await lookup(parent: parent, name: name)
        if let creation { e = await given(e, parent: parent, creation) }
        return e
    }
}
