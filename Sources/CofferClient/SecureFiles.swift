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
        /// Whether the re-sealed container also replaced the record's central copy.
        public var centralReplaced: Bool?
    }

    /// Seals `input` into `output` in one pass — each byte read once, encrypted under a fresh file
    /// key on this core while another hashes it — then asks the key service for a save with the
    /// hash, and completes the container with the file key wrapped to the encode key and the receipt.
    public func save(input: String, output: String, force: Bool) async throws -> SaveResult {
        let fileName = URL(fileURLWithPath: input).lastPathComponent
        guard Validation.isValidFileName(fileName) else {
            throw ClientError(.usage, "the file name \(fileName) cannot be recorded: a name must be \(Validation.fileNameRule); rename the file or copy it under another name")
        }
        let file = try InputFile(path: input)
        let out = try AtomicOutput(target: output, force: force)
        // Three threads: this one reads and encrypts, one hashes, one writes.
        var source = HashingSource(FileDescriptorSource(fd: file.fd))
        var sink = ParallelSink(FileDescriptorSink(fd: out.fd), keepingAlive: out)
        var writer: ContainerWriter
        let bar = ProgressBar(label: "sealing", total: file.size, enabled: showProgress)
        do {
            writer = try ContainerWriter(to: &sink)
            try ContainerStream.sealPayload(from: &source, into: &writer, to: &sink, progress: bar.update)
            // Every byte is on its way to disk before the key service is asked: a full disk fails here,
            // before a record exists.
            try sink.finish()
        } catch let error as ContainerError {
            bar.finish()
            throw ClientError(.ioError, "sealing \(input) failed: \(error.message); nothing was written")
        }
        bar.finish()
        guard !file.changedSinceOpened() else {
            throw ClientError(.ioError, "\(input) changed while it was being saved; nothing was written; save it again")
        }
        let hashed = source.hasher.finalize()
        let digest = Hex.encode(hashed.sha256)
        let answer = try await service.save(SaveRequest(fileName: fileName, sha256: digest, size: hashed.count), session: session)
        let receipt = answer.receipt
        guard receipt.owner == user, receipt.fileName == fileName, receipt.sha256 == digest,
              receipt.size == hashed.count, receipt.recordID == answer.recordID
        else {
            throw ClientError(.software, "the key service's receipt does not match the file that was sent; nothing was written")
        }
        let (recordID, encodeKey) = try Self.sealingKey(receipt: receipt, encodeKey: answer.encodeKey, caFile: service.caFile)
        do {
            try writer.finish(recordID: recordID, encodeKey: encodeKey, receipt: try receipt.encoded(), to: &sink)
            try sink.finish()
        } catch let error as ContainerError {
            throw ClientError(.ioError, "writing \(output) failed: \(error.message); nothing was written")
        }
        try out.commit(force: force)
        note(recordID: answer.recordID, index: answer.auditIndex, kind: "save")
        return SaveResult(input: input, output: output, recordID: answer.recordID, sha256: receipt.sha256, size: hashed.count, time: receipt.time)
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
    ///
    /// Without `confirmingReseal`, the re-sealed container replaces `input` but its re-seal stays
    /// staged for the caller to confirm (``retrieveCentral(_:output:force:)`` does, by uploading it).
    public func retrieve(input: String, output: String?, force: Bool, confirmingReseal: Bool = true) async throws -> RetrieveResult {
        let file = try InputFile(path: input)
        var source = FileDescriptorSource(fd: file.fd)
        let (header, receipt) = try ReceiptCheck.read(from: &source, path: input)
        try Self.verifyBeforeAsking(receipt, path: input, caFile: service.caFile)
        let target = output ?? Self.defaultRetrieveTarget(input: input, fileName: receipt.fileName)
        if Self.isSameFile(target, input) {
            throw ClientError(.usage, "the output \(target) is the container itself; choose another with -o")
        }
        let out = try AtomicOutput(target: target, force: force)
        // A full disk fails here, before the key service releases (and audits) anything, rather than
        // midway through the opened file.
        try out.reserve(receipt.size)

        let answer = try await service.retrieve(
            RetrieveRequest(recordID: receipt.recordID, fileName: receipt.fileName, token: receipt.token,
                            sha256: receipt.sha256, size: receipt.size, owner: receipt.owner == user ? nil : receipt.owner),
            session: session
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
                resealer = try Resealer(container: input, old: receipt, offer: offer, caFile: service.caFile)
            } catch let error as ClientError {
                resealProblem = error.message
            }
        } else {
            resealProblem = "the key service offered no re-seal; the container keeps its current key"
        }

        // Four threads: this one reads and decrypts (and encrypts the re-seal), one hashes, one
        // writes the plaintext and one the new container; the two files are written side by side.
        let sink = ParallelSink(FileDescriptorSink(fd: out.fd), keepingAlive: out)
        let hasher = ParallelHasher()
        let bar = ProgressBar(label: "opening", total: receipt.size, enabled: showProgress)
        let size: Int64
        do {
            let fileKey = try header.unwrapFileKey(decodeKey: decodeKey)
            size = try ContainerStream.open(from: &source, header: header, fileKey: fileKey, progress: bar.update) { plaintext, isLast in
                hasher.update(plaintext)
                try sink.write(owned: [plaintext])
                guard resealer != nil else { return }
                do {
                    try resealer!.append(plaintext, isLast: isLast)
                } catch {
                    // The retrieve goes on; the container keeps its current key.
                    resealProblem = "writing the re-sealed container failed (\(error)); the container keeps its current key"
                    resealer = nil
                }
            }
            try sink.finish()
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
        guard var resealer else {
            result.resealProblem = resealProblem
            return result
        }
        // A record with a central copy is confirmed by replacing that copy with the re-sealed
        // container, in one commit on the service: the central copy never falls behind the key.
        let viaCentral = confirmingReseal && answer.central == true
        do {
            try await resealer.finish(service: service, session: session, confirming: confirmingReseal && !viaCentral)
            result.resealed = true
        } catch let error as ClientError {
            result.resealProblem = error.message
            return result
        }
        guard viaCentral else { return result }
        do {
            _ = try await push(container: input)
            result.centralReplaced = true
        } catch let error as ClientError {
            result.resealed = false
            result.resealProblem = "the re-sealed container could not replace the record's central copy (\(error.message)); the re-seal waits: the central copy and this container both still open"
        }
        return result
    }

    /// Notes an acknowledged entry in the journal; a journal that cannot be written only warns.
    func note(recordID: String, index: Int64?, kind: String) {
        guard let journal, let index else { return }
        do {
            try journal.record(recordID: recordID, index: index, kind: kind)
        } catch {
            FileHandle.standardError.write(Data("coffer: warning: \(DisplayText.terminal("\(error)"))\n".utf8))
        }
    }

    /// The record id and encode key a new container for `receipt` is sealed to, once the receipt
    /// names that key and verifies against the CA.
    static func sealingKey(receipt: Receipt, encodeKey: String, caFile: String) throws -> (recordID: [UInt8], key: P256.KeyAgreement.PublicKey) {
        guard let recordID = RecordID.bytes(receipt.recordID),
              let keyBytes = Data(base64Encoded: encodeKey),
              let key = try? P256.KeyAgreement.PublicKey(x963Representation: keyBytes),
              receipt.encodeKeyID == Hex.encode(ContainerHeader.keyID(of: key))
        else {
            throw ClientError(.software, "the key service's receipt does not name the encode key it sent; nothing was written")
        }
        _ = try ReceiptCheck.verify(receipt, caFile: caFile)
        return (recordID, key)
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
}
