import SMBClient
import SMBProtocol
#if canImport(Glibc)
import Glibc
#endif

/// Modes, owners, link counts and file types kept by the server itself, on a share opened with
/// the SMB3 POSIX extensions (Share.posixOpens): read from FilePosixInformation with the other
/// attributes, in listings from the POSIX directory class, written by chmod, chown and chgrp as
/// a security descriptor, and given to new files by the POSIX create context.
extension Filesystem {
    var posixModes: Bool { options.ownership.modeSource == .posix }

    /// Modes and owners per file, from the server (POSIX) or from descriptors (`cifsacl`).
    var modesPerFile: Bool { options.ownership.modeSource != .fixed }

    func identity(_ info: FilePosixInformation) -> UnixIdentity {
        options.ownership.identity(mode: info.mode, owner: info.owner, group: info.group)
    }

    /// What a CREATE on a POSIX share told of the file in its POSIX response context; nil elsewhere.
    func identity(createdBy c: CreateResponse) -> UnixIdentity? {
        PosixCreateResponse.find(in: c.contexts).map { options.ownership.identity(mode: $0.mode, owner: $0.owner, group: $0.group) }
    }

    /// The contexts a CREATE that may make a file carries: on a POSIX share the new file's mode.
    func creationContexts(mode: UInt32) -> [CreateContext] {
        posixModes ? [Share.posixContext(mode: mode)] : []
    }

    /// A directory's entries with, on a POSIX share, each one's modes, owners, type and link
    /// count from the same listing (one QUERY_DIRECTORY class per directory, nothing per entry);
    /// with `cifsacl`, the descriptors asked for after it.
    func listing(_ dir: String) async throws -> (entries: [DirectoryEntry], identities: [String: UnixIdentity], links: [String: UInt32]) {
        guard posixModes else {
            let list = try await share.listDirectory(path: dir)
            return (list, await identities(in: dir, of: list), [:])
        }
        let list = try await share.listDirectoryPosix(path: dir)
        var entries: [DirectoryEntry] = []
        var identities: [String: UnixIdentity] = [:]
        var links: [String: UInt32] = [:]
        entries.reserveCapacity(list.count)
        for e in list {
            entries.append(DirectoryEntry(name: e.name, basics: e.info.basics, fileId: e.info.inode, undecodableName: e.undecodableName))
            identities[e.name] = identity(e.info)
            links[e.name] = e.info.hardLinks
        }
        return (entries, identities, links)
    }

    /// chmod, chown and chgrp on a POSIX share: a descriptor whose DACL is the one ACE
    /// S-1-5-88-3-MODE (the server sets the mode it names), and owner and group as Unix SIDs
    /// (S-1-22-1-UID, S-1-22-2-GID, which the server maps to its ids); one round trip, answered
    /// with what the server kept. An id the file already shows is no change (the mount's uid
    /// stands for the SMB user's own SID, as with `cifsacl`).
    ///
    /// Samba grants WRITE_OWNER on a POSIX open only where the owner's mode has all of rwx (the
    /// full control it maps that to), whatever privilege the user holds: to give away a file
    /// whose owner lacks one of them, the owner's bits are set first (one round trip more), and
    /// the mode goes back on the open that changes the owner, before the owner changes (while
    /// the SMB user may still chmod it).
    ///
    /// A file given away is no longer the SMB user's to write or chmod (the server does all as
    /// that user): with `ignore_chown` owners are never sent, so `rsync -a` and `tar -p` as root
    /// keep modes and contents and leave every file the SMB user's.
    func changePosix(ino: UInt64, path p: String, mode: UInt32?, uid: UInt32?, gid: UInt32?) async throws -> Attributes {
        var shown = freshAttributes(ino) ?? inodes.withLock { $0.attributes(of: ino) }
        let uid = uid == shown?.uid || options.ignoreChown ? nil : uid
        let gid = gid == shown?.gid || options.ignoreChown ? nil : gid
        guard mode != nil || uid != nil || gid != nil else { return try await getattr(ino) }
        func chmod(_ m: UInt32) -> (SecurityDescriptor, SecurityInformation) {
            (SecurityDescriptor(control: SecurityDescriptor.selfRelative | SecurityDescriptor.daclPresent,
                                dacl: ACL(aces: [ACE(type: ACE.accessAllowed, body: .access(mask: 0, sid: .nfsMode(m & 0o7777)))])),
             .dacl)
        }
        var sets: [(SecurityDescriptor, SecurityInformation)] = []
        var mode = mode
        if uid != nil || gid != nil {
            if shown == nil { shown = try await stat(path: p) }
            let current = shown?.permissions ?? 0
            if current & 0o700 != 0o700 {
                _ = try await share.setSecurityAndQueryPosix(path: p, [chmod(current | 0o700)], options: .openReparsePoint)
                mode = mode ?? current
            }
        }
        if let mode { sets.append(chmod(mode)) }
        var owners = SecurityDescriptor(control: SecurityDescriptor.selfRelative)
        var parts: SecurityInformation = []
        if let uid {
            parts.insert(.owner)
            owners.owner = .unixUser(uid)
        }
        if let gid {
            parts.insert(.group)
            owners.group = .unixGroup(gid)
        }
        if !parts.isEmpty { sets.append((owners, parts)) }
        do {
            let (info, posix) = try await share.setSecurityAndQueryPosix(path: p, sets, options: .openReparsePoint)
            return await attributes(of: info, path: p, identity: posix.map(identity))
        } catch let e as SMBError where e.ntStatus == .accessDenied {
            // chmod of another's file, or a file given away without the server's restore
            // privilege (MS-DTYP 2.5.3.4): EPERM, as the kernel answers both.
            throw FSError(EPERM)
        }
    }

    /// mknod(2), mkfifo(3) and a socket's bind(2) on a POSIX share: a new empty file made with
    /// its mode, then FSCTL_SET_REPARSE_POINT of an NFS reparse buffer naming its type
    /// (NFSReparseData), which the server keeps and lists as that type. A server that refuses
    /// the reparse point leaves nothing behind: EPERM.
    func mknodPosix(parent: UInt64, name: String, special: InterixSpecialFile, creation: Creation?) async throws -> Entry {
        guard let buffer = NFSReparseData.encode(special) else { throw FSError(EINVAL) }
        let p = try child(parent, name)
        let stored = try await madeReparsePoint(path: p, buffer,
                                                contexts: creationContexts(mode: creation?.mode ?? options.ownership.fileMode))
        guard stored else { throw FSError(EPERM) }
        return try await lookup(parent: parent, name: name)
    }
}
