import SMBProtocol

/// What stat(2) shows for one inode.
public struct Attributes: Sendable, Equatable {
    public enum Kind: Sendable { case file, directory, symlink }
    public var ino: UInt64
    public var kind: Kind
    public var size: UInt64
    /// Permission bits only; the type comes from `kind`.
    public var permissions: UInt32
    public var nlink: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var atime: FileTime
    public var mtime: FileTime
    public var ctime: FileTime
    public var allocationSize: UInt64
}

/// Ownership and modes of everything in the mount (`uid=`, `gid=`, `file_mode=`, `dir_mode=`).
public struct Ownership: Sendable {
    public var uid: UInt32
    public var gid: UInt32
    public var fileMode: UInt32
    public var dirMode: UInt32
    public init(uid: UInt32, gid: UInt32, fileMode: UInt32 = 0o644, dirMode: UInt32 = 0o755) {
        self.uid = uid
        self.gid = gid
        self.fileMode = fileMode
        self.dirMode = dirMode
    }

    /// Where the modes and owners shown come from, for the mount's notice and `status`.
    public var source: String {
        "file_mode=0\(String(fileMode, radix: 8)), dir_mode=0\(String(dirMode, radix: 8)), uid=\(uid), gid=\(gid) "
            + "for every file (the server keeps no modes; the read-only attribute clears a file's write bits)"
    }

    /// Modes from DOS attributes (MS-FSCC 2.6): FILE_ATTRIBUTE_READONLY on a file clears the
    /// write bits, as the kernel cifs client does; directories ignore it (Windows uses it as a
    /// "customized folder" marker there).
    func attributes(ino: UInt64, basics: FileBasics, nlink: UInt32 = 1) -> Attributes {
        let isDir = basics.fileAttributes.contains(.directory)
        var perms = isDir ? dirMode : fileMode
        if !isDir && basics.fileAttributes.contains(.readonly) { perms &= ~0o222 }
        return Attributes(ino: ino, kind: isDir ? .directory : .file,
                          size: isDir ? 0 : basics.endOfFile, permissions: perms,
                          nlink: isDir ? 2 : max(1, nlink), uid: uid, gid: gid,
                          atime: basics.lastAccessTime, mtime: basics.lastWriteTime,
                          ctime: basics.changeTime, allocationSize: basics.allocationSize)
    }
}

/// statfs(2) values.
public struct FSStats: Sendable {
    public var blockSize: UInt64
    public var blocks: UInt64
    public var blocksFree: UInt64
    public var blocksAvailable: UInt64
    public var nameMax: UInt32 = 255
}
