import Foundation
import CofferText

/// One audit entry as a Merkle leaf: a JSON object whose exact bytes are hashed.
///
/// The log stores these bytes and never re-serializes them, so a verifier hashes what it reads.
/// `docs/AUDIT.md` lists the fields.
public struct AuditLeaf: Codable, Sendable, Equatable {
    /// The leaf format version: 1.
    public var v: Int
    /// The entry's position in the log, from 0, gapless.
    public var index: Int64
    /// Unix time in milliseconds when the event happened.
    public var timeMs: Int64
    /// The event kind, for example `save` or `retrieve_refused`.
    public var kind: String
    /// The user the event concerns (`admin` for operators' actions).
    public var user: String
    /// The record's id as 32 lowercase hex digits, when the event concerns one.
    public var recordID: String?
    /// The record's file name, when the event concerns one.
    public var fileName: String?
    /// Why, for refusals and failures.
    public var detail: String
    /// The network source of the request.
    public var source: String
    /// The client installation, when known.
    public var clientID: String

    public init(index: Int64, timeMs: Int64, kind: String, user: String, recordID: String?, fileName: String?, detail: String, source: String, clientID: String) {
        self.v = 1
        self.index = index
        self.timeMs = timeMs
        self.kind = kind
        self.user = user
        self.recordID = recordID
        self.fileName = fileName
        self.detail = detail
        self.source = source
        self.clientID = clientID
    }

    /// Lowercase hex, the form of ``recordID``.
    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes that lowercase or uppercase hex spells, or `nil`: the inverse of ``hex(_:)``.
    public static func bytes(hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        for i in stride(from: 0, to: digits.count, by: 2) {
            guard let byte = UInt8(String(decoding: digits[i...i + 1], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(byte)
        }
        return bytes
    }

    /// The most bytes a leaf may have.
    public static let maxSize = 8 * 1024

    /// The canonical bytes: compact JSON with sorted keys, every scalar that does not show as
    /// itself (C1 controls, bidi overrides, zero-width characters…) written as a `\uXXXX` escape,
    /// so that the log and its exports read safely on a terminal.
    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = try encoder.encode(self)
        // Only a scalar outside printable ASCII can need an escape; most leaves have none.
        guard json.contains(where: { $0 >= 0x7F }) else { return Array(json) }
        return Array(DisplayText.escapingJSON(String(decoding: json, as: UTF8.self)).utf8)
    }

    /// Reads a leaf from its bytes, refusing an unknown version or an oversized leaf.
    public init(bytes: [UInt8]) throws {
        guard bytes.count <= Self.maxSize else { throw NoteError.malformed("an audit leaf is larger than \(Self.maxSize) bytes") }
        do {
            self = try JSONDecoder().decode(AuditLeaf.self, from: Data(bytes))
        } catch {
            throw NoteError.malformed("an audit leaf is not the expected JSON object")
        }
        guard v == 1 else { throw NoteError.malformed("audit leaf version \(v) is not supported") }
    }
}
