/// SET_INFO request (MS-SMB2 2.2.39); the response is StructureSize 2 (2.2.40).
public struct SetInfoRequest: Sendable {
    public var infoType: InfoType
    public var fileInfoClass: UInt8
    public var fileId: FileId
    public var buffer: [UInt8]
    public var additionalInformation: UInt32 = 0

    public init(infoType: InfoType = .file, fileInfoClass: UInt8, fileId: FileId, buffer: [UInt8]) {
        self.infoType = infoType
        self.fileInfoClass = fileInfoClass
        self.fileId = fileId
        self.buffer = buffer
    }

    public func encodeBody() -> [UInt8] {
        var w = WireWriter(capacity: 32 + buffer.count)
        w.u16(33)                                  // StructureSize
        w.u8(infoType.rawValue)
        w.u8(fileInfoClass)
        w.u32(UInt32(buffer.count))
        w.u16(UInt16(Header.size + 32))            // BufferOffset
        w.u16(0)                                   // Reserved
        w.u32(additionalInformation)
        fileId.encode(into: &w)
        if buffer.isEmpty { w.u8(0) } else { w.bytes(buffer) }
        return w.bytes
    }

    public static func decodeResponse(message m: [UInt8]) throws {
        var r = WireReader(m, position: Header.size)
        let ss = try r.u16()
        guard ss == 2 else { throw ProtocolError.badStructureSize(command: "SET_INFO", got: ss) }
    }
}

/// The information classes SET_INFO uses for files (MS-FSCC 2.4), each with its encoding.
public enum FileSetInformation: Sendable {
    /// FileBasicInformation (2.4.7): a time of 0 leaves it unchanged; attributes 0 leave them unchanged.
    case basic(creation: FileTime?, lastAccess: FileTime?, lastWrite: FileTime?, change: FileTime?, attributes: FileAttributes?)
    /// FileEndOfFileInformation (2.4.13).
    case endOfFile(UInt64)
    /// FileRenameInformation for SMB2 (2.4.37.2): the new name is relative to the share root.
    case rename(newName: String, replaceIfExists: Bool)
    /// FileRenameInformationEx (2.4.37.2, FILE_RENAME_INFORMATION_EX) with
    /// FILE_RENAME_REPLACE_IF_EXISTS | FILE_RENAME_POSIX_SEMANTICS: an existing file is replaced
    /// even while it is open, and its open handles keep working (servers that offer it).
    case renamePOSIX(newName: String)
    /// FileDispositionInformation (2.4.11).
    case disposition(deletePending: Bool)

    /// FILE_RENAME_INFORMATION_EX Flags (MS-FSCC 2.4.37.2).
    static let renameReplaceIfExists: UInt32 = 0x1
    static let renamePOSIXSemantics: UInt32 = 0x2

    /// FILE_RENAME_INFORMATION_TYPE_2 and _EX share one layout: flags (4), reserved (4),
    /// RootDirectory (8, zero in SMB2), FileNameLength (4), FileName.
    private static func encodeRename(into w: inout WireWriter, flags: UInt32, name: String) {
        let n = UTF16LE.encode(name)
        w.u32(flags)
        w.u32(0)
        w.u64(0)
        w.u32(UInt32(n.count))
        w.bytes(n)
    }

    public var fileInfoClass: UInt8 {
        switch self {
        case .basic: return FileInformationClass.fileBasicInformation.rawValue
        case .endOfFile: return 20
        case .rename: return 10
        case .renamePOSIX: return 65                 // FileRenameInformationEx
        case .disposition: return 13
        }
    }

    public func encode() -> [UInt8] {
        var w = WireWriter(capacity: 40)
        switch self {
        case .basic(let c, let a, let m, let ch, let attrs):
            for t in [c, a, m, ch] { w.u64(t?.rawValue ?? 0) }
            w.u32(attrs?.rawValue ?? 0)
            w.u32(0)
        case .endOfFile(let size):
            w.u64(size)
        case .rename(let name, let replace):
            // ReplaceIfExists is one byte and 7 reserved: as little-endian Flags, 0 or 1.
            Self.encodeRename(into: &w, flags: replace ? Self.renameReplaceIfExists : 0, name: name)
        case .renamePOSIX(let name):
            Self.encodeRename(into: &w, flags: Self.renameReplaceIfExists | Self.renamePOSIXSemantics, name: name)
        case .disposition(let delete):
            w.u8(delete ? 1 : 0)
        }
        return w.bytes
    }
}
