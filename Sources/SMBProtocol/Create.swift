/// SMB2_FILEID (MS-SMB2 2.2.14.1).
public struct FileId: Sendable, Hashable, CustomStringConvertible {
    public var persistent: UInt64
    public var volatile: UInt64
    public init(persistent: UInt64, volatile: UInt64) { self.persistent = persistent; self.volatile = volatile }

    /// The id that names "the file opened by the previous request" in a related compound (MS-SMB2 3.2.4.1.4).
    public static let related = FileId(persistent: .max, volatile: .max)

    func encode(into w: inout WireWriter) { w.u64(persistent); w.u64(volatile) }
    static func decode(_ r: inout WireReader) throws -> FileId { FileId(persistent: try r.u64(), volatile: try r.u64()) }

    public var description: String { "\(String(persistent, radix: 16)):\(String(volatile, radix: 16))" }
}

/// Access mask bits (MS-SMB2 2.2.13.1.1, MS-DTYP 2.4.3).
public struct AccessMask: OptionSet, Sendable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let readData = AccessMask(rawValue: 0x0000_0001)          // FILE_LIST_DIRECTORY for dirs
    public static let writeData = AccessMask(rawValue: 0x0000_0002)
    public static let appendData = AccessMask(rawValue: 0x0000_0004)
    public static let readEA = AccessMask(rawValue: 0x0000_0008)
    public static let writeEA = AccessMask(rawValue: 0x0000_0010)
    public static let execute = AccessMask(rawValue: 0x0000_0020)
    public static let readAttributes = AccessMask(rawValue: 0x0000_0080)
    public static let writeAttributes = AccessMask(rawValue: 0x0000_0100)
    public static let delete = AccessMask(rawValue: 0x0001_0000)
    public static let readControl = AccessMask(rawValue: 0x0002_0000)
    public static let writeDAC = AccessMask(rawValue: 0x0004_0000)
    public static let writeOwner = AccessMask(rawValue: 0x0008_0000)
    public static let synchronize = AccessMask(rawValue: 0x0010_0000)
    public static let maximumAllowed = AccessMask(rawValue: 0x0200_0000)
    public static let genericRead = AccessMask(rawValue: 0x8000_0000)
}

public struct ShareAccess: OptionSet, Sendable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let read = ShareAccess(rawValue: 1)
    public static let write = ShareAccess(rawValue: 2)
    public static let delete = ShareAccess(rawValue: 4)
    public static let all: ShareAccess = [.read, .write, .delete]
}

/// CreateDisposition (MS-SMB2 2.2.13).
public enum CreateDisposition: UInt32, Sendable {
    case supersede = 0, open = 1, create = 2, openIf = 3, overwrite = 4, overwriteIf = 5
}

/// CreateOptions (MS-SMB2 2.2.13).
public struct CreateOptions: OptionSet, Sendable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let directoryFile = CreateOptions(rawValue: 0x0000_0001)
    public static let writeThrough = CreateOptions(rawValue: 0x0000_0002)
    public static let nonDirectoryFile = CreateOptions(rawValue: 0x0000_0040)
    public static let deleteOnClose = CreateOptions(rawValue: 0x0000_1000)
    /// FILE_OPEN_FOR_BACKUP_INTENT: the server may grant access through the user's backup and
    /// restore privileges rather than the DACL (MS-SMB2 2.2.13).
    public static let openForBackupIntent = CreateOptions(rawValue: 0x0000_4000)
    public static let openReparsePoint = CreateOptions(rawValue: 0x0020_0000)
}

/// FileAttributes (MS-FSCC 2.6).
public struct FileAttributes: OptionSet, Sendable, Hashable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let readonly = FileAttributes(rawValue: 0x0001)
    public static let hidden = FileAttributes(rawValue: 0x0002)
    public static let system = FileAttributes(rawValue: 0x0004)
    public static let directory = FileAttributes(rawValue: 0x0010)
    public static let archive = FileAttributes(rawValue: 0x0020)
    public static let normal = FileAttributes(rawValue: 0x0080)
    public static let sparseFile = FileAttributes(rawValue: 0x0200)
    public static let reparsePoint = FileAttributes(rawValue: 0x0400)
}

/// A create context (MS-SMB2 2.2.13.2): a 4-byte-or-longer name and its data.
public struct CreateContext: Sendable, Equatable {
    public var name: [UInt8]
    public var data: [UInt8]
    public init(name: [UInt8], data: [UInt8]) { self.name = name; self.data = data }

    static func encodeList(_ list: [CreateContext]) -> [UInt8] {
        var w = WireWriter()
        for (i, c) in list.enumerated() {
            let start = w.count
            w.u32(0)                                  // Next, patched below
            w.u16(16)                                 // NameOffset
            w.u16(UInt16(c.name.count))
            w.u16(0)                                  // Reserved
            let dataOffset = c.data.isEmpty ? 0 : (16 + c.name.count + 7) & ~7
            w.u16(UInt16(dataOffset))
            w.u32(UInt32(c.data.count))
            w.bytes(c.name)
            if !c.data.isEmpty { w.align(8); w.bytes(c.data) }
            if i < list.count - 1 {
                w.align(8)
                w.patchU32(at: start, UInt32(w.count - start))
            }
        }
        return w.bytes
    }

    /// At most this many contexts are read from a response.
    static let maxContexts = 32

    static func decodeList(_ b: [UInt8]) throws -> [CreateContext] {
        // Name and data offsets are from the context's start; the next context starts past
        // this one's 16-byte fixed part (MS-SMB2 2.2.13.2).
        try ChainedEntries.decode(b, limit: maxContexts, "CREATE contexts") { r, start in
            let nameOffset = Int(try r.u16())
            let nameLength = Int(try r.u16())
            try r.skip(2)
            let dataOffset = Int(try r.u16())
            let dataLength = Int(try r.u32())
            let name = try r.slice(offset: start + nameOffset, length: nameLength)
            let data = dataLength == 0 ? [] : try r.slice(offset: start + dataOffset, length: dataLength)
            return (CreateContext(name: name, data: data), 16)
        }
    }
}

/// CREATE request (MS-SMB2 2.2.13). `name` is relative to the share root, with backslashes
/// and no leading separator; "" opens the share root.
public struct CreateRequest: Sendable {
    public var name: String
    public var requestedOplockLevel: UInt8 = 0           // SMB2_OPLOCK_LEVEL_NONE
    public var impersonationLevel: UInt32 = 2            // Impersonation
    public var desiredAccess: AccessMask
    public var fileAttributes: FileAttributes = []
    public var shareAccess: ShareAccess = .all
    public var createDisposition: CreateDisposition = .open
    public var createOptions: CreateOptions = []
    public var contexts: [CreateContext] = []

    public init(name: String, desiredAccess: AccessMask) {
        self.name = name
        self.desiredAccess = desiredAccess
    }

    public func encodeBody() -> [UInt8] {
        let nameBytes = UTF16LE.encode(name)
        var w = WireWriter(capacity: 56 + nameBytes.count + 64)
        w.u16(57)                                        // StructureSize
        w.u8(0)                                          // SecurityFlags
        w.u8(requestedOplockLevel)
        w.u32(impersonationLevel)
        w.u64(0)                                         // SmbCreateFlags
        w.u64(0)                                         // Reserved
        w.u32(desiredAccess.rawValue)
        w.u32(fileAttributes.rawValue)
        w.u32(shareAccess.rawValue)
        w.u32(createDisposition.rawValue)
        w.u32(createOptions.rawValue)
        w.u16(UInt16(Header.size + 56))                  // NameOffset
        w.u16(UInt16(nameBytes.count))
        let ctxFieldsAt = w.count
        w.u32(0); w.u32(0)                               // CreateContextsOffset / Length
        w.bytes(nameBytes)
        if contexts.isEmpty {
            if nameBytes.isEmpty { w.u8(0) }             // the Buffer is at least one byte (2.2.13)
        } else {
            w.align(8)
            let ctx = CreateContext.encodeList(contexts)
            w.patchU32(at: ctxFieldsAt, UInt32(Header.size + w.count))
            w.patchU32(at: ctxFieldsAt + 4, UInt32(ctx.count))
            w.bytes(ctx)
        }
        return w.bytes
    }
}

/// Times, sizes and attributes as CREATE, CLOSE and FileNetworkOpenInformation report them.
public struct FileBasics: Sendable, Equatable {
    public var creationTime: FileTime
    public var lastAccessTime: FileTime
    public var lastWriteTime: FileTime
    public var changeTime: FileTime
    public var allocationSize: UInt64
    public var endOfFile: UInt64
    public var fileAttributes: FileAttributes

    public init(creationTime: FileTime, lastAccessTime: FileTime, lastWriteTime: FileTime,
                changeTime: FileTime, allocationSize: UInt64, endOfFile: UInt64, fileAttributes: FileAttributes) {
        self.creationTime = creationTime
        self.lastAccessTime = lastAccessTime
        self.lastWriteTime = lastWriteTime
        self.changeTime = changeTime
        self.allocationSize = allocationSize
        self.endOfFile = endOfFile
        self.fileAttributes = fileAttributes
    }

    /// The four times, the two sizes and FileAttributes. CREATE (MS-SMB2 2.2.14) gives
    /// AllocationSize first; directory entries (MS-FSCC 2.4.17) and FilePosixInformation
    /// (POSIX-FSCC 2.3.1) give EndOfFile first.
    static func decode(_ r: inout WireReader, endOfFileFirst: Bool = false) throws -> FileBasics {
        let c = FileTime(rawValue: try r.u64())
        let a = FileTime(rawValue: try r.u64())
        let w = FileTime(rawValue: try r.u64())
        let ch = FileTime(rawValue: try r.u64())
        let first = try r.u64()
        let second = try r.u64()
        let (alloc, eof) = endOfFileFirst ? (second, first) : (first, second)
        let attrs = FileAttributes(rawValue: try r.u32())
        return FileBasics(creationTime: c, lastAccessTime: a, lastWriteTime: w, changeTime: ch,
                          allocationSize: alloc, endOfFile: eof, fileAttributes: attrs)
    }
}

/// CREATE response (MS-SMB2 2.2.14).
public struct CreateResponse: Sendable {
    public var oplockLevel: UInt8
    public var createAction: UInt32
    public var basics: FileBasics
    public var fileId: FileId
    public var contexts: [CreateContext]

    /// CreateAction FILE_CREATED (MS-SMB2 2.2.14): the file did not exist before.
    public static let fileCreated: UInt32 = 2
    /// SMB2_CREATE_QUERY_ON_DISK_ID (MS-SMB2 2.2.13.2.9, 2.2.14.2.12).
    public static let queryOnDiskIdName = Array("QFid".utf8)

    /// The first 8 bytes of the QFid response's DiskFileId: the file's number on its volume.
    public var diskFileIndex: UInt64? {
        guard let d = contexts.first(where: { $0.name == Self.queryOnDiskIdName })?.data, d.count >= 8 else { return nil }
        return (0..<8).reduce(UInt64(0)) { $0 | UInt64(d[$1]) << (8 * UInt64($1)) }
    }

    public static func decode(message m: [UInt8], at offset: Int = Header.size) throws -> CreateResponse {
        var r = WireReader(m, position: offset)
        let ss = try r.u16()
        guard ss == 89 else { throw ProtocolError.badStructureSize(command: "CREATE", got: ss) }
        let oplock = try r.u8()
        try r.skip(1)
        let action = try r.u32()
        let basics = try FileBasics.decode(&r)
        try r.skip(4)                                   // Reserved2
        let fid = try FileId.decode(&r)
        let ctxOffset = Int(try r.u32())
        let ctxLength = Int(try r.u32())
        var contexts: [CreateContext] = []
        if ctxLength > 0 {
            // Offsets are from the start of this message's header.
            let headerStart = offset - Header.size
            contexts = try CreateContext.decodeList(try r.slice(offset: headerStart + ctxOffset, length: ctxLength))
        }
        return CreateResponse(oplockLevel: oplock, createAction: action, basics: basics, fileId: fid, contexts: contexts)
    }
}

/// CLOSE request and response (MS-SMB2 2.2.15, 2.2.16).
public struct CloseRequest: Sendable {
    public var fileId: FileId
    public var postQueryAttributes: Bool
    public init(fileId: FileId, postQueryAttributes: Bool = false) {
        self.fileId = fileId
        self.postQueryAttributes = postQueryAttributes
    }

    public func encodeBody() -> [UInt8] {
        var w = WireWriter(capacity: 24)
        w.u16(24)
        w.u16(postQueryAttributes ? 1 : 0)              // SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB
        w.u32(0)
        fileId.encode(into: &w)
        return w.bytes
    }
}

public struct CloseResponse: Sendable {
    /// Present when the request asked for SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB and the server honoured it.
    public var basics: FileBasics?

    public static func decode(message m: [UInt8], at offset: Int = Header.size) throws -> CloseResponse {
        var r = WireReader(m, position: offset)
        let ss = try r.u16()
        guard ss == 60 else { throw ProtocolError.badStructureSize(command: "CLOSE", got: ss) }
        let flags = try r.u16()
        try r.skip(4)
        let b = try FileBasics.decode(&r)
        return CloseResponse(basics: flags & 1 != 0 ? b : nil)
    }
}
