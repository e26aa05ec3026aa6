/// The SMB3 POSIX extensions' view of a file (POSIX-FSCC 2.3.1 FilePosixInformation; 2.2.1 its
/// directory form, SMB2_FIND_POSIX_INFORMATION), asked with information class 0x64 by
/// QUERY_INFO and QUERY_DIRECTORY on opens that carry the POSIX create context.
///
///     0   CreationTime, LastAccessTime, LastWriteTime, ChangeTime (FILETIME each)
///     32  EndOfFile, AllocationSize (64-bit)
///     48  FileAttributes (32-bit)
///     52  Inode (64-bit), DeviceId, Reserved, HardLinks, ReparseTag, Mode (32-bit each)
///     80  owner SID, then group SID (MS-DTYP 2.4.2.2, 8 + 4 × sub-authorities bytes each)
public struct FilePosixInformation: Sendable, Equatable {
    public var basics: FileBasics
    public var inode: UInt64
    public var deviceId: UInt32
    public var hardLinks: UInt32
    public var reparseTag: UInt32
    public var mode: PosixMode
    public var owner: SID
    public var group: SID

    /// The part before the SIDs.
    static let fixedSize = 80

    public static func decode(_ r: inout WireReader) throws -> FilePosixInformation {
        let basics = try FileBasics.decode(&r, endOfFileFirst: true)
        let inode = try r.u64()
        let device = try r.u32()
        try r.skip(4)                                   // Reserved
        let links = try r.u32()
        let tag = try r.u32()
        let mode = PosixMode(rawValue: try r.u32())
        let owner = try SID.decode(&r)
        let group = try SID.decode(&r)
        return FilePosixInformation(
            basics: basics, inode: inode, deviceId: device, hardLinks: links, reparseTag: tag, mode: mode, owner: owner, group: group)
    }

    /// A QUERY_INFO answer: the structure alone.
    public static func decode(_ b: [UInt8]) throws -> FilePosixInformation {
        var r = WireReader(b)
        return try decode(&r)
    }
}

/// The mode of FilePosixInformation and of the POSIX create context (POSIX-FSCC 2.1.1): the
/// permission bits as octal 07777 has them, and above them a file type of the extensions' own
/// numbering (not S_IFMT).
public struct PosixMode: Sendable, Equatable {
    public enum FileType: UInt32, Sendable {
        case regular = 0, directory = 1, symlink = 2, characterDevice = 3, blockDevice = 4, fifo = 5, socket = 6
    }

    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// rwx for user, group and others, setuid, setgid and sticky.
    public var permissions: UInt32 { rawValue & 0o7777 }
    /// Bits 12-14; nil for a value the extensions do not define. Older servers send 0 for every
    /// type: the file attributes and reparse tag still tell a directory.
    public var fileType: FileType? { FileType(rawValue: (rawValue >> 12) & 0o7) }
}

/// SMB2_FIND_POSIX_INFORMATION entries (POSIX-FSCC 2.2.1): NextEntryOffset, FileIndex, the
/// FilePosixInformation structure, FileNameLength and the UTF-16 name.
public enum PosixDirectoryInformation {
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var info: FilePosixInformation
        /// The FileName bytes when they are not valid UTF-16LE (`name` is then empty).
        public var undecodableName: [UInt8]?
    }

    public static func decodeList(_ b: [UInt8]) throws -> [Entry] {
        try ChainedEntries.decode(b, "QUERY_DIRECTORY") { r, start in
            try r.skip(4)                                   // FileIndex
            let info = try FilePosixInformation.decode(&r)
            let nameLength = Int(try r.u32())
            let nameBytes = try r.read(nameLength)
            let length = r.position - start
            guard let name = try? UTF16LE.decode(nameBytes) else {
                return (Entry(name: "", info: info, undecodableName: nameBytes), length)
            }
            return (Entry(name: name, info: info), length)
        }
    }
}

/// The POSIX create context's response (POSIX-SMB2 2.1.3.2.1): what a CREATE carrying the
/// POSIX context learns of the file at no cost, so an open or a create needs no query for
/// its mode, owners, link count or type.
///
///     0   NumberOfLinks, ReparseTag, Mode (32-bit each)
///     12  owner SID, then group SID
public struct PosixCreateResponse: Sendable, Equatable {
    public var hardLinks: UInt32
    public var reparseTag: UInt32
    public var mode: PosixMode
    public var owner: SID
    public var group: SID

    public init(hardLinks: UInt32, reparseTag: UInt32, mode: PosixMode, owner: SID, group: SID) {
        self.hardLinks = hardLinks
        self.reparseTag = reparseTag
        self.mode = mode
        self.owner = owner
        self.group = group
    }

    public static func decode(_ b: [UInt8]) throws -> PosixCreateResponse {
        var r = WireReader(b)
        let links = try r.u32()
        let tag = try r.u32()
        let mode = PosixMode(rawValue: try r.u32())
        let owner = try SID.decode(&r)
        let group = try SID.decode(&r)
        return PosixCreateResponse(hardLinks: links, reparseTag: tag, mode: mode, owner: owner, group: group)
    }

    /// The response context among a CREATE response's, when the server sent one.
    public static func find(in contexts: [CreateContext]) -> PosixCreateResponse? {
        contexts.first { $0.name == posixExtensionsTag }.flatMap { try? decode($0.data) }
    }
}
