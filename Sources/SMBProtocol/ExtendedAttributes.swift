/// One extended attribute: FILE_FULL_EA_INFORMATION (MS-FSCC 2.4.15), the buffer of
/// FileFullEaInformation (information class 15) for QUERY_INFO output and SET_INFO input.
///
///     NextEntryOffset (4)   0 for the last entry; entries start on 4-byte boundaries
///     Flags (1)             0 or FILE_NEED_EA (0x80)
///     EaNameLength (1)      name length without its terminating NUL
///     EaValueLength (2)
///     EaName                8-bit ASCII, EaNameLength bytes, then one NUL (not counted)
///     EaValue               EaValueLength bytes
///
/// When several entries are present each MUST start on a 4-byte boundary, padding zeroed, none
/// after the last (MS-FSCC 2.4.15).
///
/// In SET_INFO an entry with an empty value deletes that EA: the server removes an existing EA
/// of that name and adds the entry back only if EaValueLength is not zero (MS-FSA 2.1.5.15.5), so
/// deleting an EA that does not exist is not an error. All EAs of a file together may not exceed
/// 64 KiB - 5 bytes (STATUS_EA_TOO_LARGE, same section). In a QUERY_INFO that names EAs (FILE_GET_EA_INFORMATION input), a name the file
/// does not have comes back with an empty value. A file with no EAs at all answers
/// STATUS_NO_EAS_ON_FILE (0xC0000052) or an empty buffer.
public struct FileFullEaInformation: Sendable, Equatable {
    /// FileFullEaInformation, MS-FSCC 2.4 (the class number for QUERY_INFO / SET_INFO).
    public static let fileInformationClass: UInt8 = 15
    /// Flags: FILE_NEED_EA (MS-FSCC 2.4.15).
    public static let FILE_NEED_EA: UInt8 = 0x80
    /// EaNameLength is one byte (MS-FSCC 2.4.15).
    public static let maxNameLength = 255
    /// EaValueLength is two bytes (MS-FSCC 2.4.15).
    public static let maxValueLength = 65535
    /// The decoder refuses longer lists, and the encoder longer ones than this.
    public static let maxEntries = 1024
    /// NextEntryOffset ... EaValueLength.
    static let fixedSize = 8

    public var flags: UInt8
    /// The EA name; on the wire it is ASCII (Linux `user.foo` is usually sent as `foo`). Servers
    /// compare EA names case-insensitively and Windows stores them in upper case.
    public var name: String
    /// The value; empty in SET_INFO means "delete".
    public var value: [UInt8]

    public init(name: String, value: [UInt8], flags: UInt8 = 0) {
        self.name = name
        self.value = value
        self.flags = flags
    }

    /// Checks a name for the wire: 1...255 bytes of printable ASCII (no NUL, no control characters).
    static func nameBytes(_ name: String) throws -> [UInt8] {
        let b = Array(name.utf8)
        guard !b.isEmpty, b.count <= maxNameLength else { throw EncodingError("EA name must be 1...\(maxNameLength) bytes") }
        guard b.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { throw EncodingError("EA name must be printable ASCII") }
        return b
    }

    /// Encodes a list for SET_INFO FileFullEaInformation, each entry padded to 4 bytes.
    public static func encodeList(_ list: [FileFullEaInformation]) throws -> [UInt8] {
        guard !list.isEmpty, list.count <= maxEntries else { throw EncodingError("EA list must have 1...\(maxEntries) entries") }
        var w = WireWriter()
        for (i, ea) in list.enumerated() {
            let name = try nameBytes(ea.name)
            guard ea.value.count <= maxValueLength else { throw EncodingError("EA value longer than \(maxValueLength) bytes") }
            let start = w.count
            w.u32(0)                                   // NextEntryOffset, patched below
            w.u8(ea.flags)
            w.u8(UInt8(name.count))                    // EaNameLength: NUL not counted
            w.u16(UInt16(ea.value.count))              // EaValueLength
            w.bytes(name)
            w.u8(0)                                    // the name's terminating NUL
            w.bytes(ea.value)
            if i < list.count - 1 {
                w.align(4)
                w.patchU32(at: start, UInt32(w.count - start))
            }
        }
        return w.bytes
    }

    /// Decodes QUERY_INFO FileFullEaInformation output. An empty buffer is an empty list.
    public static func decodeList(_ b: [UInt8]) throws -> [FileFullEaInformation] {
        // Each entry starts after the previous one's end (MS-FSCC 2.4.15).
        try ChainedEntries.decode(b, limit: maxEntries, "EA list") { r, _ in
            let flags = try r.u8()
            let nameLength = Int(try r.u8())
            let valueLength = Int(try r.u16())
            let nameBytes = try r.read(nameLength)
            guard try r.u8() == 0 else { throw ProtocolError.unexpected("EA list: EaName not NUL-terminated") }
            let value = try r.read(valueLength)
            guard !nameBytes.contains(0), let name = String(validating: nameBytes, as: UTF8.self) else {
                throw ProtocolError.invalidString
            }
            return (FileFullEaInformation(name: name, value: value, flags: flags), fixedSize + nameLength + 1 + valueLength)
        }
    }
}

/// FILE_GET_EA_INFORMATION (MS-FSCC 2.4.15.1): the input buffer of a QUERY_INFO for
/// FileFullEaInformation that asks for particular EAs by name.
///
///     NextEntryOffset (4), EaNameLength (1), EaName (ASCII, then one NUL not counted)
public enum FileGetEaInformation {
    /// Encodes the names, each entry padded to 4 bytes.
    public static func encodeList(_ names: [String]) throws -> [UInt8] {
        guard !names.isEmpty, names.count <= FileFullEaInformation.maxEntries else {
            throw EncodingError("EA name list must have 1...\(FileFullEaInformation.maxEntries) entries")
        }
        var w = WireWriter()
        for (i, n) in names.enumerated() {
            let name = try FileFullEaInformation.nameBytes(n)
            let start = w.count
            w.u32(0)                                   // NextEntryOffset, patched below
            w.u8(UInt8(name.count))                    // EaNameLength
            w.bytes(name)
            w.u8(0)                                    // terminating NUL
            if i < names.count - 1 {
                w.align(4)
                w.patchU32(at: start, UInt32(w.count - start))
            }
        }
        return w.bytes
    }

    /// One name: the usual getxattr query.
    public static func encode(_ name: String) throws -> [UInt8] { try encodeList([name]) }
}
