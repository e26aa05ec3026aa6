/// File information classes used with QUERY_DIRECTORY and QUERY_INFO (MS-FSCC 2.4, 2.5).
public enum FileInformationClass: UInt8, Sendable {
    case fileBasicInformation = 4
    case fileStandardInformation = 5
    case fileInternalInformation = 6
    case fileAllInformation = 18
    case fileNetworkOpenInformation = 34
    case fileIdBothDirectoryInformation = 37
    case fileIdFullDirectoryInformation = 38
    /// FilePosixInformation / SMB2_FIND_POSIX_INFORMATION of the SMB3 POSIX extensions
    /// (POSIX-FSCC 2.3.1, 2.2.1), on opens with the POSIX create context.
    case filePosixInformation = 100
}

/// QUERY_DIRECTORY request (MS-SMB2 2.2.33).
public struct QueryDirectoryRequest: Sendable {
    public static let restartScans: UInt8 = 0x01
    public static let returnSingleEntry: UInt8 = 0x02
    public static let indexSpecified: UInt8 = 0x04
    public static let reopen: UInt8 = 0x10

    public var fileInformationClass: FileInformationClass = .fileIdBothDirectoryInformation
    public var flags: UInt8 = 0
    public var fileIndex: UInt32 = 0
    public var fileId: FileId
    public var pattern: String = "*"
    public var outputBufferLength: UInt32

    public init(fileId: FileId, outputBufferLength: UInt32, flags: UInt8 = 0) {
        self.fileId = fileId
        self.outputBufferLength = outputBufferLength
        self.flags = flags
    }

    public func encodeBody() -> [UInt8] {
        let name = UTF16LE.encode(pattern)
        var w = WireWriter(capacity: 32 + name.count)
        w.u16(33)                                  // StructureSize
        w.u8(fileInformationClass.rawValue)
        w.u8(flags)
        w.u32(fileIndex)
        fileId.encode(into: &w)
        w.u16(UInt16(Header.size + 32))            // FileNameOffset
        w.u16(UInt16(name.count))
        w.u32(outputBufferLength)
        if name.isEmpty { w.u8(0) } else { w.bytes(name) }
        return w.bytes
    }
}

/// One FileIdBothDirectoryInformation entry (MS-FSCC 2.4.17).
public struct DirectoryEntry: Sendable, Equatable {
    public var name: String
    public var basics: FileBasics
    public var fileId: UInt64
    /// The FileName bytes when they are not valid UTF-16LE (an unpaired surrogate, an odd
    /// length): `name` is then empty, and the entry cannot be shown.
    public var undecodableName: [UInt8]?

    public init(name: String, basics: FileBasics, fileId: UInt64, undecodableName: [UInt8]? = nil) {
        self.name = name
        self.basics = basics
        self.fileId = fileId
        self.undecodableName = undecodableName
    }
}

/// The output buffer of QUERY_DIRECTORY / QUERY_INFO (MS-SMB2 2.2.34, 2.2.38): both are
/// StructureSize 9, OutputBufferOffset, OutputBufferLength.
public enum OutputBufferResponse {
    public static func decode(message m: [UInt8], command: Command, maxLength: UInt32) throws -> [UInt8] {
        var r = WireReader(m, position: Header.size)
        let ss = try r.u16()
        guard ss == 9 else { throw ProtocolError.badStructureSize(command: command.description, got: ss) }
        let off = Int(try r.u16())
        let len = try r.u32()
        guard len <= maxLength else {
            throw ProtocolError.unexpected("\(command): \(len) bytes returned, at most \(maxLength) allowed")
        }
        return len == 0 ? [] : try r.slice(offset: off, length: Int(len))
    }
}

public enum FileIdBothDirectoryInformation {
    /// Fixed part before FileName (MS-FSCC 2.4.17).
    static let fixedSize = 104

    public static func decodeList(_ b: [UInt8]) throws -> [DirectoryEntry] {
        // Entries are 8-byte aligned (MS-FSCC 2.4.17); each is checked only to start past the
        // previous one's fixed part.
        try ChainedEntries.decode(b, "QUERY_DIRECTORY") { r, _ in
            try r.skip(4)                                       // FileIndex
            let basics = try FileBasics.decode(&r, endOfFileFirst: true)
            let nameLength = Int(try r.u32())
            try r.skip(4 + 1 + 1 + 24 + 2)                      // EaSize, ShortNameLength, Reserved1, ShortName, Reserved2
            let fileId = try r.u64()
            let nameBytes = try r.read(nameLength)
            // One name that is not UTF-16 does not make the rest of the listing unreadable.
            guard let name = try? UTF16LE.decode(nameBytes) else {
                return (DirectoryEntry(name: "", basics: basics, fileId: fileId, undecodableName: nameBytes), fixedSize)
            }
            return (DirectoryEntry(name: name, basics: basics, fileId: fileId), fixedSize)
        }
    }
}
