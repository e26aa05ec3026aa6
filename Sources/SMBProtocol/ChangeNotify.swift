/// CHANGE_NOTIFY request (MS-SMB2 2.2.35): completes when something in the directory changes.
public struct ChangeNotifyRequest: Sendable {
    /// SMB2_WATCH_TREE: also changes below the directory's children.
    public static let watchTree: UInt16 = 0x0001

    public var flags: UInt16 = 0
    public var outputBufferLength: UInt32
    public var fileId: FileId
    public var completionFilter: CompletionFilter

    public init(fileId: FileId, outputBufferLength: UInt32, completionFilter: CompletionFilter) {
        self.fileId = fileId
        self.outputBufferLength = outputBufferLength
        self.completionFilter = completionFilter
    }

    public func encodeBody() -> [UInt8] {
        var w = WireWriter(capacity: 32)
        w.u16(32)                                  // StructureSize
        w.u16(flags)
        w.u32(outputBufferLength)
        fileId.encode(into: &w)
        w.u32(completionFilter.rawValue)
        w.u32(0)                                   // Reserved
        return w.bytes
    }

    /// The response's Buffer (MS-SMB2 2.2.36 has the QUERY_DIRECTORY response's shape).
    public static func decodeResponse(message: [UInt8], maxLength: UInt32) throws -> [FileNotifyInformation] {
        let buf = try OutputBufferResponse.decode(message: message, command: .changeNotify, maxLength: maxLength)
        return try FileNotifyInformation.decodeList(buf)
    }
}

/// CompletionFilter of CHANGE_NOTIFY (MS-SMB2 2.2.35, MS-FSCC 2.6 FILE_NOTIFY_CHANGE_*).
public struct CompletionFilter: OptionSet, Sendable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let fileName = CompletionFilter(rawValue: 0x0000_0001)
    public static let dirName = CompletionFilter(rawValue: 0x0000_0002)
    public static let attributes = CompletionFilter(rawValue: 0x0000_0004)
    public static let size = CompletionFilter(rawValue: 0x0000_0008)
    public static let lastWrite = CompletionFilter(rawValue: 0x0000_0010)
    public static let lastAccess = CompletionFilter(rawValue: 0x0000_0020)
    public static let creation = CompletionFilter(rawValue: 0x0000_0040)
    public static let ea = CompletionFilter(rawValue: 0x0000_0080)
    public static let security = CompletionFilter(rawValue: 0x0000_0100)
}

/// One FILE_NOTIFY_INFORMATION entry (MS-FSCC 2.7.1): what happened to which name, relative
/// to the watched directory.
public struct FileNotifyInformation: Sendable, Equatable {
    public struct Action: RawRepresentable, Hashable, Sendable {
        public var rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let added = Action(rawValue: 1)
        public static let removed = Action(rawValue: 2)
        public static let modified = Action(rawValue: 3)
        public static let renamedOldName = Action(rawValue: 4)
        public static let renamedNewName = Action(rawValue: 5)
    }

    public var action: Action
    public var fileName: String

    public init(action: Action, fileName: String) {
        self.action = action
        self.fileName = fileName
    }

    /// NextEntryOffset, Action, FileNameLength before FileName.
    static let fixedSize = 12

    /// Entries are 4-byte aligned (MS-FSCC 2.7.1).
    public static func decodeList(_ b: [UInt8]) throws -> [FileNotifyInformation] {
        try ChainedEntries.decode(b, alignment: 4, "CHANGE_NOTIFY") { r, _ in
            let action = Action(rawValue: try r.u32())
            let nameLength = Int(try r.u32())
            let name = try UTF16LE.decode(try r.read(nameLength))
            return (FileNotifyInformation(action: action, fileName: name), fixedSize + nameLength)
        }
    }

    public func encode() -> [UInt8] {
        let name = UTF16LE.encode(fileName)
        var w = WireWriter(capacity: Self.fixedSize + name.count)
        w.u32(0)
        w.u32(action.rawValue)
        w.u32(UInt32(name.count))
        w.bytes(name)
        return w.bytes
    }
}
