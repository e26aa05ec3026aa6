// Issue 16: reaching a share where it lives. Port 139 (the NetBIOS session service), IPv6
// literals, a name with several addresses, and a mount path through a DFS link.
import Foundation
import XCTest

extension MountTestCase {
    /// The "share" part of `smb3fs status --json` for the setUp mount point.
    func shareStatus(file: StaticString = #filePath, line: UInt = #line) -> [String: Any] {
        status(file: file, line: line)?["share"] as? [String: Any] ?? [:]
    }
}

/// A Samba of the test's own that listens on port 139 only (`smb ports = 139`).
final class NetBIOSTests: OwnServerTestCase {
    override func serverEnv() -> [String: String] {
        var e = super.serverEnv()
        e["SMB_PORT"] = "139"
        return e
    }

    /// `port=139` mounts over the session service; files go both ways, and `status` names
    /// the port in use.
    func testPort139MountsReadsAndWrites() throws {
        XCTAssertEqual(sh(#"printf 'over netbios\n' > "$1/f" && chown "$2" "$1/f""#, sharePath, env.user).status, 0)
        guard mountOwn(["port=139"]) else { return }
        XCTAssertEqual(sh(#"cat "$1/f""#, mnt).stdout, "over netbios\n")
        // More than one 64 KiB message each way (a session message is at most 0x1FFFF bytes).
        XCTAssertEqual(sh(#"head -c 3M /dev/urandom > "$1/src" && cp "$1/src" "$2/big" && cmp "$1/src" "$2/big""#,
                          work, mnt, timeout: 120).status, 0)
        assertSameContent(work + "/src", sharePath + "/big", "the server's copy differs")
        XCTAssertEqual(shareStatus()["port"] as? Int, 139)
    }

    /// Nothing answers on 445: without `netbios_fallback` the mount fails with one line
    /// naming the port; with it, the mount goes to 139. A port named is never changed.
    func testFallbackOnlyWhenAsked() throws {
        let plain = mount(source: "//\(ip!)/rw", options: ["credentials=\(credentials!)"])
        XCTAssertNotEqual(plain.status, 0)
        XCTAssertEqual(plain.stderrLines.count, 1, plain.summary)
        XCTAssertTrue(plain.stderr.contains("port 445") && plain.stderr.contains("refused"), plain.stderr)

        let named = mount(source: "//\(ip!)/rw", options: ["credentials=\(credentials!)", "port=445", "netbios_fallback"])
        XCTAssertNotEqual(named.status, 0, "port=445 was named, yet the mount went elsewhere")

        guard mountOwn(["netbios_fallback"]) else { return }
        XCTAssertEqual(shareStatus()["port"] as? Int, 139)
        XCTAssertEqual(sh(#"echo fallback > "$1/g" && cat "$2/g""#, mnt, sharePath).stdout, "fallback\n")
    }

    /// servern= and netbiosname= are checked (a NetBIOS name is 1 to 15 printable characters)
    /// and sent: Samba names its log for a client by the calling name of its SESSION REQUEST.
    func testNetBIOSNames() throws {
        for (key, v) in [("servern", "A-NAME-LONGER-THAN-15"), ("netbiosname", "two words")] {
            let r = mount(source: "//\(ip!)/rw", options: ["credentials=\(credentials!)", "port=139", "\(key)=\(v)"])
            assertCleanFailure(r, "\(key)=\(v)")
            XCTAssertEqual(r.stderrLines, ["smb3fs: bad \(key) \"\(v)\": expected a NetBIOS name of 1 to 15 printable characters"])
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: smbDir + "/log/log.client1"))
        XCTAssertTrue(mountOwn(["port=139", "servern=SMBTEST", "netbiosname=client1"]))
        XCTAssertEqual(sh(#"ls "$1""#, mnt).status, 0)
        XCTAssertTrue(FileManager.default.fileExists(atPath: smbDir + "/log/log.client1"),
                      "the server did not get the calling name: \((try? FileManager.default.contentsOfDirectory(atPath: smbDir + "/log")) ?? [])")
    }
}

/// A Samba of the test's own on the IPv6 loopback address.
final class IPv6Tests: OwnServerTestCase {
    override func prepareNetwork() throws -> String { "::1" }

    func testIPv6LiteralMounts() throws {
        XCTAssertEqual(sh(#"printf 'six\n' > "$1/v6" && chown "$2" "$1/v6""#, sharePath, env.user).status, 0)
        guard mountOK(source: "//[::1]/rw", options: ["credentials=\(credentials!)"]) else { return }
        XCTAssertEqual(sh(#"cat "$1/v6""#, mnt).stdout, "six\n")
        let channels = shareStatus()["channels"] as? [[String: Any]]
        XCTAssertEqual(channels?.first?["address"] as? String, "::1")
    }
}

/// A host name with several addresses, the first of them dead (SMB3FS_HOSTS gives the name
/// its addresses, as a resolver with two A records would).
final class AddressTests: OwnServerTestCase {
    func testADeadAddressIsPassedOver() throws {
        let dead = "127.0.0.97"
        extraEnvironment["SMB3FS_HOSTS"] = "nas.test=\(dead),\(ip!)"
        XCTAssertEqual(sh(#"printf 'found\n' > "$1/h" && chown "$2" "$1/h""#, sharePath, env.user).status, 0)
        guard mountOK(source: "//nas.test/rw", options: ["credentials=\(credentials!)"]) else { return }
        XCTAssertEqual(sh(#"cat "$1/h""#, mnt).stdout, "found\n")
        let s = shareStatus()
        XCTAssertEqual((s["channels"] as? [[String: Any]])?.first?["address"] as? String, ip)
        XCTAssertEqual(s["server"] as? String, "nas.test")
        // ip= pins one address: the dead one is all there is then.
        let pinned = mount(source: "//nas.test/rw", at: makeDir("pinned"), options: ["credentials=\(credentials!)", "ip=\(dead)"])
        XCTAssertNotEqual(pinned.status, 0)
        XCTAssertTrue(pinned.stderr.contains(dead), pinned.stderr)
    }
}

/// The main server's `dfs` share is a DFS root (Scripts/samba-server); its links, made here,
/// point at this test's own Samba.
final class DFSMountTests: OwnServerTestCase {
    var dfsDir: String { (env.sharePath as NSString).deletingLastPathComponent + "/dfs" }
    var links: [String] = []

    /// A link in the namespace: a symlink "msdfs:SERVER\SHARE,..." (Samba's form).
    func makeLink(_ targets: [String]) -> String {
        let name = "link-\(UUID().uuidString.prefix(8))"
        XCTAssertEqual(sh(#"ln -s "$2" "$1""#, dfsDir + "/" + name, "msdfs:" + targets.joined(separator: ",")).status, 0)
        links.append(name)
        return name
    }

    override func tearDownWithError() throws {
        for l in links { unlink(dfsDir + "/" + l) }
        try super.tearDownWithError()
    }

    /// A mount path through a link lands on the link's target: reads and writes reach the
    /// target server's disk, and `status` names the target.
    func testMountThroughALink() throws {
        XCTAssertEqual(sh(#"mkdir -p "$1/sub" && printf 'behind the link\n' > "$1/sub/f" && chown -R "$2" "$1/sub""#,
                          sharePath, env.user).status, 0)
        let link = makeLink(["\(ip!)\\rw"])
        guard mountOK(source: "//\(env.host)/dfs/\(link)/sub", options: ["credentials=\(credentials!)"]) else { return }
        XCTAssertEqual(sh(#"cat "$1/f""#, mnt).stdout, "behind the link\n")
        XCTAssertEqual(sh(#"echo written > "$1/new""#, mnt).status, 0)
        XCTAssertEqual(try String(contentsOfFile: sharePath + "/sub/new", encoding: .utf8), "written\n")
        XCTAssertEqual(shareStatus()["server"] as? String, ip)
        XCTAssertEqual(shareStatus()["share"] as? String, "rw")
    }

    /// A link with two targets, the first down: the second serves the mount.
    func testFirstTargetDownSecondServes() throws {
        XCTAssertEqual(sh(#"printf 'second\n' > "$1/t" && chown "$2" "$1/t""#, sharePath, env.user).status, 0)
        let link = makeLink(["127.0.0.97\\rw", "\(ip!)\\rw"])
        guard mountOK(source: "//\(env.host)/dfs/\(link)", options: ["credentials=\(credentials!)"]) else { return }
        XCTAssertEqual(sh(#"cat "$1/t""#, mnt).stdout, "second\n")
    }

    /// The namespace itself mounted: its links are directories, and a path through one is
    /// served by the link's target (one referral per link, then its own connection): ls,
    /// reads, writes, a rename inside the link, and one across it (EXDEV).
    func testLinksInsideAMountedNamespace() throws {
        XCTAssertEqual(sh(#"mkdir -p "$1/in" && printf 'inside\n' > "$1/in/f" && chown -R "$2" "$1/in""#,
                          sharePath, env.user).status, 0)
        let link = makeLink(["\(ip!)\\rw"])
        let twice = makeLink(["127.0.0.97\\rw", "\(ip!)\\rw"])
        guard mountOK(source: "//\(env.host)/dfs", options: ["credentials=\(credentials!)"]) else { return }
        let names = sh(#"ls "$1""#, mnt).stdout.split(separator: "\n").map(String.init)
        XCTAssertTrue(names.contains(link) && names.contains(twice), "\(names)")
        XCTAssertEqual(stats("%F", [mnt + "/" + link]), ["directory"])
        XCTAssertEqual(sh(#"ls "$1/in""#, mnt + "/" + link).stdout, "f\n")
        XCTAssertEqual(sh(#"cat "$1/in/f""#, mnt + "/" + link).stdout, "inside\n")
        XCTAssertEqual(sh(#"cat "$1/in/f""#, mnt + "/" + twice).stdout, "inside\n", "the second target did not serve")
        XCTAssertEqual(sh(#"echo new > "$1/in/g" && mv "$1/in/g" "$1/in/h""#, mnt + "/" + link).status, 0)
        XCTAssertEqual(try String(contentsOfFile: sharePath + "/in/h", encoding: .utf8), "new\n")
        let across = python(#"""
            import errno, os, sys
            try:
                os.rename(sys.argv[1], sys.argv[2])
            except OSError as e:
                print(errno.errorcode[e.errno])
            """#, mnt + "/" + link + "/in/h", mnt + "/h")
        XCTAssertEqual(across.stdout, "EXDEV\n", across.summary)
        XCTAssertTrue(FileManager.default.fileExists(atPath: sharePath + "/in/h"))
        // cp across the link (copy_file_range): the bytes go through this machine, as no
        // server can copy from another's file.
        let copy = "copy-\(link)"
        links.append(copy)
        XCTAssertEqual(sh(#"cp "$1/in/f" "$2" && cat "$2""#, mnt + "/" + link, mnt + "/" + copy, timeout: 60).stdout, "inside\n")
        XCTAssertEqual(try String(contentsOfFile: dfsDir + "/" + copy, encoding: .utf8), "inside\n")
        // status names each link followed, its target and the address serving it.
        let links = shareStatus()["dfsLinks"] as? [[String: Any]] ?? []
        XCTAssertEqual(Set(links.compactMap { $0["path"] as? String }), [link.lowercased(), twice.lowercased()], "\(links)")
        XCTAssertEqual(Set(links.compactMap { $0["address"] as? String }), [ip], "\(links)")
        XCTAssertTrue(links.allSatisfy { $0["state"] as? String == "connected" }, "\(links)")
    }

    /// A referral is kept for its time to live (capped at 2 s here: Samba gives 600): once it
    /// has run out, the next path through the link asks again, and a link pointed elsewhere
    /// on the server meanwhile leads there.
    func testAReferralIsAskedAgainOnceItsTimeIsUp() throws {
        XCTAssertEqual(sh(#"printf 'rw share\n' > "$1/which" && chown "$2" "$1/which""#, sharePath, env.user).status, 0)
        XCTAssertEqual(sh(#"printf 'durable share\n' > "$1/which" && chown "$2" "$1/which""#,
                          smbDir + "/shares/durable", env.user).status, 0)
        let link = makeLink(["\(ip!)\\rw"])
        extraEnvironment["SMB3FS_DFS_TTL_MAX"] = "2"
        guard mountOK(source: "//\(env.host)/dfs", options: ["credentials=\(credentials!)", "actimeo=0"]) else { return }
        XCTAssertEqual(sh(#"cat "$1/which""#, mnt + "/" + link).stdout, "rw share\n")
        XCTAssertEqual(sh(#"ln -sfn "$2" "$1""#, dfsDir + "/" + link, "msdfs:\(ip!)\\durable").status, 0)
        XCTAssertEqual(sh(#"cat "$1/which""#, mnt + "/" + link).stdout, "rw share\n", "asked again before the time was up")
        XCTAssertTrue(waitUntil(10) { sh(#"cat "$1/which""#, self.mnt + "/" + link).stdout == "durable share\n" },
                      "the link still leads to its old target")
        let links = shareStatus()["dfsLinks"] as? [[String: Any]] ?? []
        XCTAssertEqual(links.first?["target"] as? String, "\\\(ip!)\\durable", "\(links)")
    }

    /// The process serving the link's target connection killed with a file open for reading:
    /// the mount reconnects to the target by itself and the reader gets every byte.
    func testTargetConnectionKilledIsReconnected() throws {
        XCTAssertEqual(sh(#"head -c 16M /dev/urandom > "$1/big" && chown "$2" "$1/big""#, sharePath, env.user,
                          timeout: 60).status, 0)
        let link = makeLink(["\(ip!)\\rw"])
        guard mountOK(source: "//\(env.host)/dfs", options: ["credentials=\(credentials!)"]) else { return }
        let script = #"""
            exec 3< "$1/big" && head -c 1M <&3 > "$2/part1" && printf go > "$2/killnow" &&
            while [ -e "$2/killnow" ]; do sleep 0.05; done && cat <&3 >> "$2/part1" && cmp "$2/part1" "$3"
            """#
        guard var reader = spawn(["/bin/bash", "-c", script, "bash", mnt + "/" + link, work, sharePath + "/big"]) else {
            return XCTFail("cannot start the reader")
        }
        XCTAssertTrue(waitUntil(30) { FileManager.default.fileExists(atPath: self.work + "/killnow") }, "the reader did not start")
        let pids = servingPids()
        XCTAssertEqual(pids.count, 1, "one smbd serves the link's target: \(pids)")
        for p in pids { kill(p, SIGKILL) }
        unlink(work + "/killnow")
        XCTAssertTrue(reader.wait(120), "the read did not finish")
        XCTAssertEqual(reader.status, 0, "the bytes read after the reconnect differ, or the read failed")
        let links = shareStatus()["dfsLinks"] as? [[String: Any]] ?? []
        XCTAssertEqual(links.first?["reconnects"] as? Int, 1, "\(links)")
        XCTAssertEqual(shareStatus()["reconnects"] as? Int, 0, "the namespace's own connection was not cut")
    }

    /// `nodfs`: the link is not followed, and the mount says why in one line.
    func testNodfsDoesNotFollow() throws {
        let link = makeLink(["\(ip!)\\rw"])
        let r = mount(source: "//\(env.host)/dfs/\(link)", options: ["credentials=\(credentials!)", "nodfs"])
        assertCleanFailure(r, "nodfs")
        XCTAssertTrue(r.stderr.contains("DFS link"), r.stderr)
    }
}
