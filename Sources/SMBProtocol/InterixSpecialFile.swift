/// FIFOs, sockets and device nodes as Services for UNIX (Interix) kept them on any SMB server,
/// and as the Linux kernel client's `sfu` option reads and writes them: a regular file with
/// FILE_ATTRIBUTE_SYSTEM (MS-FSCC 2.6) whose first bytes say what it stands for.
///
///     empty                          a FIFO
///     one zero byte                  a socket
///     "IntxCHR\0" major minor        a character device (major, minor: 64-bit little-endian)
///     "IntxBLK\0" major minor        a block device
///     "LnxFIFO\0" / "LnxSOCK\0"      a FIFO / a socket (the tags older Linux clients wrote)
///
/// A file is taken for one only if it has the system attribute and at most `maxSize` bytes, and
/// its bytes are exactly one of these.
public enum InterixSpecialFile: Equatable, Sendable {
    case fifo
    case socket
    case characterDevice(major: UInt64, minor: UInt64)
    case blockDevice(major: UInt64, minor: UInt64)

    /// The longest such file: an 8-byte tag and two 64-bit numbers.
    public static let maxSize = 24

    static let characterTag: [UInt8] = Array("IntxCHR".utf8) + [0]
    static let blockTag: [UInt8] = Array("IntxBLK".utf8) + [0]
    static let fifoTag: [UInt8] = Array("LnxFIFO".utf8) + [0]
    static let socketTag: [UInt8] = Array("LnxSOCK".utf8) + [0]

    /// Whether a file with these attributes and this size may be one (the caller reads only such).
    public static func isCandidate(attributes: FileAttributes, size: UInt64) -> Bool {
        attributes.contains(.system) && !attributes.contains(.directory) && size <= UInt64(maxSize)
    }

    /// What the bytes of a candidate stand for; nil for any other content (an ordinary file).
    public static func decode(_ b: [UInt8]) -> InterixSpecialFile? {
        switch b.count {
        case 0: return .fifo
        case 1: return b[0] == 0 ? .socket : nil
        case 8:
            if b == fifoTag { return .fifo }
            if b == socketTag { return .socket }
            return nil
        case 24:
            let tag = Array(b[0..<8])
            var r = WireReader(b, position: 8)
            guard let major = try? r.u64(), let minor = try? r.u64() else { return nil }
            if tag == characterTag { return .characterDevice(major: major, minor: minor) }
            if tag == blockTag { return .blockDevice(major: major, minor: minor) }
            if tag == fifoTag, major == 0, minor == 0 { return .fifo }
            if tag == socketTag, major == 0, minor == 0 { return .socket }
            return nil
        default: return nil
        }
    }

    /// The file's bytes: the SFU forms every client reads (an empty FIFO, a one-zero-byte
    /// socket, the 24-byte device records).
    public func encode() -> [UInt8] {
        func device(_ tag: [UInt8], _ major: UInt64, _ minor: UInt64) -> [UInt8] {
            var w = WireWriter()
            w.bytes(tag)
            w.u64(major)
            w.u64(minor)
            return w.bytes
        }
        switch self {
        case .fifo: return []
        case .socket: return [0]
        case .characterDevice(let major, let minor): return device(Self.characterTag, major, minor)
        case .blockDevice(let major, let minor): return device(Self.blockTag, major, minor)
        }
    }
}
