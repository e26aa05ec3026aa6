import SMBClient
import SMBProtocol
#if canImport(Glibc)
import Glibc
#endif

/// What setattr(2)-family calls ask to change; nil fields stay as they are.
public struct AttributeChanges: Sendable {
    public var mode: UInt32?
    public var uid: UInt32?
    public var gid: UInt32?
    public var size: UInt64?
    public var atime: FileTime?
    public var mtime: FileTime?
    public init() {}
}

/// The process that makes a file: its uid and gid (FUSE's request context), and the mode it
/// asked for with the umask applied.
public struct Creation: Sendable {
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public init(mode: UInt32, uid: UInt32, gid: UInt32) {
        self.mode = mode
        self.uid = uid
        self.gid = gid
    }
}

/// How an open(2) maps to CREATE (MS-SMB2 2.2.13).
public struct OpenFlags: Sendable {
    public var read: Bool
    public var write: Bool
    public var truncate: Bool
    public var exclusive: Bool

    public init(posix flags: Int32) {
        let mode = flags & O_ACCMODE
        read = mode == O_RDONLY || mode == O_RDWR
        write = mode == O_WRONLY || mode == O_RDWR
        truncate = flags & O_TRUNC != 0
        exclusive = flags & O_EXCL != 0
    }

    /// DesiredAccess: reads need FILE_READ_DATA, writes FILE_WRITE_DATA and FILE_APPEND_DATA
    /// (O_APPEND offsets come from the kernel, which knows the size).
    var access: AccessMask {
        var a: AccessMask = [.readAttributes, .synchronize]
        if read || !write { a.insert(.readData) }
        if write { a.formUnion([.writeData, .appendData, .writeAttributes]) }
        return a
    }

    /// CreateDisposition for open(2) with O_CREAT: O_EXCL → FILE_CREATE, O_TRUNC → FILE_OVERWRITE_IF,
    /// otherwise FILE_OPEN_IF.
    var createDisposition: CreateDisposition {
        exclusive ? .create : truncate ? .overwriteIf : .openIf
    }

    /// Without O_CREAT: O_TRUNC → FILE_OVERWRITE (the file must exist), otherwise FILE_OPEN.
    var openDisposition: CreateDisposition { truncate ? .overwrite : .open }
}

extension Filesystem {
    /// The current time as a FILETIME, for utimensat's UTIME_NOW.
    public static func now() -> FileTime {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return FileTime(unixSeconds: Int64(ts.tv_sec), nanoseconds: Int64(ts.tv_nsec))
    }
}
