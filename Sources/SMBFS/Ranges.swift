import SMBClient
import SMBProtocol
#if canImport(Glibc)
import Glibc
#endif

/// copy_file_range(2), fallocate(2) and lseek(2) SEEK_DATA/SEEK_HOLE, with the FSCTLs that do
/// them on the server.
extension Filesystem {
    private static func unsupported(_ e: SMBError) -> Bool {
        [.notSupported, .notImplemented, .invalidDeviceRequest].contains(e.ntStatus)
    }

    /// Server-side copy when the server offers it (the data never crosses the network); read and
    /// write otherwise. Returns the bytes copied, fewer than asked at the source's end.
    public func copyFileRange(from inHandle: UInt64, offset inOffset: UInt64, to outHandle: UInt64,
                              offset outOffset: UInt64, length: UInt64) async throws -> UInt64 {
        try writable()
        changedLocally(ino: try openFile(outHandle).ino)
        let src = try await settledFileId(inHandle)
        let dst = try await settledFileId(outHandle)
        let size = try await share.queryAllInformation(src).basics.endOfFile
        guard inOffset < size, length > 0 else { return 0 }
        let n = min(length, size - inOffset)
        do {
            return try await share.copyChunks(from: src, sourceOffset: inOffset, to: dst, targetOffset: outOffset, length: n)
        } catch let e as SMBError where Self.unsupported(e) || e.ntStatus == .accessDenied {
            logger.debug("server-side copy unavailable (\(e)); copying through the client")
        }
        var done: UInt64 = 0
        let piece = UInt64(share.maxReadSize)
        while done < n {
            let data = try await share.read(src, offset: inOffset + done, length: Int(min(piece, n - done)))
            if data.isEmpty { break }
            try await share.write(dst, offset: outOffset + done, data: data)
            done += UInt64(data.count)
        }
        return done
    }

    /// fallocate modes (linux/falloc.h).
    public static let fallocKeepSize: Int32 = 0x01
    public static let fallocPunchHole: Int32 = 0x02

    /// Mode 0 makes the file at least offset+length long; PUNCH_HOLE|KEEP_SIZE zeroes the range
    /// with FSCTL_SET_ZERO_DATA (MS-FSCC 2.3.67), which frees it on a sparse file. Others: EOPNOTSUPP.
    public func fallocate(handle: UInt64, mode: Int32, offset: UInt64, length: UInt64) async throws {
        try writable()
        changedLocally(ino: try openFile(handle).ino)
        let fid = try await settledFileId(handle)
        let (end, overflow) = offset.addingReportingOverflow(length)
        guard !overflow, end <= UInt64(Int64.max) else { throw FSError(EFBIG) }
        switch mode {
        case 0:
            let size = try await share.queryAllInformation(fid).basics.endOfFile
            if end > size { try await share.setInfo(fid, .endOfFile(end)) }
        case Self.fallocKeepSize:
            return
        case Self.fallocPunchHole | Self.fallocKeepSize:
            // Ranges are freed only in sparse files; making the file sparse is harmless otherwise.
            _ = try? await share.fsctl(fid, code: FSCTL.FSCTL_SET_SPARSE, input: [], maxOutput: 0)
            let input: [UInt8]
            do { input = try FILE_ZERO_DATA_INFORMATION(fileOffset: offset, beyondFinalZero: end).encode() } catch {
                throw FSError(EINVAL)
            }
            do {
                _ = try await share.fsctl(fid, code: FSCTL.FSCTL_SET_ZERO_DATA, input: input, maxOutput: 0)
            } catch let e as SMBError where Self.unsupported(e) {
                throw FSError(EOPNOTSUPP)
            }
        default:
            throw FSError(EOPNOTSUPP)
        }
    }

    /// lseek(2) whence values not exported to Swift by Glibc (unistd.h).
    public static let seekData: Int32 = 3
    public static let seekHole: Int32 = 4

    /// SEEK_DATA and SEEK_HOLE from FSCTL_QUERY_ALLOCATED_RANGES (MS-FSCC 2.3.51).
    public func seek(handle: UInt64, offset: UInt64, whence: Int32) async throws -> UInt64 {
        let fid = try await settledFileId(handle)
        let size = try await share.queryAllInformation(fid).basics.endOfFile
        guard offset < size else { throw FSError(ENXIO) }
        let ranges: [FILE_ALLOCATED_RANGE_BUFFER]
        do {
            let input = try FILE_ALLOCATED_RANGE_BUFFER(fileOffset: offset, length: size - offset).encode()
            let out = try await share.fsctl(fid, code: FSCTL.FSCTL_QUERY_ALLOCATED_RANGES, input: input,
                                            maxOutput: 64 * 1024)
            ranges = try FILE_ALLOCATED_RANGE_BUFFER.decodeList(out)
        } catch let e as SMBError where Self.unsupported(e) {
            // Without the FSCTL the whole file is data (what lseek(2) allows).
            return whence == Self.seekData ? offset : size
        } catch is EncodingError {
            throw FSError(EINVAL)
        } catch is ProtocolError {
            throw FSError(EIO)
        }
        return try Self.seek(in: ranges, from: offset, size: size, data: whence == Self.seekData)
    }

    /// The pure part of SEEK_DATA / SEEK_HOLE over sorted, non-overlapping ranges.
    static func seek(in ranges: [FILE_ALLOCATED_RANGE_BUFFER], from offset: UInt64, size: UInt64, data: Bool) throws -> UInt64 {
        if data {
            for r in ranges where r.fileOffset + r.length > offset {
                return max(offset, r.fileOffset)
            }
            throw FSError(ENXIO)
        }
        var hole = offset
        for r in ranges where r.fileOffset + r.length > hole {
            if r.fileOffset > hole { break }
            hole = r.fileOffset + r.length
        }
        return min(hole, size)
    }
}
