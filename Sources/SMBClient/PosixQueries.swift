import SMBProtocol

/// Requests of the SMB3 POSIX extensions, for a server that offered them at NEGOTIATE
/// (`posixExtensionsOffered`): each open carries the POSIX create context, which gives that
/// open POSIX semantics (case-sensitive names, no reserved characters; POSIX-SMB2 2.2.13.2),
/// and asks information class 0x64. A POSIX open's path is sent as it is, "/" separating its
/// components and no character mapped: "\\" and ":" are ordinary characters of a name there.
extension Share {
    /// The POSIX create context (SMB2_CREATE_TAG_POSIX): the mode a new file gets, 0 to open one
    /// that exists (the server ignores it then).
    public static func posixContext(mode: UInt32) -> CreateContext {
        var w = WireWriter()
        w.u32(mode & 0o7777)
        return CreateContext(name: posixExtensionsTag, data: w.bytes)
    }

    /// A CREATE on a POSIX share: the POSIX create context unless the request carries one
    /// already (0644 or 0755 for a file or directory it makes, ignored for one it opens), and no
    /// SYNCHRONIZE asked: a POSIX server maps the mode to the rights
    /// it grants, and SYNCHRONIZE is not among those of a mode without read or write bits, so
    /// asking it would refuse stat, chmod and unlink of a file with mode 0 (SMB2 never waits on a
    /// handle: the right is never used).
    ///
    /// Every open also takes a reparse point itself (FILE_OPEN_REPARSE_POINT): the client
    /// resolves symlinks (the kernel, before any request reaches the mount), and a POSIX server
    /// shows its symlinks as reparse points, which an open without the option would follow or
    /// refuse, so unlink, rename and times of a symlink would reach its target or fail.
    static func makePosix(_ create: inout CreateRequest) {
        create.desiredAccess.remove(.synchronize)
        create.createOptions.insert(.openReparsePoint)
        guard !create.contexts.contains(where: { $0.name == posixExtensionsTag }) else { return }
        create.contexts.append(posixContext(mode: create.createOptions.contains(.directoryFile) ? 0o755 : 0o644))
    }

    /// Room for FilePosixInformation with two SIDs of the most sub-authorities MS-DTYP allows.
    static let posixInformationLength = 1024

    /// QUERY_INFO of FilePosixInformation.
    static func posixQuery(_ fid: FileId = .related) -> [UInt8] {
        QueryInfoRequest(infoType: .file, fileInfoClass: FileInformationClass.filePosixInformation.rawValue,
                         outputBufferLength: UInt32(posixInformationLength), fileId: fid).encodeBody()
    }

    /// FilePosixInformation from a QUERY_INFO answer; nil where the server refused the class.
    static func posixInformation(from r: Response) throws -> FilePosixInformation? {
        guard r.header.status == .success else { return nil }
        let buf = try decode("QUERY_INFO") {
            try OutputBufferResponse.decode(message: r.message, command: .queryInfo, maxLength: UInt32(posixInformationLength))
        }
        return try decode("QUERY_INFO") { try FilePosixInformation.decode(buf) }
    }

    /// With POSIX opens: the attributes of `path` and its FilePosixInformation (mode with the
    /// file's type, owners, link count), in one round trip (CREATE + QUERY_INFO + QUERY_INFO +
    /// CLOSE). The open asks FILE_READ_ATTRIBUTES alone, which a POSIX server grants whatever
    /// the file's mode (stat(2) needs no permission on the file itself).
    public func queryAllInformationAndPosix(path: String, options: CreateOptions = []) async throws
        -> (FileAllInformation, FilePosixInformation?) {
        let rs = try await compound(path: path, access: [.readAttributes], options: options, attributeQueries(.related),
                                    allowing: [.bufferOverflow], mayFail: posixQueryIndex(after: 0))
        return try attributesAndPosix(from: rs[...])
    }

    /// SET_INFO of each descriptor's `parts` in order, on one open (chmod, chown, chgrp on a
    /// POSIX share), and the attributes and FilePosixInformation after them, in one round trip.
    /// The open asks every right the sets need at once: a later set is not checked again
    /// against what an earlier one changed.
    public func setSecurityAndQueryPosix(path: String, _ sets: [(SecurityDescriptor, SecurityInformation)],
                                         options: CreateOptions = []) async throws -> (FileAllInformation, FilePosixInformation?) {
        var access: AccessMask = .readAttributes
        var requests: [(command: Command, body: [UInt8])] = []
        for (descriptor, parts) in sets {
            let (needs, set) = Self.securitySet(descriptor, parts)
            access.formUnion(needs)
            requests.append((.setInfo, set))
        }
        let n = requests.count
        let rs = try await compound(path: path, access: access, options: options, requests + attributeQueries(.related),
                                    allowing: [.bufferOverflow], mayFail: posixQueryIndex(after: n))
        for r in rs.prefix(n) { try Self.checkSetInfo(r) }
        return try attributesAndPosix(from: rs[n...])
    }

    /// FilePosixInformation of `path` in one round trip (CREATE with the POSIX context +
    /// QUERY_INFO class 0x64 + CLOSE); a symlink or other reparse point is opened itself.
    public func queryPosixInformation(path: String) async throws -> FilePosixInformation {
        let rs = try await compound(path: path, create: { p in
            var create = CreateRequest(name: p, desiredAccess: [.readAttributes, .synchronize])
            create.createDisposition = .open
            create.createOptions = .openReparsePoint
            create.shareAccess = .all
            Self.makePosix(&create)
            return create
        }, { _ in [(.queryInfo, Self.posixQuery())] })
        // `compound` has thrown for any status but success.
        guard let info = try Self.posixInformation(from: rs[1]) else { throw SMBError.status(rs[1].header.status, .queryInfo) }
        return info
    }

    /// Every entry of the directory at `path` with its FilePosixInformation ("." and ".." left
    /// out), QUERY_DIRECTORY class 0x64 on a POSIX open until STATUS_NO_MORE_FILES.
    public func listDirectoryPosix(path: String) async throws -> [PosixDirectoryInformation.Entry] {
        let size = min(maxTransactSize, 1 << 16)
        let c = try await create(path: path, access: [.readData, .readAttributes, .synchronize],
                                 options: .directoryFile, contexts: [Self.posixContext(mode: 0)], posixPath: true)
        var all: [PosixDirectoryInformation.Entry] = []
        do {
            var restart = true
            while let batch = try await queryDirectoryPosix(c.fileId, restart: restart, size: size) {
                all += batch
                guard all.count <= Self.listingLimit else {
                    throw SMBError.malformed("the server listed more than \(Self.listingLimit) entries in \(path.isEmpty ? "/" : path)")
                }
                restart = false
            }
        } catch {
            try? await close(c.fileId)
            throw error
        }
        try? await close(c.fileId)
        all.removeAll { $0.name == "." || $0.name == ".." }
        return all
    }

    /// One QUERY_DIRECTORY of class 0x64; nil at STATUS_NO_MORE_FILES.
    private func queryDirectoryPosix(_ fileId: FileId, restart: Bool, size: Int) async throws -> [PosixDirectoryInformation.Entry]? {
        let r = try await call(.queryDirectory, fileId: fileId, charge: (size - 1) / 65536 + 1, allowing: [.noMoreFiles]) { fid in
            var q = QueryDirectoryRequest(fileId: fid, outputBufferLength: UInt32(size),
                                          flags: restart ? QueryDirectoryRequest.restartScans : 0)
            q.fileInformationClass = .filePosixInformation
            return q.encodeBody()
        }
        if r.header.status == .noMoreFiles { return nil }
        let buf = try decode("QUERY_DIRECTORY") {
            try OutputBufferResponse.decode(message: r.message, command: .queryDirectory, maxLength: UInt32(size))
        }
        return try Self.someEntries(try decode("QUERY_DIRECTORY") { try PosixDirectoryInformation.decodeList(buf) })
    }
}
