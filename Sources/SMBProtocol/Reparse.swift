/// Reparse tags (MS-FSCC 2.1.2.1) this client recognises.
public enum ReparseTag {
    public static let IO_REPARSE_TAG_SYMLINK: UInt32 = 0xA000_000C
    public static let IO_REPARSE_TAG_MOUNT_POINT: UInt32 = 0xA000_0003
    public static let IO_REPARSE_TAG_NFS: UInt32 = 0x8000_0014
}

/// REPARSE_DATA_BUFFER (MS-FSCC 2.1.2.2): ReparseTag, ReparseDataLength, Reserved, then
/// ReparseDataLength bytes of tag-specific data. Use this to see which kind of reparse point
/// FSCTL_GET_REPARSE_POINT returned before decoding it.
public struct REPARSE_DATA_BUFFER: Sendable, Equatable {
    /// MAXIMUM_REPARSE_DATA_BUFFER_SIZE (16 KiB, the largest reparse buffer a Windows file
    /// system stores); also the largest this client asks FSCTL_GET_REPARSE_POINT to return.
    public static let maximumSize = 16 * 1024
    static let headerSize = 8

    public var reparseTag: UInt32
    public var dataBuffer: [UInt8]

    public init(reparseTag: UInt32, dataBuffer: [UInt8]) {
        self.reparseTag = reparseTag
        self.dataBuffer = dataBuffer
    }

    /// Decodes the header and takes exactly ReparseDataLength bytes of data; bytes after them
    /// are ignored (some servers pad the output).
    public static func decode(_ b: [UInt8]) throws -> REPARSE_DATA_BUFFER {
        var r = WireReader(b)
        let tag = try r.u32()
        let length = Int(try r.u16())
        try r.skip(2)                              // Reserved
        return REPARSE_DATA_BUFFER(reparseTag: tag, dataBuffer: try r.read(length))
    }
}

/// Symbolic Link Reparse Data Buffer (MS-FSCC 2.1.2.4), the input of FSCTL_SET_REPARSE_POINT
/// and output of FSCTL_GET_REPARSE_POINT for a symlink:
///
///     ReparseTag (4) = IO_REPARSE_TAG_SYMLINK
///     ReparseDataLength (2)   — see below
///     Reserved (2)
///     SubstituteNameOffset (2), SubstituteNameLength (2)   ┐ the 12-byte symlink header:
///     PrintNameOffset (2), PrintNameLength (2)             │ counted in ReparseDataLength
///     Flags (4)                                            ┘
///     PathBuffer (variable), UTF-16LE, names not NUL-terminated
///
/// ReparseDataLength is the size of everything after the 8-byte common header, that is the
/// 12 bytes of SubstituteNameOffset...Flags *plus* the PathBuffer (MS-FSCC 2.1.2.2: "the size of
/// the reparse data in the DataBuffer member"; for a symlink the DataBuffer starts at
/// SubstituteNameOffset). A buffer whose ReparseDataLength counts only the PathBuffer is
/// malformed: newer Samba rejects it with STATUS_IO_REPARSE_DATA_INVALID, and this decoder
/// rejects it too. Name offsets are relative to the start of PathBuffer.
public struct SymbolicLinkReparseDataBuffer: Sendable, Equatable {
    /// SYMLINK_FLAG_RELATIVE (MS-FSCC 2.1.2.4 Flags): the substitute name is relative to the
    /// directory holding the link. 0 means absolute.
    public static let SYMLINK_FLAG_RELATIVE: UInt32 = 0x0000_0001
    /// SubstituteNameOffset ... Flags.
    public static let symlinkHeaderSize = 12

    public var substituteName: String
    public var printName: String
    public var flags: UInt32

    public var isRelative: Bool { flags & Self.SYMLINK_FLAG_RELATIVE != 0 }

    public init(substituteName: String, printName: String, flags: UInt32) {
        self.substituteName = substituteName
        self.printName = printName
        self.flags = flags
    }

    /// A link to `target` as a Unix client writes it: the substitute and print names are the
    /// same path (the caller converts `/` to `\`), with SYMLINK_FLAG_RELATIVE when `relative`.
    public init(target: String, relative: Bool) {
        self.init(substituteName: target, printName: target, flags: relative ? Self.SYMLINK_FLAG_RELATIVE : 0)
    }

    public func encode() throws -> [UInt8] {
        let sub = UTF16LE.encode(substituteName)
        let print = UTF16LE.encode(printName)
        let pathBufferLength = sub.count + print.count
        let reparseDataLength = Self.symlinkHeaderSize + pathBufferLength   // header included: see above
        guard REPARSE_DATA_BUFFER.headerSize + reparseDataLength <= REPARSE_DATA_BUFFER.maximumSize else {
            throw EncodingError("symlink reparse buffer larger than \(REPARSE_DATA_BUFFER.maximumSize) bytes")
        }
        var w = WireWriter(capacity: REPARSE_DATA_BUFFER.headerSize + reparseDataLength)
        w.u32(ReparseTag.IO_REPARSE_TAG_SYMLINK)
        w.u16(UInt16(reparseDataLength))           // ReparseDataLength: 12 + PathBuffer
        w.u16(0)                                   // Reserved
        w.u16(0)                                   // SubstituteNameOffset: substitute name first
        w.u16(UInt16(sub.count))                   // SubstituteNameLength
        w.u16(UInt16(sub.count))                   // PrintNameOffset: right after it
        w.u16(UInt16(print.count))                 // PrintNameLength
        w.u32(flags)
        w.bytes(sub)
        w.bytes(print)
        return w.bytes
    }

    public static func decode(_ b: [UInt8]) throws -> SymbolicLinkReparseDataBuffer {
        let outer = try REPARSE_DATA_BUFFER.decode(b)
        guard outer.reparseTag == ReparseTag.IO_REPARSE_TAG_SYMLINK else {
            throw ProtocolError.unexpected("reparse tag 0x\(String(outer.reparseTag, radix: 16)) is not IO_REPARSE_TAG_SYMLINK")
        }
        var r = WireReader(outer.dataBuffer)
        guard outer.dataBuffer.count >= symlinkHeaderSize else {
            throw ProtocolError.unexpected("symlink reparse buffer: ReparseDataLength \(outer.dataBuffer.count) leaves out the 12-byte header")
        }
        let subOffset = Int(try r.u16())
        let subLength = Int(try r.u16())
        let printOffset = Int(try r.u16())
        let printLength = Int(try r.u16())
        let flags = try r.u32()
        let pathBuffer = try r.read(r.remaining)
        let names = try SymlinkNames.decode(pathBuffer: pathBuffer, substitute: (subOffset, subLength), print: (printOffset, printLength))
        return SymbolicLinkReparseDataBuffer(substituteName: names.substitute, printName: names.print, flags: flags)
    }
}

/// Names inside a PathBuffer, shared by the reparse buffer and the symlink error response.
enum SymlinkNames {
    static func decode(pathBuffer p: [UInt8], substitute: (Int, Int), print: (Int, Int)) throws -> (substitute: String, print: String) {
        let r = WireReader(p)
        let sub = try r.slice(offset: substitute.0, length: substitute.1)
        let pr = try r.slice(offset: print.0, length: print.1)
        return (try UTF16LE.decode(sub), try UTF16LE.decode(pr))
    }
}

/// SMB2 ERROR Context (MS-SMB2 2.2.2.1): in dialect 3.1.1, when ErrorContextCount is not 0,
/// ErrorData is a list of these, each starting on an 8-byte boundary (relative to the start of
/// the ERROR response body, which is 8-aligned, so relative to ErrorData too).
public struct SMB2ErrorContext: Sendable, Equatable {
    public static let SMB2_ERROR_ID_DEFAULT: UInt32 = 0x0000_0000
    public static let SMB2_ERROR_ID_SHARE_REDIRECT: UInt32 = 0x7264_5253

    public var errorId: UInt32
    public var errorContextData: [UInt8]

    public init(errorId: UInt32, errorContextData: [UInt8]) {
        self.errorId = errorId
        self.errorContextData = errorContextData
    }

    /// Decodes exactly `count` contexts (ErrorContextCount is one byte, so at most 255).
    public static func decodeList(_ errorData: [UInt8], count: Int) throws -> [SMB2ErrorContext] {
        guard count >= 0, count <= 255 else { throw ProtocolError.unexpected("ERROR: ErrorContextCount \(count)") }
        var out: [SMB2ErrorContext] = []
        var pos = 0
        for i in 0..<count {
            var r = WireReader(errorData)
            try r.seek(to: pos)
            let length = Int(try r.u32())             // ErrorDataLength
            let id = try r.u32()
            let data = try r.read(length)
            out.append(SMB2ErrorContext(errorId: id, errorContextData: data))
            if i < count - 1 {
                pos = r.position
                pos += (8 - pos % 8) % 8              // the next context is 8-byte aligned
            }
        }
        return out
    }
}

/// Symbolic Link Error Response (MS-SMB2 2.2.2.2.1): the ErrorData of a CREATE that failed with
/// STATUS_STOPPED_ON_SYMLINK.
///
///     SymLinkLength (4)      bytes after this field, PathBuffer included
///     SymLinkErrorTag (4)    0x4C4D5953 ("SYML")
///     ReparseTag (4)         IO_REPARSE_TAG_SYMLINK
///     ReparseDataLength (2)  12 + PathBuffer, as in MS-FSCC 2.1.2.4
///     UnparsedPathLength (2) bytes (UTF-16) of the opened path that lie after the link
///     SubstituteNameOffset/Length, PrintNameOffset/Length (2 each), Flags (4)
///     PathBuffer             names at offsets relative to its start
///
/// To follow the link: the opened path minus its last `unparsedPathLength` bytes (in UTF-16) is
/// the link; replace it by `substituteName` (resolved against the link's directory when
/// `isRelative`), then append the unparsed rest.
public struct SymbolicLinkErrorResponse: Sendable, Equatable {
    public static let SymLinkErrorTag: UInt32 = 0x4C4D_5953
    /// SymLinkErrorTag ... Flags: the fixed part counted by SymLinkLength.
    static let fixedAfterLength = 24

    public var reparseTag: UInt32
    public var reparseDataLength: UInt16
    public var unparsedPathLength: UInt16
    public var substituteName: String
    public var printName: String
    public var flags: UInt32

    public var isRelative: Bool { flags & SymbolicLinkReparseDataBuffer.SYMLINK_FLAG_RELATIVE != 0 }

    /// Decodes the bare structure (starting at SymLinkLength). Bytes after SymLinkLength's end are
    /// ignored; names must lie inside the PathBuffer that SymLinkLength bounds.
    public static func decode(_ b: [UInt8]) throws -> SymbolicLinkErrorResponse {
        var r = WireReader(b)
        let symLinkLength = Int(try r.u32())
        guard symLinkLength >= fixedAfterLength, symLinkLength <= r.remaining else {
            throw ProtocolError.badOffset(symLinkLength)
        }
        guard try r.u32() == SymLinkErrorTag else { throw ProtocolError.unexpected("symlink error response: bad SymLinkErrorTag") }
        let tag = try r.u32()
        guard tag == ReparseTag.IO_REPARSE_TAG_SYMLINK else {
            throw ProtocolError.unexpected("symlink error response: ReparseTag 0x\(String(tag, radix: 16))")
        }
        let reparseDataLength = try r.u16()
        let unparsed = try r.u16()
        let subOffset = Int(try r.u16())
        let subLength = Int(try r.u16())
        let printOffset = Int(try r.u16())
        let printLength = Int(try r.u16())
        let flags = try r.u32()
        let pathBuffer = try r.read(symLinkLength - fixedAfterLength)
        let names = try SymlinkNames.decode(pathBuffer: pathBuffer, substitute: (subOffset, subLength), print: (printOffset, printLength))
        return SymbolicLinkErrorResponse(reparseTag: tag, reparseDataLength: reparseDataLength, unparsedPathLength: unparsed,
                                         substituteName: names.substitute, printName: names.print, flags: flags)
    }

    /// Decodes from an ERROR response's ErrorData. With `errorContextCount` 0 (dialects before
    /// 3.1.1, and 3.1.1 servers that send no contexts) ErrorData is the structure itself; otherwise
    /// it is a list of SMB2 ERROR Contexts and the structure is the data of the one with
    /// ErrorId SMB2_ERROR_ID_DEFAULT (MS-SMB2 2.2.2.1, 2.2.2.2).
    public static func decode(errorData: [UInt8], errorContextCount: Int) throws -> SymbolicLinkErrorResponse {
        if errorContextCount == 0 { return try decode(errorData) }
        let contexts = try SMB2ErrorContext.decodeList(errorData, count: errorContextCount)
        guard let c = contexts.first(where: { $0.errorId == SMB2ErrorContext.SMB2_ERROR_ID_DEFAULT }) else {
            throw ProtocolError.unexpected("STATUS_STOPPED_ON_SYMLINK without a default error context")
        }
        return try decode(c.errorContextData)
    }

    /// Decodes from a whole ERROR response message (MS-SMB2 2.2.2: StructureSize 9,
    /// ErrorContextCount, Reserved, ByteCount, ErrorData), reading ErrorContextCount itself.
    public static func decode(message m: [UInt8], at offset: Int = Header.size) throws -> SymbolicLinkErrorResponse {
        var r = WireReader(m, position: offset)
        let ss = try r.u16()
        guard ss == 9 else { throw ProtocolError.badStructureSize(command: "ERROR", got: ss) }
        let contextCount = Int(try r.u8())
        try r.skip(1)
        let byteCount = Int(try r.u32())
        return try decode(errorData: try r.read(byteCount), errorContextCount: contextCount)
    }
}
