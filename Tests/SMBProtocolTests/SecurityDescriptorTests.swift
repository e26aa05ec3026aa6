@testable import SMBProtocol
import XCTest

/// Self-relative security descriptors (MS-DTYP 2.4.6) with their SIDs, ACLs and ACEs: bytes
/// Samba stored, SID strings, and every hostile offset, count and size refused.
final class SecurityDescriptorTests: XCTestCase {
    /// A descriptor Samba 4.17 stored (acl_xattr) after `smbcacls --chown S-1-5-88-1-1234
    /// --chgrp S-1-5-88-2-4321`, laid out self-relative: header, owner, group, DACL.
    static let samba: [UInt8] = hex("""
        010004801400000028000000000000003c000000\
        01030000000000055800000001000000d2040000\
        01030000000000055800000002000000e1100000\
        02006c000400000000001400a900120001010000000000010000000000001400ff011f0001010000000000051200000000001800\
        a90012000102000000000016020000000000000000002400ff011f00010500000000000515000000bfb31164c72493f5ad6465\
        6ee8030000
        """)

    static func hex(_ s: String) -> [UInt8] {
        let digits = Array(s.filter(\.isHexDigit))
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
    }

    func testDecodesWhatSambaStoredAndEncodesItAgain() throws {
        let sd = try SecurityDescriptor.decode(Self.samba)
        XCTAssertEqual(sd.owner?.description, "S-1-5-88-1-1234")
        XCTAssertEqual(sd.group?.description, "S-1-5-88-2-4321")
        XCTAssertEqual(sd.owner?.unixUID, 1234)
        XCTAssertEqual(sd.group?.unixGID, 4321)
        XCTAssertNil(sd.sacl)
        let aces = try XCTUnwrap(sd.dacl?.aces)
        XCTAssertEqual(aces.map { $0.sid?.description }, ["S-1-1-0", "S-1-5-18", "S-1-22-2-0",
                                                          "S-1-5-21-1678881727-4120061127-1852138669-1000"])
        XCTAssertEqual(aces.map(\.mask), [0x1200a9, 0x1f01ff, 0x1200a9, 0x1f01ff])
        XCTAssertEqual(aces.map(\.type), [ACE.accessAllowed, ACE.accessAllowed, ACE.accessAllowed, ACE.accessAllowed])
        XCTAssertEqual(aces[2].sid?.unixGID, 0)
        XCTAssertEqual(sd.encode(), Self.samba)
    }

    func testBuiltDescriptorsRoundTrip() throws {
        let object = ACE(type: 5, flags: ACE.containerInherit, body: .opaque([1, 2, 3, 4, 5, 6, 7, 8]))
        let sd = SecurityDescriptor(owner: .nfsUser(1000), group: .unixGroup(100),
                                    dacl: ACL(revision: 4, aces: [.denied(.everyone, 0x2), .allowed(.nfsMode(0o4755), 0),
                                                                  object, .allowed(.creatorOwner, 0x1f01ff, flags: ACE.inheritOnly | ACE.objectInherit)]))
        let back = try SecurityDescriptor.decode(sd.encode())
        XCTAssertEqual(back.dacl, sd.dacl)
        XCTAssertEqual(back.owner, sd.owner)
        XCTAssertEqual(back.group, sd.group)
        XCTAssertEqual(back.control, SecurityDescriptor.selfRelative | SecurityDescriptor.daclPresent)
        XCTAssertEqual(back.dacl?.aces[1].sid?.nfsMode, 0o4755)
        XCTAssertFalse(back.dacl!.aces[3].appliesToObject)
        // No DACL (all allowed) and an empty one (all denied) stay apart.
        XCTAssertNil(try SecurityDescriptor.decode(SecurityDescriptor(owner: .everyone).encode()).dacl)
        XCTAssertEqual(try SecurityDescriptor.decode(SecurityDescriptor(dacl: ACL(aces: [])).encode()).dacl?.aces, [])
    }

    func testSIDStrings() {
        for s in ["S-1-5-21-1678881727-4120061127-1852138669-1000", "S-1-1-0", "S-1-5-88-3-420", "S-1-0x123456789ABC-7", "S-1-22"] {
            XCTAssertEqual(SID(string: s)?.description, s)
        }
        XCTAssertEqual(SID(string: "S-1-5-88-1-1000"), .nfsUser(1000))
        XCTAssertEqual(SID(string: "S-1-22-1-1000")?.unixUID, 1000)
        XCTAssertNil(SID(string: "S-1-5-21-1")?.unixUID)
        XCTAssertNil(SID(string: "S-1-5-88-2-5")?.unixUID)
        for bad in ["", "S", "S-1", "S-2-5", "S-1-x", "S-1-5-", "S-1-5-4294967296", "S-1-281474976710656",
                    "S-1-5" + String(repeating: "-1", count: 16)] {
            XCTAssertNil(SID(string: bad), bad)
        }
    }

    /// Cut anywhere, the descriptor is refused; it never traps.
    func testEveryTruncationIsRefused() {
        for n in 0..<Self.samba.count {
            XCTAssertThrowsError(try SecurityDescriptor.decode(Array(Self.samba.prefix(n))), "\(n) bytes")
        }
    }

    func testHostileFieldsAreRefused() {
        func patched(_ at: Int, _ bytes: [UInt8]) -> [UInt8] {
            var b = Self.samba
            b.replaceSubrange(at..<(at + bytes.count), with: bytes)
            return b
        }
        let cases: [(String, [UInt8])] = [
            ("descriptor revision 2", patched(0, [2])),
            ("owner inside the header", patched(4, [4, 0, 0, 0])),
            ("owner past the end", patched(4, [0, 1, 0, 0])),
            ("DACL past the end", patched(16, [0xff, 0xff, 0xff, 0x7f])),
            ("SID revision 3", patched(20, [3])),
            ("SID of 16 sub-authorities", patched(21, [16])),
            ("SID running past the end", patched(Self.samba.count - 27, [6])),
            ("ACL revision 9", patched(60, [9])),
            ("ACL larger than the descriptor", patched(62, [0x6d, 0])),
            ("ACL smaller than its header", patched(62, [4, 0])),
            ("more ACEs than the ACL holds", patched(64, [40, 0])),
            ("ACE shorter than its header", patched(70, [2, 0])),
            ("ACE past its ACL", patched(70, [0x70, 0])),
            ("allowed ACE too short for its SID", patched(70, [12, 0])),
            ("SID longer than its ACE", patched(77, [5])),
        ]
        for (what, bytes) in cases {
            XCTAssertThrowsError(try SecurityDescriptor.decode(bytes), what)
        }
        XCTAssertThrowsError(try SecurityDescriptor.decode(Self.samba + [UInt8](repeating: 0, count: SecurityDescriptor.maxSize)))
    }
}
