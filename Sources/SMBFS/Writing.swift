import SMBClient
import SMBProtocol
#if canImport(Glibc)
import Glibc
#endif

/// The operations that change the share. Each reaches the server before it returns: nothing is
/// acknowledged to the application that the server has not acknowledged.
extension Filesystem {
    func writable() throws {
        if options.readOnly { throw FSError(EROFS) }
    }

    /// creat(2) / open(O_CREAT): CREATE with FILE_CREATE, FILE_OVERWRITE_IF or FILE_OPEN_IF.
    /// `creation`: the mode and owner kept, with `cifsacl`, in a file this call made.
    public func create(parent: UInt64, name: String, flags: OpenFlags, creation: Creation? = nil) async throws -> (Entry, UInt64) {
        let (entry, handle, made) = try await createFile(parent: parent, name: name, flags: flags, creation: creation)
        guard made, let creation else { return (entry, handle) }
        return (await given(entry, parent: parent, creation), handle)
    }

    private func createFile(parent: UInt64, name: String, flags: OpenFlags, creation: Creation?) async throws -> (Entry, UInt64, Bool) {
        try writable()
        let p = try child(parent, name)
        willChange(p)
        let stamp = freshStamp
        let c: CreateResponse
        do {
            c = try await share.create(path: p, access: flags.access, disposition: flags.createDisposition,
                                       options: .nonDirectoryFile, attributes: [.archive], durable: true,
                                       contexts: creationContexts(mode: creation?.mode ?? options.ownership.fileMode))
        } catch {
            changedLocally(p, .added(nil))
            throw error
        }
        let (entry, handle) = await created(c, path: p, name: name, writable: flags.write)
        // A file that was there already may be listed under another spelling (a server that
        // ignores case opened it): the listing is read again rather than show two names.
        changedLocally(p, .added(c.createAction == CreateResponse.fileCreated ? entry : nil))
        markFresh(entry.attributes, stamp: stamp)
        return (entry, handle, c.createAction == CreateResponse.fileCreated)
    }

    /// With `cifsacl`, a new file's or directory's mode goes to its DACL (it has the entries it
    /// inherited until then), and one made by another user than the mount's owner (`allow_other`)
    /// becomes that user's, as the creator owns a new file in POSIX, where the server lets the
    /// SMB user give files away. The file stays made if this fails: the failure is logged and the
    /// entry shows the mode and owner it has.
    /// On a POSIX share the CREATE gave the mode already, and a new file stays the SMB user's:
    /// the server does everything as that user, and refuses it what the file's new owner alone
    /// may do (setting its times, opening it for writing), so a file given away would be
    /// unusable to the very user who made it.
    func given(_ entry: Entry, parent: UInt64, _ c: Creation) async -> Entry {
        guard modesFromSecurity, let p = try? child(parent, entry.name) else { return entry }
        // Always set: the entry's mode is the mount's default, not the DACL the file inherited
        // (in a directory of mode 777 a new file would keep 777 where 644 was asked for).
        let other = c.uid != options.ownership.uid
        let stamp = freshStamp
        var e = entry
        do {
            do {
                e.attributes = try await changeSecurity(ino: entry.attributes.ino, path: p, mode: c.mode,
                                                        uid: other ? c.uid : nil, gid: other ? c.gid : nil)
            } catch let error as FSError where error.errno == EPERM && other {
                logger.debug("a new file stays the mount user's", metadata: ["path": "\(p)", "uid": "\(c.uid)"])
                e.attributes = try await changeSecurity(ino: entry.attributes.ino, path: p, mode: c.mode, uid: nil, gid: nil)
            }
        } catch {
            logger.warning("the mode of a new file could not be set", metadata: [
                "path": "\(p)", "mode": "0\(String(c.mode, radix: 8))", "error": "\(error)"])
            return entry
        }
        rememberAttributes(e.attributes)
        changedLocally(p, answered: e.attributes, stamp: stamp)
        return e
    }

    /// mknod(2) of a regular file: an empty file made with FILE_CREATE (EEXIST if the name is
    /// taken), no handle kept.
    public func mknod(parent: UInt64, name: String, creation: Creation? = nil) async throws -> Entry {
        let (entry, handle) = try await create(parent: parent, name: name, flags: OpenFlags(posix: O_WRONLY | O_CREAT | O_EXCL),
                                               creation: creation)
        await release(handle: handle)
        return entry
    }

    /// The entry and handle of a file CREATE opened or made.
    private func created(_ c: CreateResponse, path p: String, name: String, writable: Bool) async -> (Entry, UInt64) {
        // A file just created has one link, and the QFid answer names it as the directory
        // listing will once that is known to hold on this server: no QUERY_INFO needed.
        // On a POSIX share the CREATE answered with the mode and owners too.
        let identity = self.identity(createdBy: c)
        if c.createAction == CreateResponse.fileCreated, let disk = c.diskFileIndex, diskIdIsIndexNumber.load(ordering: .relaxed) == 1 {
            let a = attributes(path: p, basics: c.basics, fileId: disk, identity: identity)
            return (Entry(name: name, attributes: a), addFileHandle(c.fileId, ino: a.ino, writable: writable))
        }
        let a = attributes(path: p, basics: c.basics, fileId: 0, identity: identity)
        let info = try? await share.queryAllInformation(c.fileId)
        if let info, let disk = c.diskFileIndex, diskIdIsIndexNumber.load(ordering: .relaxed) == 0 {
            diskIdIsIndexNumber.store(disk == info.indexNumber ? 1 : -1, ordering: .relaxed)
        }
        let ino = info.map { attributes(path: p, basics: $0.basics, fileId: $0.indexNumber).ino } ?? a.ino
        let handle = addFileHandle(c.fileId, ino: ino, writable: writable)
        // The directory listing and lookups give the server's file id; ask for it once here so
        // the inode number is the same whichever way the kernel learns of the file.
        if let info {
            return (Entry(name: name, attributes: attributes(path: p, basics: info.basics, fileId: info.indexNumber,
                                                             nlink: info.numberOfLinks, identity: identity)), handle)
        }
        return (Entry(name: name, attributes: a), handle)
    }

    /// write(2). With write-behind the write is acknowledged once it is queued (memory bounded);
    /// a failure is reported by the handle's next write, fsync or close.
    public func write(handle: UInt64, offset: UInt64, data: [UInt8]) async throws -> Int {
        try writable()
        let f = try openFile(handle)
        let end = offset + UInt64(data.count)
        let time = noteWritten(f.ino)
        wroteLocally(ino: f.ino, end: end, at: time)
        guard let wb = writeBehind else {
            do { try await share.write(f.fileId, offset: offset, data: data) } catch {
                changedLocally(ino: f.ino)
                throw error
            }
            wroteLocally(ino: f.ino, end: end, at: time)
            return data.count
        }
        let id = try await wb.begin(ino: f.ino, handle: handle, offset: offset, count: data.count)
        let share = self.share
        Task(executorPreference: share.executor) {
            var failure: Error?
            do { try await share.write(f.fileId, offset: offset, data: data) } catch { failure = error }
            // Before the write counts as landed: what is asked of the file once it settles must
            // not be taken for older than this write; a write that failed leaves nothing known.
            if failure == nil {
                self.wroteLocally(ino: f.ino, end: end, at: time)
            } else {
                self.changedLocally(ino: f.ino)
            }
            await wb.end(id, error: failure)
        }
        return data.count
    }

    /// close(2) of one descriptor (FUSE flush): the handle's writes are on the server, or the
    /// first one that failed is reported.
    public func flush(handle: UInt64) async throws {
        guard let wb = writeBehind, let f = try? openFile(handle) else { return }
        await wb.settle(ino: f.ino)
        if let e = await wb.takeError(handle: handle) { throw e }
    }

    /// fsync(2) / fdatasync(2) on any descriptor of the file: the inode's writes in flight land,
    /// then FLUSH, so the data is on the server's stable storage. FLUSH needs an open with
    /// FILE_WRITE_DATA or FILE_APPEND_DATA (MS-SMB2 3.3.5.11): a read-only descriptor flushes
    /// through a writable handle of the same inode, or through one opened for it when this
    /// mount wrote the file since its last FLUSH; with nothing written there is nothing to flush.
    public func fsync(handle: UInt64) async throws {
        let f = try openFile(handle)
        await writeBehind?.settle(ino: f.ino)
        if let e = await writeBehind?.takeError(handle: handle) { throw e }
        let written = self.written.withLock { $0.needsFlush(f.ino) }
        if let fid = writableFileId(ino: f.ino, preferring: handle) {
            try await share.flush(fid)
        } else if written {
            do {
                try await share.withOpen(path: try path(of: f.ino), access: [.writeData, .readAttributes, .synchronize],
                                         options: .nonDirectoryFile) { c in try await self.share.flush(c.fileId) }
            } catch let e as SMBError where e.ntStatus == .accessDenied {
                // Made read-only since it was written: CLOSE already handed the data over.
                logger.debug("fsync of a read-only file: no handle may flush it", metadata: ["ino": "\(f.ino)"])
            }
        }
        self.written.withLock { $0.flushed(f.ino) }
    }

    /// mkdir(2); `creation` as for `create`.
    public func mkdir(parent: UInt64, name: String, creation: Creation? = nil) async throws -> Entry {
        let e = try await makeDirectory(parent: parent, name: name, mode: creation?.mode ?? options.ownership.dirMode)
        guard let creation else { return e }
        return await given(e, parent: parent, creation)
    }

    private func makeDirectory(parent: UInt64, name: String, mode: UInt32) async throws -> Entry {
        try writable()
        let p = try child(parent, name)
        willChange(p)
        let (stamp, started) = (listings.withLock { $0.stamp }, ContinuousClock.now)
        let c: CreateResponse
        do {
            c = try await share.createDirectory(path: p, mode: mode)
        } catch {
            changedLocally(p, .added(nil))
            throw error
        }
        guard let disk = c.diskFileIndex, diskIdIsIndexNumber.load(ordering: .relaxed) == 1 else {
            changedLocally(p, .added(nil))
            return try await lookup(parent: parent, name: name)
        }
        let identity = self.identity(createdBy: c)
        let e = Entry(name: name, attributes: attributes(path: p, basics: c.basics, fileId: disk, identity: identity))
        changedLocally(p, .added(e))
        // A directory just made is empty: lookups of the names about to be created in it
        // (untar, cp -r) are answered without the server, as in a listing just read.
        if listingTTL > .zero {
            listings.withLock { _ = $0.store(p, entries: [], at: started, stamp: stamp) }
        }
        return e
    }

    /// unlink(2): CREATE with DELETE access, SET_INFO FileDispositionInformation, CLOSE
    /// (MS-SMB2 2.2.39, MS-FSCC 2.4.11). Setting the disposition, unlike FILE_DELETE_ON_CLOSE,
    /// reports a non-empty directory at once (STATUS_DIRECTORY_NOT_EMPTY); a delete-on-close that
    /// fails at CLOSE would be silent. A file with the DOS read-only attribute cannot be deleted;
    /// POSIX lets the directory's writer delete it, so the attribute is cleared first, as cifs does.
    public func unlink(parent: UInt64, name: String) async throws {
        try writable()
        try Self.validate(name: name)
        let dir = try path(of: parent)
        let p = Self.join(dir, name)
        try Self.checkLength(p)
        willChange(p)
        let ino = knownIno(dir, name)
        // Kept open here, the file would stay on the server (delete pending) until closed.
        await closeDeferred(under: p)
        do {
            let open = try await remove(p, in: dir)
            let last = inodes.withLock { $0.unlinked(ino, path: p) }
            if let ino, last, !open {
                // Gone from the server: what was noted of it here goes too (the tables stay
                // as large as the files in use, not as all files ever removed).
                written.withLock { $0.removed(ino) }
            } else {
                // Its other names, if any, show one link less and a new ctime.
                noteChanged(ino)
            }
            changedLocally(p, .removed)
        } catch {
            changedLocally(p, .modified)
            throw error
        }
    }

    /// Returns whether the file was open here.
    private func remove(_ p: String, in dir: String) async throws -> Bool {
        if openInode(at: p) != nil {
            // Open here: POSIX keeps the open descriptors working. Rename it out of the way (as NFS
            // clients do) so the name is free at once, then mark it delete-pending: the server
            // removes it when the last handle closes, even if this client goes away.
            let hidden = Self.join(dir, Self.temporaryName(unlinked: true))
            try await share.withOpen(path: p, access: [.delete, .readAttributes, .synchronize], options: .nonDirectoryFile) { c in
                try await self.share.rename(c.fileId, to: hidden, replaceIfExists: false)
                try await self.share.setInfo(c.fileId, .disposition(deletePending: true))
            }
            renamed(from: p, to: hidden)
            return true
        }
        try await delete(path: p, directory: false)
        return false
    }

    /// Names of files unlinked while open; listings leave them out.
    static let unlinkedPrefix = ".smb3fs-unlinked-"

    private func openInode(at path: String) -> UInt64? {
        let inos = handles.withLock { Set($0.files.values.map(\.ino)) }
        return inos.first { (try? self.path(of: $0)) == path }
    }

    public func rmdir(parent: UInt64, name: String) async throws {
        try writable()
        let p = try child(parent, name)
        willChange(p)
        // A watch's open would keep the directory in existence (delete pending) until closed.
        await stopWatches(under: p)
        await closeDeferred(under: p)
        await settleReads(under: p)
        do {
            try await delete(path: p, directory: true)
        } catch {
            changedLocally(p, .modified)
            throw error
        }
        changedLocally(p, .removed)
        _ = listings.withLock { $0.invalidate(p) }
    }

    private func delete(path: String, directory: Bool) async throws {
        let options: CreateOptions = directory ? .directoryFile : .nonDirectoryFile
        let remove: @Sendable () async throws -> Void = {
            try await self.share.setInfo(path: path, access: [.delete, .readAttributes, .synchronize], options: options,
                                         .disposition(deletePending: true))
        }
        do {
            try await remove()
        } catch let e as SMBError where e.ntStatus == .cannotDelete || e.ntStatus == .accessDenied {
            guard !directory, try await clearReadOnly(path: path) else { throw e }
            try await remove()
        }
    }

    /// Clears FILE_ATTRIBUTE_READONLY; false when it was not set.
    private func clearReadOnly(path: String) async throws -> Bool {
        try await share.withOpen(path: path, access: [.readAttributes, .writeAttributes, .synchronize]) { c in
            guard c.basics.fileAttributes.contains(.readonly) else { return false }
            var attrs = c.basics.fileAttributes.subtracting(.readonly)
            if attrs.isEmpty { attrs = .normal }
            try await self.share.setInfo(c.fileId, .basic(creation: nil, lastAccess: nil, lastWrite: nil, change: nil,
                                                          attributes: attrs))
            return true
        }
    }

    /// rename(2) and renameat2(RENAME_NOREPLACE): SET_INFO FileRenameInformation on the source
    /// (MS-SMB2 2.2.39, MS-FSCC 2.4.37.2). With ReplaceIfExists the server replaces an existing
    /// file in one step, which is what save-by-rename needs.
    public func rename(parent: UInt64, name: String, newParent: UInt64, newName: String, noReplace: Bool) async throws {
        try writable()
        let from = try child(parent, name)
        let to = try child(newParent, newName)
        if from == to { return }
        willChange(from)
        willChange(to)
        // Listings below a directory that moves are kept under its old path: all go.
        let file = inodes.withLock { $0.attributes(atPath: from) }.map { $0.kind != .directory } ?? false
        // The server refuses to rename a directory with handles open below it, this client's
        // watches and opens kept after close included; and to replace a file open here.
        await stopWatches(under: from)
        await closeDeferred(under: from)
        await closeDeferred(under: to)
        await settleReads(under: from)
        do {
            if isCaseOnly(from, to) {
                try await renameCase(from, to)
            } else {
                try await renameReplacing(from, to, noReplace: noReplace)
            }
        } catch {
            changedLocally(from, .modified)
            changedLocally(to, .modified)
            throw error
        }
        changedLocally(from, .removed)
        changedLocally(to, .added(nil))
        renamed(from: from, to: to)
        noteChanged(inodes.withLock { $0.ino(atPath: to) })
        if !file { structureChanged() }
    }

    /// `to` is `from` with only the case of its last name changed, in the same directory, and no
    /// other file is known under `to` (a server that keeps case apart may have both).
    private func isCaseOnly(_ from: String, _ to: String) -> Bool {
        let (a, b) = (Self.split(from), Self.split(to))
        guard a.dir == b.dir, a.name != b.name, a.name.lowercased() == b.name.lowercased() else { return false }
        guard let target = knownIno(b.dir, b.name) else { return true }
        return target == knownIno(a.dir, a.name)
    }

    /// The inode known under `name` in `dir`: the kernel's, or a listing's, however old.
    private func knownIno(_ dir: String, _ name: String) -> UInt64? {
        inodes.withLock { $0.ino(atPath: Self.join(dir, name)) } ?? listings.withLock { $0.known(dir, name: name) }?.attributes.ino
    }

    /// A rename that changes only the case of the name (the kernel sends one only when the new
    /// spelling is not a name of its own, see stat(path:exactly:)). Samba and Windows take it as
    /// it is; a server that ignores case may also keep the old spelling and answer success, so
    /// the name the server gives after it is checked in the same round trip, and if the old one
    /// stuck, the file goes by way of a temporary name.
    private func renameCase(_ from: String, _ to: String) async throws {
        let (dir, name) = Self.split(to)
        let info = try await share.renameAndQuery(path: from, to: to)
        guard let spelled = share.serverSpelling(of: info), spelled != name else { return }
        logger.debug("case-only rename kept the old spelling: through a temporary name", metadata: ["path": "\(to)"])
        try await share.rename(path: to, via: Self.join(dir, Self.temporaryName()), to: to)
    }

    /// FileRenameInformation with ReplaceIfExists; a server refuses to replace a file that is
    /// open (STATUS_ACCESS_DENIED: Windows semantics, MS-FSA 2.1.5.14.11), which POSIX allows
    /// (a reader keeps the old contents, the name shows the new ones: editors' and log
    /// rotation's save-by-rename). Then the rename is asked again with POSIX semantics, where the
    /// server has them (FileRenameInformationEx); else the open target is moved aside, as unlink
    /// does with a file open here, the rename done, and the old file left to go when its last
    /// handle closes.
    private func renameReplacing(_ from: String, _ to: String, noReplace: Bool) async throws {
        do {
            try await share.rename(path: from, to: to, replaceIfExists: !noReplace)
        } catch let e as SMBError where !noReplace && (e.ntStatus == .accessDenied || e.ntStatus == .sharingViolation) {
            let target = inodes.withLock { $0.attributes(atPath: to) }
            guard target?.kind != .directory else { throw e }
            if posixRename.load(ordering: .relaxed) >= 0 {
                do {
                    try await share.renamePOSIX(path: from, to: to)
                    posixRename.store(1, ordering: .relaxed)
                    // The old file keeps its handles but no longer has this name.
                    renamed(from: to, to: Self.join(Self.split(to).dir, Self.temporaryName(unlinked: true)))
                    return
                } catch let p as SMBError where [.invalidInfoClass, .notSupported, .notImplemented, .invalidParameter,
                                                 .invalidDeviceRequest].contains(p.ntStatus) {
                    posixRename.store(-1, ordering: .relaxed)
                    logger.debug("no POSIX rename on this server: moving the open target aside", metadata: ["status": "\(p)"])
                } catch {}
            }
            let hidden = Self.join(Self.split(to).dir, Self.temporaryName(unlinked: true))
            // Not open with FILE_SHARE_DELETE elsewhere, or not there: the first failure stands.
            do { try await share.rename(path: to, to: hidden, replaceIfExists: false) } catch { throw e }
            do {
                try await share.rename(path: from, to: to, replaceIfExists: false)
            } catch {
                try? await share.rename(path: hidden, to: to, replaceIfExists: false)
                throw error
            }
            // Descriptors open here on the old file follow it to its hidden name.
            renamed(from: to, to: hidden)
            do { try await delete(path: hidden, directory: false) } catch {
                logger.warning("a replaced file could not be deleted", metadata: ["path": "\(hidden)", "error": "\(error)"])
            }
            logger.debug("rename replaced an open file", metadata: ["path": "\(to)"])
        }
    }

    /// A name of this mount's own in a directory, which listings leave out: a file unlinked or
    /// replaced while open (`unlinked`), or a step of a case-only rename.
    static func temporaryName(unlinked: Bool = false) -> String {
        (unlinked ? unlinkedPrefix : temporaryPrefix) + String(UInt64.random(in: 0...UInt64.max), radix: 16)
    }

    static let temporaryPrefix = ".smb3fs-rename-"

    /// setattr: size (FileEndOfFileInformation), times and the read-only attribute
    /// (FileBasicInformation); with `cifsacl` mode, owner and group in the security descriptor
    /// (SecurityAttributes.swift), else ownership cannot be changed.
    public func setattr(_ ino: UInt64, _ changes: AttributeChanges, handle: UInt64?) async throws -> Attributes {
        let p = try path(of: ino)
        if !options.ignoreChown && !modesPerFile {
            if let uid = changes.uid, uid != options.ownership.uid { throw FSError(EPERM) }
            if let gid = changes.gid, gid != options.ownership.gid { throw FSError(EPERM) }
        }
        if var known = unchangedBy(changes, ino: ino) {
            // Nothing for the server to keep, but the change happened: ctime moves (POSIX).
            noteChanged(ino)
            written.withLock { $0.overlay(&known) }
            return known
        }
        if let kept = keptForClose(ino, changes) { return kept }
        willChange(p)
        // Writes behind land first, so the answer is asked after every change but this one.
        await writeBehind?.settle(ino: ino)
        // A time set explicitly (touch, tar, cp -p) replaces the time of the writes before it.
        if changes.mtime != nil { written.withLock { $0.timeSettled(ino) } }
        let stamp = freshStamp
        let a: Attributes
        do {
            var answer = try await setSecurityThenRest(ino, path: p, changes, handle: handle)
            noteChanged(ino)
            written.withLock { $0.overlay(&answer) }
            a = answer
        } catch {
            changedLocally(p, .modified)
            throw error
        }
        // The answer shows this change: it stays fresh (tar's fchown and fchmod after futimens
        // ask nothing more), unless something else changed the file meanwhile.
        changedLocally(p, answered: a, stamp: stamp)
        return a
    }

    /// Times alone (futimens, utimensat: tar, cp -p, rsync) on a file this mount has open for
    /// writing: kept for the CLOSE of its last writing handle to set (WrittenFiles), in the
    /// compound that CLOSE goes in, and answered from the attributes the server gave within the
    /// timeout with the new times. Nil when they go to the server now.
    private func keptForClose(_ ino: UInt64, _ changes: AttributeChanges) -> Attributes? {
        guard changes.size == nil, changes.mode == nil, changes.uid == nil, changes.gid == nil,
              changes.atime != nil || changes.mtime != nil, !options.readOnly,
              var known = freshAttributes(ino) else { return nil }
        // Checked and kept under the handles' lock: a release that takes the last writing
        // handle away either comes after and sets them, or before and they go now.
        let kept = handles.withLock { h -> Bool in
            guard h.files.values.contains(where: { $0.ino == ino && $0.writable }) else { return false }
            return written.withLock { w in
                guard w.canKeep(ino) else { return false }
                w.set(ino, atime: changes.atime, mtime: changes.mtime)
                return true
            }
        }
        guard kept else { return nil }
        noteChanged(ino)
        written.withLock { $0.overlay(&known) }
        return known
    }

    /// The attributes to answer with when `changes` would change nothing the server keeps:
    /// chown to the mount's owner (tar and cp -p chown every file they make), chmod that keeps
    /// the owner-write bit, on attributes the server gave within the timeout.
    private func unchangedBy(_ changes: AttributeChanges, ino: UInt64) -> Attributes? {
        guard changes.size == nil, changes.atime == nil, changes.mtime == nil,
              let known = freshAttributes(ino) else { return nil }
        if modesPerFile {
            // With `cifsacl` setuid, setgid and sticky are not kept: a chmod differing only there
            // changes nothing.
            let kept: UInt32 = posixModes ? 0o7777 : 0o777
            if let mode = changes.mode, mode & kept != known.permissions & kept { return nil }
            if let uid = changes.uid, uid != known.uid { return nil }
            if let gid = changes.gid, gid != known.gid { return nil }
            return known
        }
        if let mode = changes.mode {
            guard !options.readOnly else { return nil }
            if known.kind == .file && (mode & 0o200 == 0) != (known.permissions & 0o200 == 0) { return nil }
        }
        return known
    }

    /// With `cifsacl`, mode and owners go to the security descriptor first; size and times
    /// after, as without it. `ignore_chown`: an owner the server refuses is left as it was.
    private func setSecurityThenRest(_ ino: UInt64, path p: String, _ changes: AttributeChanges,
                                     handle: UInt64?) async throws -> Attributes {
        guard modesPerFile, changes.mode != nil || changes.uid != nil || changes.gid != nil else {
            return try await setOnServer(ino, path: p, changes, handle: handle)
        }
        try writable()
        let change = posixModes ? changePosix : changeSecurity
        var a: Attributes
        do {
            a = try await change(ino, p, changes.mode, changes.uid, changes.gid)
        } catch let e as FSError where e.errno == EPERM && options.ignoreChown && changes.mode != nil {
            a = try await change(ino, p, changes.mode, nil, nil)
        } catch let e as FSError where e.errno == EPERM && options.ignoreChown {
            a = try await getattr(ino)
        }
        if a.ino == ino { rememberAttributes(a) }
        var rest = changes
        (rest.mode, rest.uid, rest.gid) = (nil, nil, nil)
        guard rest.size != nil || rest.atime != nil || rest.mtime != nil else { return a }
        return try await setOnServer(ino, path: p, rest, handle: handle)
    }

    /// Applies `changes` and answers the attributes after them; the inode's writes behind have
    /// landed (setattr waits for them).
    private func setOnServer(_ ino: UInt64, path p: String, _ changes: AttributeChanges, handle: UInt64?) async throws -> Attributes {
        let needsServer = changes.size != nil || changes.atime != nil || changes.mtime != nil || changes.mode != nil
        if needsServer { try writable() }
        // Through a handle this client already has open for writing, when there is one: a time
        // set through another handle is overwritten by the server when the writing handle closes
        // (the last-write time follows the writes on that handle, MS-FSA 2.1.5.14.2).
        let openFid = writableFileId(ino: ino, preferring: handle)
        if let size = changes.size {
            if let openFid {
                try await share.setInfo(openFid, .endOfFile(size))
            } else {
                try await share.setInfo(path: p, access: [.writeData, .readAttributes, .synchronize], .endOfFile(size))
            }
        }
        if changes.atime != nil || changes.mtime != nil || changes.mode != nil {
            let apply: @Sendable (FileId, FileAttributes) async throws -> Void = { fid, current in
                var attrs: FileAttributes?
                if let mode = changes.mode, !current.contains(.directory) {
                    // Only the owner-write bit has a place on the server: FILE_ATTRIBUTE_READONLY.
                    var a = current
                    if mode & 0o200 == 0 { a.insert(.readonly) } else { a.remove(.readonly) }
                    if a != current { attrs = a.isEmpty ? .normal : a }
                }
                if changes.atime == nil && changes.mtime == nil && attrs == nil { return }
                try await self.share.setInfo(fid, .basic(creation: nil, lastAccess: changes.atime,
                                                         lastWrite: changes.mtime, change: nil, attributes: attrs))
            }
            let times = FileSetInformation.basic(creation: nil, lastAccess: changes.atime, lastWrite: changes.mtime,
                                                 change: nil, attributes: nil)
            if let openFid, changes.mode != nil {
                // The current DOS attributes matter only when the mode changes.
                try await apply(openFid, try await share.queryAllInformation(openFid).basics.fileAttributes)
            } else {
                // Times alone need nothing from the open, and the attributes to answer with come
                // in the same round trip (futimens, touch, tar, cp -p).
                let info: FileAllInformation
                if let openFid {
                    info = try await share.setInfoAndQuery(openFid, times)
                } else if changes.mode == nil {
                    info = try await share.setInfoAndQuery(path: p, access: [.readAttributes, .writeAttributes, .synchronize], times)
                } else {
                    try await share.withOpen(path: p, access: [.readAttributes, .writeAttributes, .synchronize]) { c in
                        try await apply(c.fileId, c.basics.fileAttributes)
                    }
                    return try await getattr(ino)
                }
                let a = await attributes(of: info, path: p)
                if a.ino == ino {
                    rememberAttributes(a)
                    return a
                }
            }
        }
        // Through a handle this client has open on the file (fchown, fchmod) the server need
        // not find the path again.
        if let fid = openFileId(ino: ino) {
            let a = await attributes(of: try await share.queryAllInformation(fid), path: p)
            if a.ino == ino {
                rememberAttributes(a)
                return a
            }
        }
        return try await getattr(ino)
    }
}
