// Issue 4: the link to the server is cut (packets silently dropped, as on a dead path) while
// the mount is in use. The server runs in a network namespace of its own, the mount in a second
// one joined to it by a veth pair; nftables in the client namespace cuts the link
// (../shared/testing/netns.md). Addresses are from 198.18.0.0/15 and exist only inside the two
// namespaces, which have no route anywhere else.
import Foundation
import XCTest

final class NetworkCutTests: OwnServerTestCase {
    var serverNS = "", clientNS = ""
    var cut = false

    override func prepareNetwork() throws -> String {
        let tag = String(UInt32.random(in: 0..<0xFFFF_FFFF), radix: 16)
        let prefix = ProcessInfo.processInfo.environment["SMB3FS_NETNS_PREFIX"] ?? "s3fs"
        serverNS = "\(prefix)-s\(tag)"
        clientNS = "\(prefix)-c\(tag)"
        let veth = "s3v\(tag)"
        let r = sh(#"""
            set -e
            ip netns add "$1"; ip netns add "$2"
            ip link add "$3s" type veth peer name "$3c"
            ip link set "$3s" netns "$1"; ip link set "$3c" netns "$2"
            ip -n "$1" addr add 198.18.31.1/24 dev "$3s"
            ip -n "$2" addr add 198.18.31.2/24 dev "$3c"
            for n in "$1" "$2"; do ip -n "$n" link set lo up; done
            ip -n "$1" link set "$3s" up; ip -n "$2" link set "$3c" up
            """#, serverNS, clientNS, veth, timeout: 30)
        guard r.status == 0 else {
            tearDownNetwork()
            XCTFail("network namespaces: \(r.summary)")
            throw SetUpFailed(what: "network namespaces")
        }
        inServer = ["ip", "netns", "exec", serverNS]
        // nsenter --net: the mount made inside is visible to the whole machine (ip netns exec
        // would give it a private mount namespace).
        commandPrefix = ["nsenter", "--net=/run/netns/" + clientNS]
        return "198.18.31.1"
    }

    override func tearDownNetwork() {
        for ns in [clientNS, serverNS] where !ns.isEmpty {
            _ = runCmd(["ip", "netns", "del", ns], timeout: 30)
        }
    }

    /// Drops every packet from the client to the server (the server's answers have nothing to
    /// answer), or lets them through again.
    func setLink(up: Bool) {
        let r = up
            ? runCmd(["ip", "netns", "exec", clientNS, "nft", "delete", "table", "inet", "s3fscut"], timeout: 30)
            : sh(#"""
                ip netns exec "$1" nft add table inet s3fscut &&
                ip netns exec "$1" nft 'add chain inet s3fscut out { type filter hook output priority 0; }' &&
                ip netns exec "$1" nft add rule inet s3fscut out ip daddr 198.18.31.1 drop
                """#, clientNS, timeout: 30)
        XCTAssertEqual(r.status, 0, "link \(up ? "up" : "down"): \(r.summary)")
    }

    /// Runs `argv` and returns how long it took, with its result.
    func timed(_ argv: [String], timeout: TimeInterval) -> (ProcResult, TimeInterval) {
        let start = Date()
        let r = runCmd(argv, timeout: timeout)
        return (r, Date().timeIntervalSince(start))
    }

    /// hard: a 1 GiB copy onto the mount rides through a 20 s cut; `ls` answers within 2 s of
    /// the link coming back, and the copy's bytes are the source's.
    func testHardCopyRidesThroughATwentySecondCut() throws {
        guard mountOwn(["echo_interval=2"]) else { return }
        let source = work + "/source.bin"
        XCTAssertEqual(sh(#"head -c 1G /dev/urandom > "$1""#, source, timeout: 120).status, 0)
        let target = sharePath + "/big.bin"
        guard var cp = spawn(["cp", source, mnt + "/big.bin"]) else { return XCTFail("cannot start cp") }
        XCTAssertTrue(waitUntil(120) { self.serverSize(target) >= 200 << 20 || !cp.poll() }, "no progress")
        XCTAssertTrue(cp.poll(), "the copy ended before the cut")
        setLink(up: false)
        let sizeAtCut = serverSize(target)
        Thread.sleep(forTimeInterval: 20)      // the outage under test, not a wait for an event
        XCTAssertTrue(cp.poll(), "cp ended during the cut (status \(String(describing: cp.status)))")
        XCTAssertLessThan(serverSize(target) - sizeAtCut, 16 << 20, "data still flowed through the cut")
        setLink(up: true)
        let (ls, took) = timed(["ls", mnt], timeout: 30)
        print("NetworkCutTests: ls answered \(String(format: "%.2f", took)) s after the link came back")
        XCTAssertEqual(ls.status, 0, ls.summary)
        XCTAssertTrue(ls.stdout.split(separator: "\n").contains("big.bin"), ls.summary)
        XCTAssertLessThanOrEqual(took, 2.0, "ls after the link came back")
        XCTAssertTrue(cp.wait(600), "cp did not finish")
        XCTAssertEqual(cp.status, 0, "cp exit status")
        assertSameContent(source, target, "the server's file differs from the source")
    }

    /// soft: with the link cut, an operation fails with EIO once the connection is declared
    /// dead (2 × echo_interval), and the very first operations once the link is back succeed
    /// (a request while reconnecting makes an attempt at once instead of failing on the backoff).
    func testSoftMountFailsWithinTheTimeoutWhileCut() throws {
        guard mountOwn(["soft", "echo_interval=2"]) else { return }
        XCTAssertEqual(sh(#"echo before > "$1/before""#, mnt).status, 0)
        setLink(up: false)
        let start = Date()
        let r = python(#"""
            import errno, sys
            try:
                open(sys.argv[1] + "/during-cut", "w").close(); print("OK")
            except OSError as e:
                print(errno.errorcode[e.errno])
            """#, mnt, timeout: 60)
        let took = Date().timeIntervalSince(start)
        print("NetworkCutTests: soft operation failed after \(String(format: "%.2f", took)) s")
        XCTAssertFalse(r.timedOut, "a soft mount waited for the link")
        XCTAssertEqual(r.stdout, "EIO\n", r.summary)
        // Declared dead after 2 × echo_interval of silence, checked every half interval.
        XCTAssertLessThanOrEqual(took, 4 + 1 + 2, "soft failure later than the configured timeout")
        // Still cut: each operation fails; the reconnect loop is in its backoff by now.
        let during = python(#"""
            import errno, os, sys
            try:
                os.listdir(sys.argv[1]); print("OK")
            except OSError as e:
                print(errno.errorcode[e.errno])
            """#, mnt, timeout: 60)
        XCTAssertEqual(during.stdout, "EIO\n", during.summary)
        setLink(up: true)
        let (ls, lsTook) = timed(["ls", mnt], timeout: 30)
        print("NetworkCutTests: first soft ls after the link came back: status \(ls.status) in \(String(format: "%.2f", lsTook)) s")
        XCTAssertEqual(ls.status, 0, "the first ls after the link came back: \(ls.summary)")
        XCTAssertTrue(ls.stdout.split(separator: "\n").contains("before"), ls.summary)
        let w = sh(#"echo after > "$1/after""#, mnt)
        XCTAssertEqual(w.status, 0, w.summary)
        XCTAssertEqual(try? String(contentsOfFile: sharePath + "/after", encoding: .utf8), "after\n")
    }

    /// With the link cut (and not yet noticed: echo_interval is the default 60 s), `df` and
    /// `stat` of a known file answer within 1 s; with actimeo=0 every stat reaches smb3fs.
    func testStatfsAndKnownAttributesWhileCut() throws {
        guard mountOwn(["actimeo=0"]) else { return }
        XCTAssertEqual(sh(#"echo data > "$1/known""#, mnt).status, 0)
        XCTAssertEqual(sh(#"stat -c %s "$1/known" && df "$1" > /dev/null"#, mnt).stdout, "5\n")
        setLink(up: false)
        for round in 1...3 {
            let (df, dfTook) = timed(["df", mnt], timeout: 10)
            XCTAssertEqual(df.status, 0, df.summary)
            XCTAssertLessThanOrEqual(dfTook, 1.0, "df \(round) with the link cut")
            let (st, stTook) = timed(["stat", "-c", "%s", mnt + "/known"], timeout: 10)
            XCTAssertEqual(st.stdout, "5\n", st.summary)
            XCTAssertLessThanOrEqual(stTook, 1.0, "stat \(round) of a known file with the link cut")
            print("NetworkCutTests: round \(round): df \(String(format: "%.2f", dfTook)) s, stat \(String(format: "%.2f", stTook)) s")
        }
        setLink(up: true)
        // hard: the first ls waits through the outage's detection and the reconnect, then succeeds.
        let ls = runCmd(["ls", mnt], timeout: 180)
        XCTAssertFalse(ls.timedOut, ls.summary)
        XCTAssertEqual(ls.status, 0, "ls after the link came back: \(ls.summary)")
        XCTAssertTrue(ls.stdout.split(separator: "\n").contains("known"), ls.summary)
        XCTAssertEqual(sh(#"echo more >> "$1/known" && cat "$1/known""#, mnt).stdout, "data\nmore\n")
    }
}
