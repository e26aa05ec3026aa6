import SMBProtocol

/// Unix modes and owners as a file's security descriptor holds them (MS-DTYP 2.4.6), for
/// servers without POSIX extensions: the mode's three classes are the rights the DACL grants
/// the owner's SID, the group's SID and Everyone (S-1-1-0); uid and gid are the owner and group
/// SIDs when those name Unix ids (S-1-5-88-1-UID / S-1-5-88-2-GID, or Samba's S-1-22-1-UID /
/// S-1-22-2-GID). Samba derives such a DACL from the Unix mode of a file and, on a share with
/// `acl_xattr`, keeps one that is set as it is. Setuid, setgid and sticky have no place in it
/// (Samba ignores a DACL carrying the S-1-5-88-3-MODE entry that would hold them).
enum SecurityModes {
    // Access rights (MS-DTYP 2.4.3; file and directory rights, MS-SMB2 2.2.13.1.1/2).
    static let readData: UInt32 = 0x0000_0001        // FILE_READ_DATA, FILE_LIST_DIRECTORY
    static let writeData: UInt32 = 0x0000_0002       // FILE_WRITE_DATA, FILE_ADD_FILE
    static let execute: UInt32 = 0x0000_0020         // FILE_EXECUTE, FILE_TRAVERSE
    static let deleteChild: UInt32 = 0x0000_0040     // FILE_DELETE_CHILD
    static let genericAll: UInt32 = 0x1000_0000
    static let genericExecute: UInt32 = 0x2000_0000
    static let genericWrite: UInt32 = 0x4000_0000
    static let genericRead: UInt32 = 0x8000_0000

    /// What r, w and x grant: read data, EAs, attributes and the descriptor; write data,
    /// append, EAs and attributes (and, on a directory, remove entries); execute or traverse.
    static let readRights: UInt32 = 0x0012_0089
    static let writeRights: UInt32 = 0x0000_0116
    static let executeRights: UInt32 = 0x0012_0020
    /// The owner may always read and change the descriptor (chmod, chown) and set times, as a
    /// Unix owner can, and open the file for that (SYNCHRONIZE, which every open here asks):
    /// SYNCHRONIZE | WRITE_OWNER | WRITE_DAC | READ_CONTROL | FILE_WRITE_ATTRIBUTES | FILE_READ_ATTRIBUTES.
    static let ownerRights: UInt32 = 0x001E_0180

    /// r, w, x (4, 2, 1) that `mask` grants.
    static func bits(_ mask: UInt32) -> UInt32 {
        var b: UInt32 = 0
        if mask & (readData | genericRead | genericAll) != 0 { b |= 4 }
        if mask & (writeData | genericWrite | genericAll) != 0 { b |= 2 }
        if mask & (execute | genericExecute | genericAll) != 0 { b |= 1 }
        return b
    }

    /// The 0o777 mode the DACL gives owner, group and Everyone: each right of each class is
    /// decided by the first ACE on the object that names the class's SID and that right, as
    /// access checks go through a DACL in order (MS-DTYP 2.5.3.2). No DACL grants everything.
    static func mode(of sd: SecurityDescriptor) -> UInt32 {
        guard let dacl = sd.dacl else { return 0o777 }
        func rights(of sid: SID?) -> UInt32 {
            guard let sid else { return 0 }
            var granted: UInt32 = 0, decided: UInt32 = 0
            for ace in dacl.aces where ace.appliesToObject && ace.sid == sid {
                guard let mask = ace.mask else { continue }
                let b = bits(mask) & ~decided
                if ace.type == ACE.accessAllowed { granted |= b; decided |= b }
                if ace.type == ACE.accessDenied { decided |= b }
            }
            return granted
        }
        return rights(of: sd.owner) << 6 | rights(of: sd.group) << 3 | rights(of: .everyone)
    }

    /// What every class is given whatever its bits, as stat(2) needs no right on the file itself:
    /// READ_CONTROL | SYNCHRONIZE | FILE_READ_ATTRIBUTES. Without it a file
    /// of mode 0600 given to another owner could not even be stat'ed through the mount.
    static let minimumRights: UInt32 = 0x0012_0080

    /// The rights one class's r, w and x stand for.
    static func rights(_ bits: UInt32, directory: Bool) -> UInt32 {
        var m: UInt32 = minimumRights
        if bits & 4 != 0 { m |= readRights }
        if bits & 2 != 0 { m |= writeRights | (directory ? deleteChild : 0) }
        if bits & 1 != 0 { m |= executeRights }
        return m
    }

    /// A DACL giving `mode` to `owner`, `group` and Everyone, first and in that order; the other
    /// entries of `existing` (other users, SYSTEM, entries only inherited by new files) after
    /// them, as they were. Entries on the object for the three SIDs, and for `previous` (the
    /// owner and group before a chown, whose rights move to the new ones), are replaced.
    static func dacl(mode: UInt32, owner: SID, group: SID, directory: Bool, keeping existing: ACL?,
                     replacing previous: [SID] = []) -> ACL {
        let classes: [(SID, UInt32)] = [(owner, mode >> 6 & 7), (group, mode >> 3 & 7), (.everyone, mode & 7)]
        var aces: [ACE] = []
        for (i, (sid, b)) in classes.enumerated() {
            // The same SID twice (owner and group alike): the first class decides.
            if classes[..<i].contains(where: { $0.0 == sid }) { continue }
            let m = rights(b, directory: directory) | (i == 0 ? ownerRights : 0)
            aces.append(.allowed(sid, m))
        }
        let replaced = Set([owner, group, .everyone] + previous)
        let kept = existing?.aces.filter { !($0.appliesToObject && $0.sid.map(replaced.contains) == true) } ?? []
        return ACL(revision: existing?.revision ?? 2, aces: aces + kept)
    }
}
