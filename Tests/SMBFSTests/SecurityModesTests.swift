@testable import SMBFS
import SMBProtocol
import XCTest

/// Modes from and to a DACL (SecurityModes.swift): Samba's own DACLs read as the modes they
/// came from, and every mode written reads back.
final class SecurityModesTests: XCTestCase {
    let owner = SID(string: "S-1-5-21-4002436726-4139318523-3137528329-1000")!
    let group = SID.unixGroup(1)

    func sd(_ aces: [ACE]) -> SecurityDescriptor {
        SecurityDescriptor(owner: owner, group: group, dacl: ACL(aces: aces))
    }

    /// The DACLs Samba 4.17 answers for files of these modes (SecurityTests in SMBClientTests
    /// reads them from a live server).
    func testSambasDACLsReadAsTheirModes() {
        XCTAssertEqual(SecurityModes.mode(of: sd([.allowed(owner, 0x12019f), .allowed(group, 0x120089), .allowed(.everyone, 0)])), 0o640)
        XCTAssertEqual(SecurityModes.mode(of: sd([.allowed(owner, 0x1e01ff), .allowed(group, 0x1200a9), .allowed(.everyone, 0x1200a9)])), 0o755)
        XCTAssertEqual(SecurityModes.mode(of: sd([.allowed(owner, 0x12019f), .allowed(group, 0), .allowed(.everyone, 0x120089)])), 0o604)
        XCTAssertEqual(SecurityModes.mode(of: SecurityDescriptor(owner: owner, group: group, dacl: nil)), 0o777, "no DACL")
        XCTAssertEqual(SecurityModes.mode(of: sd([])), 0, "an empty DACL")
    }

    /// The first entry naming a right decides it; entries only inherited, and other SIDs, do not count.
    func testOrderDeniesAndInheritOnlyEntries() {
        XCTAssertEqual(SecurityModes.mode(of: sd([.denied(owner, 0x2), .allowed(owner, 0x1f01ff)])), 0o500)
        XCTAssertEqual(SecurityModes.mode(of: sd([.allowed(owner, 0x1f01ff), .denied(owner, 0x2)])), 0o700)
        XCTAssertEqual(SecurityModes.mode(of: sd([.allowed(owner, 0x1, flags: ACE.inheritOnly | ACE.objectInherit),
                                                  .allowed(.unixUser(5), 0x1f01ff), .allowed(.everyone, 0x10000000)])), 0o007)
    }

    func testEveryModeRoundTrips() {
        for directory in [false, true] {
            for mode: UInt32 in 0...0o777 {
                let d = SecurityModes.dacl(mode: mode, owner: owner, group: group, directory: directory, keeping: nil)
                XCTAssertEqual(SecurityModes.mode(of: SecurityDescriptor(owner: owner, group: group, dacl: d)), mode,
                               "\(String(mode, radix: 8)) directory \(directory)")
            }
        }
        // Owner and group one SID: the owner's bits decide for both.
        let same = SecurityModes.dacl(mode: 0o640, owner: owner, group: owner, directory: false, keeping: nil)
        XCTAssertEqual(same.aces.count, 2)
        XCTAssertEqual(SecurityModes.mode(of: SecurityDescriptor(owner: owner, group: owner, dacl: same)), 0o660)
    }

    /// A new mode replaces the three classes' entries on the object and keeps the rest, after them.
    func testOtherEntriesAreKept() {
        let system = ACE.allowed(.localSystem, 0x1f01ff)
        let inherit = ACE.allowed(.creatorOwner, 0x1f01ff, flags: ACE.inheritOnly | ACE.objectInherit)
        let ownerInherit = ACE.allowed(owner, 0x1f01ff, flags: ACE.inheritOnly | ACE.containerInherit)
        let old = ACL(revision: 4, aces: [.allowed(owner, 0x1f01ff), system, .allowed(group, 0x120089), inherit,
                                          .allowed(.everyone, 0x120089), ownerInherit])
        let d = SecurityModes.dacl(mode: 0o750, owner: owner, group: group, directory: true, keeping: old)
        XCTAssertEqual(d.revision, 4)
        XCTAssertEqual(d.aces.map(\.sid), [owner, group, .everyone, .localSystem, .creatorOwner, owner])
        XCTAssertEqual(Array(d.aces.suffix(3)), [system, inherit, ownerInherit])
        XCTAssertEqual(d.aces[0].mask, 0x0012_0089 | 0x116 | 0x40 | 0x0012_0020 | 0x001E_0180)
        XCTAssertEqual(d.aces[2].mask, 0x0012_0080)
    }

    /// chown: the old owner's and group's entries give way to the new ones, with the same mode;
    /// the rest stays.
    func testAChownMovesTheModeToTheNewOwnerAndGroup() {
        let system = ACE.allowed(.localSystem, 0x1f01ff)
        let old = SecurityModes.dacl(mode: 0o640, owner: owner, group: group, directory: false,
                                     keeping: ACL(aces: [system]))
        let (newOwner, newGroup) = (SID.unixUser(1234), SID.unixGroup(4321))
        let d = SecurityModes.dacl(mode: 0o640, owner: newOwner, group: newGroup, directory: false, keeping: old,
                                   replacing: [owner, group])
        XCTAssertEqual(d.aces.map(\.sid), [newOwner, newGroup, .everyone, .localSystem])
        XCTAssertEqual(SecurityModes.mode(of: SecurityDescriptor(owner: newOwner, group: newGroup, dacl: d)), 0o640)
        // The old owner keeps nothing of its own: only what Everyone has.
        XCTAssertEqual(SecurityModes.mode(of: SecurityDescriptor(owner: owner, group: group, dacl: d)) >> 6, 0)
    }

    /// Unix ids from the two Unix SID forms; any other SID shows as the mount's uid and gid.
    func testIdentityFromUnixSIDsElseTheMountsOwner() {
        let own = Ownership(uid: 7, gid: 8)
        let dacl = SecurityModes.dacl(mode: 0o751, owner: .unixUser(1234), group: .nfsGroup(55), directory: false, keeping: nil)
        XCTAssertEqual(own.identity(of: SecurityDescriptor(owner: .unixUser(1234), group: .nfsGroup(55), dacl: dacl)),
                       UnixIdentity(permissions: 0o751, uid: 1234, gid: 55))
        let theirs = SecurityModes.dacl(mode: 0o604, owner: owner, group: .everyone, directory: false, keeping: nil)
        XCTAssertEqual(own.identity(of: SecurityDescriptor(owner: owner, group: .everyone, dacl: theirs)),
                       UnixIdentity(permissions: 0o600, uid: 7, gid: 8))
        XCTAssertEqual(own.identity(of: SecurityDescriptor(owner: .nfsUser(3), group: .unixGroup(4), dacl: nil)),
                       UnixIdentity(permissions: 0o777, uid: 3, gid: 4))
        // chown writes the Samba form unless idsfromsid.
        var nfs = own
        XCTAssertEqual(own.ownerSID(5), SID(string: "S-1-22-1-5"))
        nfs.idsFromSID = true
        XCTAssertEqual(nfs.ownerSID(5), SID(string: "S-1-5-88-1-5"))
        XCTAssertEqual(nfs.groupSID(6), SID(string: "S-1-5-88-2-6"))
    }
}
