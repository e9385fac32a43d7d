import CofferAPI
import CofferContainer
import Crypto
import Foundation

/// Writes the re-sealed copy of a container while it is being opened, then moves it into place and
/// confirms, so that the key service destroys the old decode key.
///
/// A crash at any point leaves a container that opens: the old one (its key is still current) or
/// the new one (presenting its receipt confirms the re-seal).
struct Resealer {
    private let output: AtomicOutput
    /// Written on a thread of its own, so that the opening thread is not also the one that writes
    /// both files.
    private var sink: ParallelSink<FileDescriptorSink>
    private var writer: ContainerWriter
    private let receipt: Receipt
    private let receiptBytes: [UInt8]
    private let recordID: [UInt8]
    private let encodeKey: P256.KeyAgreement.PublicKey

    /// Checks the offer against the record being opened and starts the new container beside
    /// `container`. The record stays its owner's, whoever re-seals it (the owner, or a user it is
    /// shared with).
    init(container: String, old: Receipt, offer: ResealOffer, caFile: String) throws {
        let next = offer.receipt
        guard next.recordID == old.recordID, next.fileName == old.fileName, next.sha256 == old.sha256, next.size == old.size,
              next.owner == old.owner
        else {
            throw ClientError(.software, "the key service's re-seal receipt does not match the record; the container was not re-sealed")
        }
        (recordID, encodeKey) = try SecureFiles.sealingKey(receipt: next, encodeKey: offer.encodeKey, caFile: caFile)
        receiptBytes = try next.encoded()
        output = try AtomicOutput(target: container, force: true)
        sink = ParallelSink(FileDescriptorSink(fd: output.fd), keepingAlive: output)
        writer = try ContainerWriter(to: &sink)
        receipt = next
    }

    /// Seals the next chunk of the opened plaintext into the new container.
    mutating func append(_ plaintext: Data, isLast: Bool) throws {
        try writer.append(plaintext, isLast: isLast, to: &sink)
    }

    /// Replaces the container with the new one and confirms the re-seal to the key service. Call
    /// only once the opened plaintext has matched its receipt.
    ///
    /// Without `confirming`, the re-seal is left staged: something else confirms it (the upload of
    /// the new container as the record's central copy, or a retrieve that presents its receipt).
    mutating func finish(service: KeyServiceClient, session: SessionCredentials, confirming: Bool = true) async throws {
        do {
            try writer.finish(recordID: recordID, encodeKey: encodeKey, receipt: receiptBytes, to: &sink)
            try sink.finish()
        } catch {
            throw ClientError(.ioError, "writing the re-sealed container failed (\(error)); the container keeps its current key")
        }
        FaultInjection.point("before-reseal-replace")
        try output.commit(force: true)
        guard confirming else { return }
        FaultInjection.point("before-reseal-confirm")
        _ = try await service.confirmReseal(RecordRequest(recordID: receipt.recordID, token: receipt.token), session: session)
    }
}
