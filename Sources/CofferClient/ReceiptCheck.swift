public import CofferAPI
public import CofferContainer
import CofferTimestamp
import Foundation

/// Offline checks of a container's receipt: it matches the container, and its RFC 3161 time stamp
/// verifies against the deployment's CA certificate. Needs no key service.
public enum ReceiptCheck {
    /// What a verified receipt says.
    public struct Verified: Codable, Sendable {
        public var recordID: String
        public var owner: String
        public var clientID: String
        public var fileName: String
        public var sha256: String
        public var size: Int64
        /// The time stamp's time, Unix milliseconds.
        public var timestamp: Int64
    }

    /// Verifies `receipt`'s time stamp against the CA certificates in `caFile`.
    public static func verify(_ receipt: Receipt, caFile: String) throws -> Verified {
        guard let ca = try? String(contentsOfFile: caFile, encoding: .utf8) else {
            throw ClientError(.configuration, "cannot read the CA certificate \(caFile); set --ca or COFFER_CA")
        }
        guard receipt.version == 2, let token = receipt.tokenBytes else {
            throw ClientError(.dataError, "the receipt has no RFC 3161 time-stamp token this coffer can check")
        }
        let time: Int64
        do {
            time = try TimestampVerifier.verify(token: token, sha256: receipt.imprint, caPEM: ca)
        } catch {
            throw ClientError(.dataError, "the receipt does not verify against \(caFile): \(error)")
        }
        return Verified(recordID: receipt.recordID, owner: receipt.owner, clientID: receipt.clientID, fileName: receipt.fileName,
                        sha256: receipt.sha256, size: receipt.size, timestamp: time)
    }

    /// Reads a container's header and receipt and checks that they belong together.
    public static func read(container path: String) throws -> (ContainerHeader, Receipt) {
        let file = try InputFile(path: path)
        var source = FileDescriptorSource(fd: file.fd)
        return try read(from: &source, path: path)
    }

    /// Reads the header and receipt from `source`, leaving it at the first payload chunk.
    static func read(from source: inout some RandomAccessByteSource, path: String) throws -> (ContainerHeader, Receipt) {
        let header: ContainerHeader
        let receipt: Receipt
        do {
            header = try ContainerStream.readHeader(from: &source)
            receipt = try Receipt.decode(header.receipt)
        } catch let error as ContainerError {
            throw ClientError(.dataError, "\(path): \(error.message)")
        } catch {
            throw ClientError(.dataError, "\(path): the container's receipt is damaged")
        }
        guard RecordID.bytes(receipt.recordID) == header.recordID,
              Hex.decode(receipt.encodeKeyID) == header.encodeKeyID,
              Validation.isValidRecordedFileName(receipt.fileName)
        else {
            throw ClientError(.dataError, "\(path): the container's receipt does not match its header; the container was altered")
        }
        return (header, receipt)
    }

    /// Writes the receipt so that `openssl ts -verify` can check it without Coffer:
    /// `receipt.json`, `receipt.dat` (the time-stamped bytes) and `receipt.tst` (the DER token).
    public static func export(_ receipt: Receipt, to directory: String) throws -> [String] {
        guard let token = receipt.tokenBytes else { throw ClientError(.dataError, "the receipt has no time-stamp token") }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            let files: [(String, Data)] = [
                ("receipt.json", try encoder.encode(receipt)),
                ("receipt.dat", Data(receipt.canonicalBytes)),
                ("receipt.tst", Data(token)),
            ]
            for (name, data) in files { try data.write(to: URL(fileURLWithPath: directory + "/" + name)) }
            return files.map { directory + "/" + $0.0 }
        } catch {
            throw ClientError(.cannotCreate, "cannot write the receipt to \(directory): \(error)")
        }
    }
}
