public import CofferAPI
import CofferText
import Crypto
import Foundation
import NIOCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Central copies: a container uploaded to the key service, which keeps it as the record's one
/// authoritative encrypted copy (docs/PROTOCOL.md, Central copies). Only ciphertext leaves.
extension SecureFiles {
    /// What a push did.
    public struct PushResult: Codable, Sendable {
        public var container: String
        public var recordID: String
        public var central: CentralCopyInfo?
        /// The bytes sent now (less than the size after a resumed upload; 0 when the service already
        /// had these bytes).
        public var sent: Int64
        /// Whether the central copy already was these bytes.
        public var alreadyCurrent: Bool
    }

    /// What a retrieve of a central copy did.
    public struct CentralRetrieveResult: Codable, Sendable {
        public var recordID: String
        public var output: String
        public var sha256: String
        public var size: Int64
        /// The central copy's generation that was opened.
        public var generation: Int64
        /// Whether the central copy was re-sealed (replaced by the re-sealed container, the old
        /// decode key destroyed).
        public var resealed: Bool
        /// Why not, when it was not.
        public var resealProblem: String?
        /// The central copy now, after the re-seal.
        public var central: CentralCopyInfo?
    }

    /// How many times an upload that stopped is resumed before giving up.
    static let uploadAttempts = 3

    /// Uploads `container` as its record's central copy, once its receipt verifies offline; an
    /// upload that stops is resumed from what the service holds. The container must not change
    /// while it is sent.
    public func push(container: String) async throws -> PushResult {
        let (_, receipt) = try ReceiptCheck.read(container: container)
        try Self.verifyBeforeAsking(receipt, path: container, caFile: service.caFile)
        let file = try InputFile(path: container)
        let sha256 = try Self.digest(of: file, path: container, showProgress: showProgress)
        let announce = CentralUploadRequest(token: receipt.token, sha256: sha256, size: file.size)
        var sent: Int64 = 0
        var lastProblem = ""
        for _ in 0..<Self.uploadAttempts {
            let ready = try await service.beginUpload(recordID: receipt.recordID, announce, session: session)
            if ready.done {
                return PushResult(container: container, recordID: receipt.recordID, central: ready.central, sent: sent, alreadyCurrent: sent == 0)
            }
            guard let uploadID = ready.uploadID, ready.received >= 0, ready.received <= file.size else {
                throw ClientError(.software, "the key service answered the upload with an offset this coffer cannot use")
            }
            guard !file.changedSinceOpened() else {
                throw ClientError(.ioError, "\(container) changed while it was being uploaded; nothing was kept; push it again")
            }
            let bar = ProgressBar(label: "uploading", total: file.size, enabled: showProgress)
            let start = ready.received
            do {
                let done = try await service.uploadBytes(uploadID: uploadID, fd: file.fd, offset: start, length: file.size - start,
                                                         session: session, progress: { bar.update(start + $0) })
                bar.finish()
                sent += file.size - start
                guard done.done, let central = done.central, central.sha256 == sha256, central.size == file.size else {
                    throw ClientError(.software, "the key service's answer to the upload does not describe the container that was sent")
                }
                note(recordID: receipt.recordID, index: done.auditIndex, kind: central.generation == 1 ? "central_upload" : "central_replace")
                return PushResult(container: container, recordID: receipt.recordID, central: central, sent: sent, alreadyCurrent: false)
            } catch let error as ClientError where error.code == .unavailable {
                // Stopped midway: ask how much arrived, and send the rest.
                bar.finish()
                lastProblem = error.message
            }
        }
        throw ClientError(.unavailable, "the upload of \(container) stopped \(Self.uploadAttempts) times (\(lastProblem)); run the same command again to resume it")
    }

    /// Downloads a record's central copy (named by its id, or by its file name when only one record
    /// of that name has one), checks its bytes against the SHA-256 they were committed under, and
    /// opens it to `output` (default: the file name in the current folder). The central copy is then
    /// re-sealed: the re-sealed container is uploaded to replace it, which destroys the old decode
    /// key — so the central copy is always the one that opens.
    public func retrieveCentral(_ record: String, output: String?, force: Bool) async throws -> CentralRetrieveResult {
        let recordID = try await resolveCentral(record)
        // The container is downloaded and re-sealed beside where the file is opened.
        let here = FileManager.default.currentDirectoryPath
        let workspace = try PrivateFolder(in: output.map { URL(fileURLWithPath: $0).deletingLastPathComponent().path } ?? here)
        defer { workspace.remove() }
        let container = workspace.path + "/" + recordID + ".coffer"
        let (generation, downloadIndex) = try await download(recordID: recordID, to: container)
        note(recordID: recordID, index: downloadIndex, kind: "central_download")
        let (_, receipt) = try ReceiptCheck.read(container: container)
        guard receipt.recordID == recordID else {
            throw ClientError(.dataError, "the central copy of \(recordID) is a container of another record (\(receipt.recordID)); nothing was opened")
        }
        let target = output ?? here + "/" + receipt.fileName
        let opened = try await retrieve(input: container, output: target, force: force, confirmingReseal: false)
        var result = CentralRetrieveResult(recordID: recordID, output: opened.output, sha256: opened.sha256, size: opened.size,
                                           generation: generation, resealed: false, resealProblem: opened.resealProblem)
        guard opened.resealed else { return result }
        do {
            let pushed = try await push(container: container)
            result.resealed = true
            result.central = pushed.central
        } catch let error as ClientError {
            // The central copy keeps its current key: the re-seal stays staged until a later one.
            result.resealProblem = "the re-sealed container could not be uploaded (\(error.message)); the central copy keeps its current key"
        }
        return result
    }

    /// Downloads the record's central copy to `path` (a new file), checking its length and SHA-256.
    ///
    /// - Returns: Its generation and the audit index of the download.
    func download(recordID: String, to path: String) async throws -> (generation: Int64, auditIndex: Int64?) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ClientError(.cannotCreate, "cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let state = Mutex(DownloadState())
        let reply = try await service.downloadCentral(recordID: recordID, session: session) { buffer in
            try buffer.withUnsafeReadableBytes { bytes in
                var done = 0
                while done < bytes.count {
                    let n = write(fd, bytes.baseAddress! + done, bytes.count - done)
                    if n < 0 && errno == EINTR { continue }
                    guard n > 0 else { throw ClientError(.ioError, "cannot write \(path): \(String(cString: strerror(errno)))") }
                    done += n
                }
                state.withLock { $0.hasher.update(bufferPointer: bytes); $0.count += Int64(bytes.count) }
            }
        }
        let (digest, count) = state.withLock { (Hex.encode($0.hasher.finalize()), $0.count) }
        guard let stated = reply.header(CentralHeaders.sha256), stated == digest,
              let length = reply.header("Content-Length").flatMap({ Int64($0) }), length == count else {
            throw ClientError(.dataError, "the central copy of \(recordID) does not have the bytes it was stored with (its SHA-256 or length differs): it was altered or damaged in storage; nothing was opened")
        }
        guard fsync(fd) == 0 else { throw ClientError(.ioError, "cannot write \(path): \(String(cString: strerror(errno)))") }
        let generation = reply.header(CentralHeaders.generation).flatMap { Int64($0) } ?? 0
        return (generation, reply.header(CentralHeaders.auditIndex).flatMap { Int64($0) })
    }

    /// The record a user names: a record id, or a file name — the newest of the user's records of
    /// that name with a central copy, or else the most recently shared of that name, when one user
    /// shared records of that name with them.
    func resolveCentral(_ record: String) async throws -> String {
        if RecordID.bytes(record) != nil { return record.lowercased() }
        let own = try await service.records(session: session).records.filter { $0.fileName == record && $0.central != nil && !$0.deleted }
        if let newest = own.max(by: { $0.created < $1.created }) { return newest.recordID }
        let shared = try await service.grants(session: session).grants.filter { $0.grantee == user && $0.fileName == record && $0.central != nil }
        let owners = Set(shared.map(\.owner))
        guard owners.count <= 1 else {
            let ids = shared.map { "\($0.recordID) from \($0.owner)" }.joined(separator: ", ")
            throw ClientError(.usage, "records named \(DisplayText.terminal(record)) are shared with you by \(owners.count) users (\(ids)); name one by its record id")
        }
        guard let newest = shared.max(by: { $0.granted < $1.granted }) else {
            throw ClientError(.noInput, "no record named \(DisplayText.terminal(record)) has a central copy; `coffer list` and `coffer shared` show the records you may retrieve")
        }
        return newest.recordID
    }

    /// The SHA-256 of an open file, read once.
    static func digest(of file: InputFile, path: String, showProgress: Bool) throws -> String {
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var offset: Int64 = 0
        let bar = ProgressBar(label: "hashing", total: file.size, enabled: showProgress)
        defer { bar.finish() }
        while offset < file.size {
            let n = buffer.withUnsafeMutableBytes { pread(file.fd, $0.baseAddress!, $0.count, off_t(offset)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw ClientError(.ioError, "cannot read \(path): \(n == 0 ? "it ended early" : String(cString: strerror(errno)))") }
            buffer.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            offset += Int64(n)
            bar.update(offset)
        }
        return Hex.encode(hasher.finalize())
    }
}

/// A download's running SHA-256 and length.
private struct DownloadState {
    var hasher = SHA256()
    var count: Int64 = 0
}

/// A folder only this user may enter (0700), removed with everything in it when done: where a
/// central copy is downloaded and re-sealed.
struct PrivateFolder {
    let path: String

    init(in parent: String) throws {
        var template = Array("\(parent)/.coffer-central-XXXXXX".utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw ClientError(.cannotCreate, "cannot create a working folder in \(parent): \(String(cString: strerror(errno)))")
        }
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}
