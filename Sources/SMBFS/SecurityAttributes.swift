import SMBClient
import SMBProtocol
#if canImport(Glibc)
import Glibc
#endif

/// Modes and owners kept in each file's security descriptor (`cifsacl`, SecurityModes.swift):
/// read with the attributes, written by chmod, chown and chgrp, and given to new files.
extension Filesystem {
    var modesFromSecurity: Bool { options.ownership.modeSource == .securityDescriptor }

    /// FileAllInformation of `path`, with `cifsacl` its owner, group and DACL in the same round
    /// trip. A descriptor this user may not read (no READ_CONTROL) leaves the modes last shown.
    /// On a POSIX share, FilePosixInformation gives them in the same round trip.
    func queryWithIdentity(path: String) async throws -> (FileAllInformation, UnixIdentity?) {
        if posixModes {
            let (info, posix) = try await share.queryAllInformationAndPosix(path: path, options: .openReparsePoint)
            return (info, posix.map(identity))
        }
        guard modesFromSecurity else {
            return (try await share.queryAllInformation(path: path, options: .openReparsePoint), nil)
        }
        do {
            let (info, sd) = try await share.queryAllInformationAndSecurity(path: path, options: .openReparsePoint)
            return (info, options.ownership.identity(of: sd))
        } catch let e as SMBError where e.ntStatus == .accessDenied {
            logger.debug("security descriptor not readable", metadata: ["path": "\(path)"])
            return (try await share.queryAllInformation(path: path, options: .openReparsePoint), nil)
        }
    }

    /// Requests for descriptors of a listing's entries in flight at once: the server answers
    /// them back to back, so a directory costs one round trip more, not one per entry.
    static let securityQueriesInFlight = 32

    /// With `cifsacl`, the modes and owners of a listing's entries, by name. A directory listing
    /// carries no descriptors (MS-FSCC 2.4), so each is asked for, pipelined; an entry whose
    /// descriptor cannot be read is left out.
    func identities(in dir: String, of list: [DirectoryEntry]) async -> [String: UnixIdentity] {
        guard modesFromSecurity else { return [:] }
        let names = list.filter(Self.showable).map(\.name)
        let ownership = options.ownership
        return await withTaskGroup(of: (String, UnixIdentity?).self) { group in
            var found: [String: UnixIdentity] = [:]
            var next = names.makeIterator()
            func add() -> Bool {
                guard let name = next.next() else { return false }
                let p = Self.join(dir, name)
                group.addTask {
                    (name, (try? await self.share.querySecurity(path: p, options: .openReparsePoint)).map(ownership.identity(of:)))
                }
                return true
            }
            for _ in 0..<Self.securityQueriesInFlight where !add() { break }
            while let (name, identity) = await group.next() {
                if let identity { found[name] = identity }
                _ = add()
            }
            return found
        }
    }

    /// chmod, chown and chgrp with `cifsacl`: the owner and group SIDs for the new ids (the
    /// Unix SID forms, Ownership.ownerSID), and a DACL giving the mode to owner, group and
    /// Everyone in place of their old entries (an unchanged mode moves to a new owner or group,
    /// as chown keeps the mode). Setuid, setgid and sticky have no place in a DACL and are
    /// dropped, as on a filesystem that cannot hold them. One round trip to read the descriptor,
    /// one to write it and read back what the server kept.
    func changeSecurity(ino: UInt64, path p: String, mode: UInt32?, uid: UInt32?, gid: UInt32?) async throws -> Attributes {
        let (info, sd) = try await share.queryAllInformationAndSecurity(path: p, options: .openReparsePoint)
        let directory = info.basics.fileAttributes.contains(.directory)
        // An id the file already shows is no change: the mount's own uid stands for the SMB
        // user's SID, which must not become S-1-22-1-UID (rsync -a and tar -p chown every file
        // to what it shows; giving it away would lose the right to chmod it next).
        let shown = options.ownership.identity(of: sd)
        let uid = uid == shown.uid ? nil : uid
        let gid = gid == shown.gid ? nil : gid
        let owner = uid.map(options.ownership.ownerSID) ?? sd.owner
        let group = gid.map(options.ownership.groupSID) ?? sd.group
        guard let owner, let group else { throw FSError(EPERM) }
        var parts: SecurityInformation = [.dacl]
        if let owner = uid.map(options.ownership.ownerSID), owner != sd.owner { parts.insert(.owner) }
        if let group = gid.map(options.ownership.groupSID), group != sd.group { parts.insert(.group) }
        let newMode = (mode ?? SecurityModes.mode(of: sd)) & 0o777
        let previous = [sd.owner, sd.group].compactMap { $0 }
        let dacl = SecurityModes.dacl(mode: newMode, owner: owner, group: group, directory: directory,
                                      keeping: sd.dacl, replacing: previous)
        let new = SecurityDescriptor(control: SecurityDescriptor.selfRelative | SecurityDescriptor.daclPresent
                                         | (sd.control & SecurityDescriptor.daclProtected),
                                     owner: parts.contains(.owner) ? owner : nil,
                                     group: parts.contains(.group) ? group : nil, dacl: dacl)
        // A file given to another owner is no longer this user's to change (chgrp after chown,
        // root's chmod of another's file): the server applies the user's restore privilege, where
        // it holds one, to a backup-intent open; without one the DACL decides as ever.
        let openOptions: CreateOptions = [.openReparsePoint, .openForBackupIntent]
        do {
            let (after, kept) = try await share.setSecurityAndQuery(path: p, new, parts: parts, options: openOptions)
            return await attributes(of: after, path: p, identity: options.ownership.identity(of: kept))
        } catch let e as SMBError where parts.contains(.owner) || parts.contains(.group) {
            // Giving a file to another owner or group takes a privilege on the server
            // (SeRestorePrivilege, MS-DTYP 2.5.3.4): refused, it is chown's EPERM.
            if e.ntStatus == .accessDenied { throw FSError(EPERM) }
            throw e
        }
    }
}
