public import CofferAPI
import CofferContainer
import CofferText
import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The client's two file operations: secure save (file → container) and secure retrieve
/// (container → file), each talking to the key service once.
public struct SecureFiles: Sendable {
    let service: KeyServiceClient
    let session: SessionCredentials
    let user: String
    let showProgress: Bool
    let journal: AuditJournal?

    /// - Parameter journal: Where to note the audit entries of saves and retrieves, for `history --verify`.
    public init(service: KeyServiceClient, session: SessionCredentials, user: String, showProgress: Bool, journal: AuditJournal? = nil) {
        self.service = service
        self.session = session
        self.user = user
        self.showProgress = showProgress
        self.journal = journal
    }

    /// What a save produced.
    public struct SaveResult: Codable, Sendable {
        public var input: String
        public var output: String
        public var recordID: String
        public var sha256: String
        public var size: Int64
        public var time: Int64
    }

    /// What a retrieve produced.
    public struct RetrieveResult: Codable, Sendable {
        public var input: String
        public var output: String
        public var recordID: String
        public var sha256: String
        public var size: Int64
        /// Whether the container was re-sealed under a fresh key pair and the old decode key destroyed.
        public var resealed: Bool
        /// Why not, when it was not.
        public var resealProblem: String?
    }

    /// Hashes `input`, asks the key service for a save, and seals the file into `output`.
    public func save(input: String, output: String, force: Bool) async throws -> SaveResult {
        let fileName = URL(fileURLWithPath: input).lastPathComponent
        guard Validation.isValidFileName(fileName) else {
            throw ClientError(.usage, "the file name \(fileName) cannot be recorded: a name must be \(Validation.fileNameRule); rename the file or copy it under another name")
        }
        let file = try InputFile(path: input)
        let out = try AtomicOutput(target: output, force: force)

        let (digest, size) = try hash(file, label: "hashing")
        let answer = try await service.save(SaveRequest(fileName: fileName, sha256: Hex.encode(digest), size: size), session: session)
        let receipt = answer.receipt
        guard receipt.owner == user, receipt.fileName == fileName, receipt.sha256 == Hex.encode(digest),
              receipt.size == size, receipt.recordID == answer.recordID
        else {
            throw ClientError(.software, "the key service's receipt does not match the file that was sent; nothing was written")
        }
        guard lseek(file.fd, 0, SEEK_SET) == 0 else { throw ClientError(.ioError, "cannot rewind \(input)") }
        try seal(file, into: out, receipt: receipt, encodeKey: answer.encodeKey, label: "sealing",
                 changed: "\(input) changed while it was being saved; nothing was written; save it again")
        try out.commit(force: force)
        note(recordID: answer.recordID, index: answer.auditIndex, kind: "save")
        return SaveResult(input: input, output: output, recordID: answer.recordID, sha256: receipt.sha256, size: size, time: receipt.time)
    }

    /// Reads the container header, checks its receipt offline, asks the key service for the decode
    /// key, and opens `input` into `output`, re-sealing it under the fresh key pair the key service
    /// offers in the same pass.
    ///
    /// The receipt is verified (its time-stamp token against the CA, its binding to the header)
    /// before anything is sent: a crafted container gets no request to the key service, and so no
    /// entry of its making in the user's history.
    ///
    /// Each chunk is decrypted once, written to `output`, hashed on another core and sealed into the
    /// new container; the hash must match the receipt before either file is moved into place.
    public func retrieve(input: String, output: String?, force: Bool) async throws -> RetrieveResult {
        let file = try InputFile(path: input)
        var source = FileDescriptorSource(fd: file.fd)
        let (header, receipt) = try ReceiptCheck.read(from: &source, path: input)
        try Self.verifyBeforeAsking(receipt, path: input, caFile: service.caFile)
        let target = output ?? Self.defaultRetrieveTarget(input: input, fileName: receipt.fileName)
        if Self.isSameFile(target, input) {
            throw ClientError(.usage, "the output \(target) is the container itself; choose another with -o")
        }
        let out = try AtomicOutput(target: target, force: force)

        let answer = try await service.retrieve(
            RetrieveRequest(recordID: receipt.recordID, fileName: receipt.fileName, token: receipt.token), session: session
        )
        guard let raw = Data(base64Encoded: answer.decodeKey),
              let decodeKey = try? P256.KeyAgreement.PrivateKey(rawRepresentation: raw)
        else {
            throw ClientError(.software, "the key service sent a decode key this coffer cannot read")
        }
        note(recordID: receipt.recordID, index: answer.auditIndex, kind: "retrieve")

        var resealProblem: String?
        var resealer: Resealer?
        if let offer = answer.reseal {
            do {
                resealer = try Resealer(container: input, old: receipt, offer: offer, user: user, caFile: service.caFile)
            } catch let error as ClientError {
                resealProblem = error.message
            }
        } else {
            resealProblem = "the key service offered no re-seal; the container keeps its current key"
        }

        var sink = FileDescriptorSink(fd: out.fd)
        let hasher = ParallelHasher()
        let bar = ProgressBar(label: "opening", total: receipt.size, enabled: showProgress)
        let size: Int64
        do {
            let fileKey = try header.unwrapFileKey(decodeKey: decodeKey)
            size = try ContainerStream.open(from: &source, header: header, fileKey: fileKey, progress: bar.update) { plaintext, isLast in
                hasher.update(plaintext)
                try sink.write(plaintext)
                guard resealer != nil else { return }
                do {
                    try resealer!.append(plaintext, isLast: isLast)
                } catch {
                    // The retrieve goes on; the container keeps its current key.
                    resealProblem = "writing the re-sealed container failed (\(error)); the container keeps its current key"
                    resealer = nil
                }
            }
        } catch let error as ContainerError {
            bar.finish()
            throw ClientError(error.code == .io ? .ioError : .dataError, "\(input): \(error.message); nothing was written")
        }
        bar.finish()
        guard Hex.encode(hasher.finalize().sha256) == receipt.sha256, size == receipt.size else {
            throw ClientError(.dataError, "\(input): the opened file does not match the SHA-256 in its receipt; nothing was written")
        }
        try out.commit(force: force)
        var result = RetrieveResult(input: input, output: target, recordID: receipt.recordID, sha256: receipt.sha256, size: size, resealed: false)
        guard let resealer else {
            result.resealProblem = resealProblem
            return result
        }
        do {
            try await resealer.finish(service: service, session: session)
            result.resealed = true
        } catch let error as ClientError {
            result.resealProblem = error.message
        }
        return result
    }

    /// Notes an acknowledged entry in the journal; a journal that cannot be written only warns.
    private func note(recordID: String, index: Int64?, kind: String) {
        guard let journal, let index else { return }
        do {
            try journal.record(recordID: recordID, index: index, kind: kind)
        } catch {
            FileHandle.standardError.write(Data("coffer: warning: \(DisplayText.terminal("\(error)"))\n".utf8))
        }
    }

    /// Seals `file` into `out` under the key service's `encodeKey`, with `receipt` in the header, after
    /// checking that the receipt names that key and verifies against the CA. The file is hashed again
    /// and the container written on other threads while it is sealed; fails with `changed` when its
    /// content is not what the receipt says.
    private func seal(_ file: InputFile, into out: AtomicOutput, receipt: Receipt, encodeKey: String, label: String, changed: String) throws {
        let (header, fileKey) = try Self.sealingHeader(receipt: receipt, encodeKey: encodeKey, caFile: service.caFile)
        var source = HashingSource(FileDescriptorSource(fd: file.fd))
        // Three threads: this one reads and encrypts, one hashes, one writes.
        var sink = ParallelSink(FileDescriptorSink(fd: out.fd))
        let bar = ProgressBar(label: label, total: receipt.size, enabled: showProgress)
        defer { bar.finish() }
        do {
            try ContainerStream.seal(from: &source, to: &sink, header: header, fileKey: fileKey, progress: bar.update)
            try sink.finish()
        } catch let error as ContainerError {
            throw ClientError(.ioError, "\(label) failed: \(error.message); nothing was written")
        }
        let hashed = source.hasher.finalize()
        guard Hex.encode(hashed.sha256) == receipt.sha256, hashed.count == receipt.size else {
            throw ClientError(.ioError, changed)
        }
    }

    /// A new container header for `receipt` under the key service's `encodeKey`, once the receipt
    /// names that key and verifies against the CA.
    static func sealingHeader(receipt: Receipt, encodeKey: String, caFile: String) throws -> (ContainerHeader, SymmetricKey) {
        guard let recordID = RecordID.bytes(receipt.recordID),
              let keyBytes = Data(base64Encoded: encodeKey),
              let key = try? P256.KeyAgreement.PublicKey(x963Representation: keyBytes),
              receipt.encodeKeyID == Hex.encode(ContainerHeader.keyID(of: key))
        else {
            throw ClientError(.software, "the key service's receipt does not name the encode key it sent; nothing was written")
        }
        _ = try ReceiptCheck.verify(receipt, caFile: caFile)
        return try ContainerHeader.seal(recordID: recordID, encodeKey: key, receipt: try receipt.encoded())
    }

    /// Checks a container's receipt against the CA before the key service is asked about it.
    static func verifyBeforeAsking(_ receipt: Receipt, path: String, caFile: String) throws {
        do {
            _ = try ReceiptCheck.verify(receipt, caFile: caFile)
        } catch let error as ClientError where error.code == .dataError {
            throw ClientError(.dataError, "\(path): \(error.message); the container was not made by this deployment or was altered, so the key service was not asked")
        }
    }

    /// Whether two paths name the same existing file.
    static func isSameFile(_ a: String, _ b: String) -> Bool {
        var first = stat(), second = stat()
        guard stat(a, &first) == 0, stat(b, &second) == 0 else { return false }
        return first.st_dev == second.st_dev && first.st_ino == second.st_ino
    }

    /// Destroys the decode keys of a container's record, once its receipt verifies offline.
    public func delete(container: String) async throws -> RecordChangeResponse {
        let (_, receipt) = try ReceiptCheck.read(container: container)
        try Self.verifyBeforeAsking(receipt, path: container, caFile: service.caFile)
        return try await service.delete(RecordRequest(recordID: receipt.recordID, token: receipt.token), session: session)
    }

    /// The record id of a container, read from its header.
    public static func recordID(ofContainer path: String) throws -> String {
        try ReceiptCheck.read(container: path).1.recordID
    }

    /// `X.coffer` opens to `X`; anything else to the receipt's file name beside it.
    static func defaultRetrieveTarget(input: String, fileName: String) -> String {
        if input.hasSuffix(".coffer"), input.count > ".coffer".count { return String(input.dropLast(".coffer".count)) }
        return URL(fileURLWithPath: input).deletingLastPathComponent().appendingPathComponent(fileName).path
    }

    /// Hashes `file` on another core while this one reads it.
    private func hash(_ file: InputFile, label: String) throws -> ([UInt8], Int64) {
        var source = HashingSource(FileDescriptorSource(fd: file.fd))
        let bar = ProgressBar(label: label, total: file.size, enabled: showProgress)
        defer { bar.finish() }
        var read: Int64 = 0
        while true {
            let chunk = try source.read(upTo: 1 << 18)
            if chunk.isEmpty { break }
            read += Int64(chunk.count)
            bar.update(read)
        }
        let hashed = source.hasher.finalize()
        return (Array(hashed.sha256), hashed.count)
    }
}
