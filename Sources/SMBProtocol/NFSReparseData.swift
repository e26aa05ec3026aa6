/// FIFOs, sockets and device nodes as reparse points (MS-FSCC 2.1.2.6, Network File System
/// (NFS) Reparse Data Buffer, tag IO_REPARSE_TAG_NFS): what Windows' NFS server writes, and
/// what Samba with the SMB3 POSIX extensions stores and lists with the file's type.
///
///     ReparseTag (4) = IO_REPARSE_TAG_NFS, ReparseDataLength (2), Reserved (2)
///     InodeType (8): NFS_SPECFILE_CHR, _BLK, _FIFO, _SOCK (or _LNK, a symlink: not this type's)
///     DataBuffer: for CHR and BLK the major then the minor number (32-bit each); else empty
public enum NFSReparseData {
    static let chr: UInt64 = 0x0000_0000_0052_4843        // "CHR"
    static let blk: UInt64 = 0x0000_0000_004B_4C42        // "BLK"
    static let fifo: UInt64 = 0x0000_0000_4F46_4946       // "FIFO"
    static let sock: UInt64 = 0x0000_0000_4B43_4F53       // "SOCK"

    /// The FSCTL_SET_REPARSE_POINT input for `file`. Device numbers above 32 bits have no place
    /// in the buffer: nil.
    public static func encode(_ file: InterixSpecialFile) -> [UInt8]? {
        var w = WireWriter()
        w.u32(ReparseTag.IO_REPARSE_TAG_NFS)
        switch file {
        case .fifo, .socket:
            w.u16(8)
            w.u16(0)
            w.u64(file == .fifo ? fifo : sock)
        case .characterDevice(let major, let minor), .blockDevice(let major, let minor):
            guard let major = UInt32(exactly: major), let minor = UInt32(exactly: minor) else { return nil }
            w.u16(16)
            w.u16(0)
            if case .characterDevice = file { w.u64(chr) } else { w.u64(blk) }
            w.u32(major)
            w.u32(minor)
        }
        return w.bytes
    }

    /// The special file an NFS reparse point describes; nil for another tag, a symlink or a
    /// buffer too short for its type.
    public static func decode(_ buffer: REPARSE_DATA_BUFFER) -> InterixSpecialFile? {
        guard buffer.reparseTag == ReparseTag.IO_REPARSE_TAG_NFS else { return nil }
        var r = WireReader(buffer.dataBuffer)
        guard let type = try? r.u64() else { return nil }
        switch type {
        case fifo: return .fifo
        case sock: return .socket
        case chr, blk:
            guard let major = try? r.u32(), let minor = try? r.u32() else { return nil }
            return type == chr ? .characterDevice(major: UInt64(major), minor: UInt64(minor))
                : .blockDevice(major: UInt64(major), minor: UInt64(minor))
        default: return nil
        }
    }
}
