import Foundation
import XCTest

/// `sfu`: FIFOs, sockets and device nodes kept as Interix system files on a server without
/// POSIX extensions, read back with their types by a second mount and after a remount.
final class SpecialFileTests: ReadWriteTestCase {
    override var setUpOptions: [String] { ["rw", "sfu"] }

    func testFifoSocketAndDevicesRoundTrip() {
        let made = sh(#"""
            set -e; cd "$1"
            mkfifo -m 640 fifo
            mknod chr c 1 3
            mknod blk b 259 65537
            python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' sock
            echo plain > plain
            """#, mdir)
        XCTAssertEqual(made.status, 0, made.summary)
        let names = ["fifo", "chr", "blk", "sock", "plain"]
        let want = ["fifo 0:0", "character special file 1:3", "block special file 103:10001", "socket 0:0", "regular file 0:0"]
        XCTAssertEqual(stats("%F %t:%T", names.map { mdir + "/" + $0 }), want)

        // On the server: system files holding the records.
        XCTAssertEqual(stats("%s", names.prefix(4).map { sdir + "/" + $0 }), ["0", "24", "24", "1"])
        XCTAssertTrue(dosAttributes(dirName + "/chr")?.contains("S") ?? false, dosAttributes(dirName + "/chr") ?? "no attributes")

        // A second mount, listing and stat alike, and the same after a remount.
        let other = work + "/other"
        mkdir(other, 0o755)
        guard mountOK(at: other, options: ["credentials=\(credentials!)", "sfu", "actimeo=0"]) else { return }
        let l = sh(#"ls -l "$1" | awk 'NR > 1 { print substr($1, 1, 1), $NF }'"#, other + "/" + dirName)
        XCTAssertEqual(l.stdout, "b blk\nc chr\np fifo\n- plain\ns sock\n", l.summary)
        XCTAssertEqual(stats("%F %t:%T", names.map { other + "/" + dirName + "/" + $0 }), want)
        unmount(mnt)
        guard mountOK(options: ["credentials=\(credentials!)", "sfu"]) else { return }
        XCTAssertEqual(stats("%F %t:%T", names.map { mdir + "/" + $0 }), want, "after a remount")

        // A FIFO on the mount is a pipe on this machine.
        let pipe = sh(#"timeout 20 sh -c 'cat "$1/fifo" > "$2" & echo through > "$1/fifo"; wait' sh "$1" "$2""#, mdir, work + "/out")
        XCTAssertEqual(pipe.status, 0, pipe.summary)
        XCTAssertEqual(try? String(contentsOfFile: work + "/out", encoding: .utf8), "through\n")
        // The name is taken: mknod again fails, rm removes it.
        XCTAssertNotEqual(sh(#"mkfifo "$1/fifo""#, mdir).status, 0)
        XCTAssertEqual(sh(#"rm "$1/fifo" "$1/chr" && ls "$1""#, mdir).stdout, "blk\nplain\nsock\n")

        // Without sfu they are the files they are on the server.
        unmount(other)
        guard mountOK(at: other, options: ["credentials=\(credentials!)"]) else { return }
        XCTAssertEqual(stats("%F %s", [other + "/" + dirName + "/blk", other + "/" + dirName + "/sock"]),
                       ["regular file 24", "regular file 1"])
    }

    /// A system file whose bytes are no Interix record stays an ordinary file.
    func testOtherSystemFilesStayFiles() {
        XCTAssertEqual(sh(#"printf 'IntxCHR\0' > "$1/short" && : > "$1/empty" && echo text > "$1/text" && chown "$2" "$1"/*"#, sdir, env.user).status, 0)
        for n in ["short", "empty", "text"] {
            let r = smbclient("setmode \"\(dirName!)/\(n)\" +s")
            XCTAssertEqual(r.status, 0, r.summary)
        }
        // An empty system file is a FIFO (the Interix convention); the others are what they hold.
        XCTAssertEqual(stats("%F", ["short", "empty", "text"].map { mdir + "/" + $0 }),
                       ["regular file", "fifo", "regular file"])
        XCTAssertEqual(try? String(contentsOfFile: mdir + "/text", encoding: .utf8), "text\n")
    }
}
