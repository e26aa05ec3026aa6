/// FileLinkInformation for SMB2 (MS-FSCC 2.4.27.2, FILE_LINK_INFORMATION_TYPE_SMB2): the SET_INFO
/// buffer that creates a hard link to the open file.
///
///     ReplaceIfExists (1), Reserved (7), RootDirectory (8) = 0 for SMB2,
///     FileNameLength (4), FileName (UTF-16LE, the new name relative to the share root)
public struct FileLinkInformation: Sendable, Equatable {
    /// FileLinkInformation, MS-FSCC 2.4 (the class number for SET_INFO).
    public static let fileInformationClass: UInt8 = 11
    static let fixedSize = 20

    /// The new link's path relative to the share root, with backslashes and no leading separator.
    public var fileName: String
    public var replaceIfExists: Bool

    public init(fileName: String, replaceIfExists: Bool = false) {
        self.fileName = fileName
        self.replaceIfExists = replaceIfExists
    }

    public func encode() throws -> [UInt8] {
        let name = UTF16LE.encode(fileName)
        guard !name.isEmpty else { throw EncodingError("FileLinkInformation: empty FileName") }
        var w = WireWriter(capacity: Self.fixedSize + name.count)
        w.u8(replaceIfExists ? 1 : 0)
        w.zeros(7)                                 // Reserved
        w.u64(0)                                   // RootDirectory: MUST be 0 for SMB2
        w.u32(UInt32(name.count))                  // FileNameLength
        w.bytes(name)
        return w.bytes
    }
}

/// FileStandardInformation (MS-FSCC 2.4.41), 24 bytes: the QUERY_INFO class 5 answer, cheaper
/// than FileAllInformation when only the link count, size or delete-pending state is wanted.
public struct FileStandardInformation: Sendable, Equatable {
    public static let fileInformationClass: UInt8 = 5
    public static let size = 24

    public var allocationSize: UInt64
    public var endOfFile: UInt64
    public var numberOfLinks: UInt32
    public var deletePending: Bool
    public var directory: Bool

    public init(allocationSize: UInt64, endOfFile: UInt64, numberOfLinks: UInt32, deletePending: Bool, directory: Bool) {
        self.allocationSize = allocationSize
        self.endOfFile = endOfFile
        self.numberOfLinks = numberOfLinks
        self.deletePending = deletePending
        self.directory = directory
    }

    /// Reads the 22 meaningful bytes; the 2 trailing Reserved bytes may be absent.
    public static func decode(_ b: [UInt8]) throws -> FileStandardInformation {
        var r = WireReader(b)
        return FileStandardInformation(allocationSize: try r.u64(), endOfFile: try r.u64(), numberOfLinks: try r.u32(),
                                       deletePending: try r.u8() != 0, directory: try r.u8() != 0)
    }
}
