import SMBProtocol

/// What stat(2) shows for one inode.
public struct Attributes: Sendable, Equatable {
    public enum Kind: Sendable { case file, directory, symlink, fifo, socket, characterDevice, blockDevice }
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
    /// A device node's numbers.
    public var device: Device? = nil

    public struct Device: Sendable, Equatable {
        public var major: UInt32
        public var minor: UInt32
    }
}

/// Unix permission bits and owners as a file's security descriptor gives them (`cifsacl`), or
/// the server's own with the SMB3 POSIX extensions, which also tell the file's type.
public struct UnixIdentity: Sendable, Equatable {
    public var permissions: UInt32
    public var uid: UInt32
    public var gid: UInt32
    /// The type the server gave, where it gave one (POSIX extensions).
    public var kind: Attributes.Kind? = nil
}

/// Ownership and modes of everything in the mount (`uid=`, `gid=`, `file_mode=`, `dir_mode=`),
/// or, with `cifsacl`, of each file from its security descriptor (SecurityModes.swift).
public struct Ownership: Sendable {
    /// Where modes and owners come from.
    public enum Source: Sendable {
        /// file_mode/dir_mode, uid/gid for every file; the read-only attribute clears write bits.
        case fixed
        /// Each file's owner, group and DACL (`cifsacl`); uid/gid above for SIDs that name no
        /// Unix id, file_mode/dir_mode where a descriptor cannot be read.
        case securityDescriptor
        /// The server's own modes, owners, link counts and file types (SMB3 POSIX extensions,
        /// FilePosixInformation); uid/gid for owner SIDs that name no Unix id.
        case posix
    }
    public var uid: UInt32
    public var gid: UInt32
    public var fileMode: UInt32
    public var dirMode: UInt32
    public var modeSource: Source = .fixed
    /// `idsfromsid`: chown and chgrp write S-1-5-88-1-UID / S-1-5-88-2-GID (Windows' NFS
    /// server and the kernel client's form) instead of Samba's S-1-22-1-UID / S-1-22-2-GID.
    public var idsFromSID = false
    public init(uid: UInt32, gid: UInt32, fileMode: UInt32 = 0o644, dirMode: UInt32 = 0o755) {
        self.uid = uid
        self.gid = gid
        self.fileMode = fileMode
        self.dirMode = dirMode
    }

    /// Where the modes and owners shown come from, for the mount's notice and `status`.
    public var source: String {
        switch modeSource {
        case .fixed:
            return "file_mode=0\(String(fileMode, radix: 8)), dir_mode=0\(String(dirMode, radix: 8)), uid=\(uid), gid=\(gid) "
                + "for every file (the server keeps no modes; the read-only attribute clears a file's write bits)"
        case .securityDescriptor:
            return "each file's security descriptor (cifsacl): the DACL's owner, group and Everyone entries; "
                + "owners from Unix SIDs (\(idsFromSID ? "S-1-5-88, idsfromsid" : "S-1-22")), other SIDs shown as "
                + "uid=\(uid), gid=\(gid); setuid, setgid and sticky are not kept"
        case .posix:
            return "the server's Unix modes, owners and file types (SMB3 POSIX extensions); owners from Unix SIDs "
                + "(S-1-22), the server's own accounts (the SMB user's included) shown as uid=\(uid), gid=\(gid)"
        }
    }

    /// The SIDs chown and chgrp give a file.
    func ownerSID(_ uid: UInt32) -> SID { idsFromSID ? .nfsUser(uid) : .unixUser(uid) }
    func groupSID(_ gid: UInt32) -> SID { idsFromSID ? .nfsGroup(gid) : .unixGroup(gid) }

    /// Modes from DOS attributes (MS-FSCC 2.6): FILE_ATTRIBUTE_READONLY on a file clears the
    /// write bits, as the kernel cifs client does; directories ignore it (Windows uses it as a
    /// "customized folder" marker there). `identity`: the file's own modes and owners, where
    /// its security descriptor gives them.
    /// With POSIX modes the server's mode is the whole answer: the read-only attribute is part of it.
    func attributes(ino: UInt64, basics: FileBasics, nlink: UInt32 = 1, identity: UnixIdentity? = nil) -> Attributes {
        let isDir = basics.fileAttributes.contains(.directory)
        var perms = identity?.permissions ?? (isDir ? dirMode : fileMode)
        if !isDir && modeSource != .posix && basics.fileAttributes.contains(.readonly) { perms &= ~0o222 }
        let kind = identity?.kind ?? (isDir ? .directory : .file)
        return Attributes(ino: ino, kind: kind,
                          size: kind == .file || kind == .symlink ? basics.endOfFile : 0, permissions: perms,
                          nlink: isDir ? 2 : max(1, nlink), uid: identity?.uid ?? uid, gid: identity?.gid ?? gid,
                          atime: basics.lastAccessTime, mtime: basics.lastWriteTime,
                          ctime: basics.changeTime, allocationSize: basics.allocationSize)
    }

    /// What `sd` gives to show: the DACL's mode, and the Unix ids its owner and group SIDs name
    /// (uid/gid for any other SID: the server's own users map to the mount's owner, as the
    /// kernel client does without an id mapper).
    func identity(of sd: SecurityDescriptor) -> UnixIdentity {
        UnixIdentity(permissions: SecurityModes.mode(of: sd), uid: sd.owner?.unixUID ?? uid, gid: sd.group?.unixGID ?? gid)
    }

    /// What a POSIX server gives to show (POSIX-FSCC 2.3.1): the mode with setuid, setgid and
    /// sticky, and the type (a symlink's target is read after, Links.swift). A regular file, or
    /// a type the extensions do not define, shows as the file attributes say (servers before the
    /// type bits send 0 for every file, directories included).
    func identity(mode: PosixMode, owner: SID, group: SID) -> UnixIdentity {
        let kind: Attributes.Kind?
        switch mode.fileType {
        case .directory: kind = .directory
        case .symlink: kind = .symlink
        case .characterDevice: kind = .characterDevice
        case .blockDevice: kind = .blockDevice
        case .fifo: kind = .fifo
        case .socket: kind = .socket
        case .regular, nil: kind = nil
        }
        return UnixIdentity(permissions: mode.permissions, uid: owner.unixUID ?? uid, gid: group.unixGID ?? gid, kind: kind)
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
