/// InfoType of QUERY_INFO / SET_INFO (MS-SMB2 2.2.37).
public enum InfoType: UInt8, Sendable {
    case file = 1, fileSystem = 2, security = 3, quota = 4
}

/// File system information classes (MS-FSCC 2.5).
public enum FileSystemInformationClass: UInt8, Sendable {
    case fileFsVolumeInformation = 1
    case fileFsSizeInformation = 3
    case fileFsAttributeInformation = 5
    case fileFsFullSizeInformation = 7
}

/// QUERY_INFO request (MS-SMB2 2.2.37).
public struct QueryInfoRequest: Sendable {
    public var infoType: InfoType
    public var fileInfoClass: UInt8
    public var outputBufferLength: UInt32
    public var fileId: FileId
    /// SL_RESTART_SCAN (0x1), SL_RETURN_SINGLE_ENTRY (0x2), SL_INDEX_SPECIFIED (0x4) for EA queries.
    public var flags: UInt32 = 0
    public static let restartScan: UInt32 = 0x1
    /// For InfoType security: which parts of the descriptor (SecurityInformation).
    public var additionalInformation: UInt32 = 0

    public init(infoType: InfoType, fileInfoClass: UInt8, outputBufferLength: UInt32, fileId: FileId) {
        self.infoType = infoType
        self.fileInfoClass = fileInfoClass
        self.outputBufferLength = outputBufferLength
        self.fileId = fileId
    }

    public func encodeBody() -> [UInt8] {
        var w = WireWriter(capacity: 41)
        w.u16(41)                                 // StructureSize
        w.u8(infoType.rawValue)
        w.u8(fileInfoClass)
        w.u32(outputBufferLength)
        w.u16(0); w.u16(0)                        // InputBufferOffset, Reserved
        w.u32(0)                                  // InputBufferLength
        w.u32(additionalInformation)
        w.u32(flags)
        fileId.encode(into: &w)
        w.u8(0)                                   // Buffer: one byte
        return w.bytes
    }
}

/// FileAllInformation (MS-FSCC 2.4.2), the parts this client uses.
public struct FileAllInformation: Sendable, Equatable {
    public var basics: FileBasics
    public var numberOfLinks: UInt32
    public var deletePending: Bool
    public var isDirectory: Bool
    public var indexNumber: UInt64
    /// FileNameInformation (2.4.27.1): the name the server knows the file by, usually its path
    /// from the share root (`\dir\Name`); nil when cut short (STATUS_BUFFER_OVERFLOW) or not UTF-16.
    public var fileName: String?

    public static func decode(_ b: [UInt8]) throws -> FileAllInformation {
        var r = WireReader(b)
        // FileBasicInformation (2.4.7): four times, attributes, reserved.
        let c = FileTime(rawValue: try r.u64())
        let a = FileTime(rawValue: try r.u64())
        let w = FileTime(rawValue: try r.u64())
        let ch = FileTime(rawValue: try r.u64())
        let attrs = FileAttributes(rawValue: try r.u32())
        try r.skip(4)
        // FileStandardInformation (2.4.41).
        let alloc = try r.u64()
        let eof = try r.u64()
        let links = try r.u32()
        let deletePending = try r.u8() != 0
        let dir = try r.u8() != 0
        try r.skip(2)
        // FileInternalInformation (2.4.22).
        let index = try r.u64()
        let basics = FileBasics(creationTime: c, lastAccessTime: a, lastWriteTime: w, changeTime: ch,
                                allocationSize: alloc, endOfFile: eof, fileAttributes: attrs)
        // FileEaInformation, FileAccessInformation, FilePositionInformation, FileModeInformation,
        // FileAlignmentInformation (2.4.2): 24 bytes, then FileNameLength and the name.
        var name: String?
        if (try? r.skip(24)) != nil, let length = try? r.u32(), let bytes = try? r.read(Int(length)) {
            name = try? UTF16LE.decode(bytes)
        }
        return FileAllInformation(basics: basics, numberOfLinks: links, deletePending: deletePending,
                                  isDirectory: dir, indexNumber: index, fileName: name)
    }
}

/// FileFsFullSizeInformation (MS-FSCC 2.5.4).
public struct FileFsFullSizeInformation: Sendable, Equatable {
    public var totalAllocationUnits: UInt64
    public var callerAvailableAllocationUnits: UInt64
    public var actualAvailableAllocationUnits: UInt64
    public var sectorsPerAllocationUnit: UInt32
    public var bytesPerSector: UInt32

    public static func decode(_ b: [UInt8]) throws -> FileFsFullSizeInformation {
        var r = WireReader(b)
        return FileFsFullSizeInformation(totalAllocationUnits: try r.u64(),
                                         callerAvailableAllocationUnits: try r.u64(),
                                         actualAvailableAllocationUnits: try r.u64(),
                                         sectorsPerAllocationUnit: try r.u32(),
                                         bytesPerSector: try r.u32())
    }
}
