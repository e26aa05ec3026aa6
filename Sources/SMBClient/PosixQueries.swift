import SMBProtocol

/// Requests of the SMB3 POSIX extensions, for a server that offered them at NEGOTIATE
/// (`posixExtensionsOffered`): each open carries the POSIX create context, which gives that
/// open POSIX semantics (case-sensitive names, no reserved characters; POSIX-SMB2 2.2.13.2),
/// and asks information class 0x64. A POSIX open's path is sent as it is, "/" separating its
/// components and no character mapped: "\\" and ":" are ordinary characters of a name there.
extension Share {
    /// The POSIX create context (SMB2_CREATE_TAG_POSIX): the mode a new file gets, 0 to open one
    /// that exists (the server ignores it then).
    static func posixContext(mode: UInt32) -> CreateContext {
        var w = WireWriter()
        w.u32(mode & 0o7777)
        return CreateContext(name: posixExtensionsTag, data: w.bytes)
    }

    /// Room for FilePosixInformation with two SIDs of the most sub-authorities MS-DTYP allows.
    private static let posixInformationLength = 1024

    /// FilePosixInformation of `path` in one round trip (CREATE with the POSIX context +
    /// QUERY_INFO class 0x64 + CLOSE); a symlink or other reparse point is opened itself.
    public func queryPosixInformation(path: String) async throws -> FilePosixInformation {
        var create = CreateRequest(name: path, desiredAccess: [.readAttributes, .synchronize])
        create.createDisposition = .open
        create.createOptions = .openReparsePoint
        create.shareAccess = .all
        create.contexts = [Self.posixContext(mode: 0)]
        let query = QueryInfoRequest(infoType: .file, fileInfoClass: FileInformationClass.filePosixInformation.rawValue,
                                     outputBufferLength: UInt32(Self.posixInformationLength), fileId: .related)
        let rs = try await compound(create, [(.queryInfo, query.encodeBody())])
        let buf = try decode("QUERY_INFO") {
            try OutputBufferResponse.decode(message: rs[1].message, command: .queryInfo,
                                            maxLength: UInt32(Self.posixInformationLength))
        }
        return try decode("QUERY_INFO") { try FilePosixInformation.decode(buf) }
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
        return try decode("QUERY_DIRECTORY") { try PosixDirectoryInformation.decodeList(buf) }
    }
}
