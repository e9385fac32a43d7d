public import Crypto
import Foundation

/// A C2SP signed note (https://c2sp.org/signed-note) with Ed25519 signatures (algorithm 0x01).
///
/// The note is its text, a blank line, then one line per signature:
/// `— <key name> <base64(key id ‖ signature)>`. The key id is the first four bytes of
/// `SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)`.
public struct SignedNote: Sendable, Equatable {
    /// The signed text; it ends with a newline.
    public var text: String
    /// The signatures, in order.
    public var signatures: [Signature]

    /// One signature line.
    public struct Signature: Sendable, Equatable {
        public var keyName: String
        public var keyID: UInt32
        public var signature: [UInt8]
    }

    /// The most bytes a note may have; checkpoints are a few hundred.
    public static let maxSize = 16 * 1024

    /// The note as bytes: text, blank line, signature lines.
    public var serialized: String {
        var out = text + "\n"
        for s in signatures {
            let id = withUnsafeBytes(of: s.keyID.bigEndian) { Array($0) }
            out += "\u{2014} \(s.keyName) \(Data(id + s.signature).base64EncodedString())\n"
        }
        return out
    }

    /// Parses a note, refusing anything malformed. Does not check signatures.
    public init(parsing note: String) throws {
        guard note.utf8.count <= Self.maxSize else { throw NoteError.malformed("the note is larger than \(Self.maxSize) bytes") }
        guard let split = note.range(of: "\n\n", options: .backwards) else {
            throw NoteError.malformed("the note has no blank line before its signatures")
        }
        text = String(note[..<split.lowerBound]) + "\n"
        let block = note[split.upperBound...]
        guard block.hasSuffix("\n") else { throw NoteError.malformed("the note does not end with a newline") }
        signatures = []
        for line in block.dropLast().split(separator: "\n", omittingEmptySubsequences: false) {
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 3, parts[0] == "\u{2014}", SignedNote.isValidKeyName(String(parts[1])),
                  let blob = Data(base64Encoded: String(parts[2])), blob.count > 4
            else { throw NoteError.malformed("a signature line of the note is malformed") }
            let bytes = Array(blob)
            let id = bytes[0..<4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            signatures.append(Signature(keyName: String(parts[1]), keyID: id, signature: Array(bytes[4...])))
        }
        guard !signatures.isEmpty else { throw NoteError.malformed("the note has no signature") }
        guard !text.isEmpty, text.unicodeScalars.allSatisfy({ $0 == "\n" || ($0.value >= 0x20 && $0.value != 0x7f) }) else {
            throw NoteError.malformed("the note text has control characters")
        }
    }

    init(text: String, signatures: [Signature]) {
        self.text = text
        self.signatures = signatures
    }

    /// A key name is non-empty and has no spaces, plus signs or newlines.
    public static func isValidKeyName(_ name: String) -> Bool {
        !name.isEmpty && name.unicodeScalars.allSatisfy { $0.value > 0x20 && $0 != "+" && $0.value != 0x7f && !$0.properties.isWhitespace }
    }
}

/// Signs notes with an Ed25519 key under a key name.
public struct NoteSigner: Sendable {
    public let keyName: String
    private let publicKey: Curve25519.Signing.PublicKey
    private let signature: @Sendable ([UInt8]) throws -> [UInt8]

    public init(keyName: String, key: Curve25519.Signing.PrivateKey) throws {
        try self.init(keyName: keyName, publicKey: key.publicKey) { Array(try key.signature(for: $0)) }
    }

    /// A signer whose key is kept elsewhere (a cryptographic device): `sign` gives the Ed25519
    /// signature of the bytes it is handed, made with the private half of `publicKey`.
    public init(keyName: String, publicKey: Curve25519.Signing.PublicKey, sign: @escaping @Sendable ([UInt8]) throws -> [UInt8]) throws {
        guard SignedNote.isValidKeyName(keyName) else { throw NoteError.malformed("the key name \"\(keyName)\" has a space, a plus sign or is empty") }
        self.keyName = keyName
        self.publicKey = publicKey
        self.signature = sign
    }

    /// The verifier for this signer.
    public var verifier: NoteVerifier {
        // The name was checked above, so this cannot fail.
        try! NoteVerifier(keyName: keyName, publicKey: publicKey)
    }

    /// Signs `text`, which must end with a newline. A signature that does not verify (a device
    /// that signed with another key) is refused rather than published.
    public func sign(_ text: String) throws -> SignedNote {
        guard text.hasSuffix("\n"), !text.contains("\n\n") else { throw NoteError.malformed("a note text must end with one newline and have no blank line") }
        let bytes = Array(text.utf8)
        let signed = try signature(bytes)
        guard publicKey.isValidSignature(signed, for: bytes) else { throw NoteError.unverified("the signing key made a signature its verifier key does not accept") }
        return SignedNote(text: text, signatures: [.init(keyName: keyName, keyID: verifier.keyID, signature: signed)])
    }
}

/// Checks a note's Ed25519 signature by one known key.
public struct NoteVerifier: Sendable {
    public let keyName: String
    public let publicKey: Curve25519.Signing.PublicKey
    public let keyID: UInt32

    public init(keyName: String, publicKey: Curve25519.Signing.PublicKey) throws {
        guard SignedNote.isValidKeyName(keyName) else { throw NoteError.malformed("the key name \"\(keyName)\" is not valid") }
        self.keyName = keyName
        self.publicKey = publicKey
        let digest = Array(SHA256.hash(data: Array(keyName.utf8) + [0x0A, 0x01] + Array(publicKey.rawRepresentation)))
        self.keyID = digest[0..<4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    }

    /// Parses a verifier key `<name>+<8 hex digits of key id>+<base64(0x01 ‖ public key)>`.
    public init(parsing vkey: String) throws {
        let parts = vkey.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, let id = UInt32(parts[1], radix: 16), parts[1].count == 8,
              let blob = Data(base64Encoded: String(parts[2])), blob.count == 33, blob.first == 0x01,
              let key = try? Curve25519.Signing.PublicKey(rawRepresentation: blob.dropFirst())
        else { throw NoteError.malformed("not an Ed25519 verifier key of the form name+hash+base64") }
        try self.init(keyName: String(parts[0]), publicKey: key)
        guard keyID == id else { throw NoteError.malformed("the verifier key's id does not match its name and key") }
    }

    /// The verifier key in the form `sumdb/note` and C2SP use.
    public var serialized: String {
        let hex = String(keyID, radix: 16)
        return "\(keyName)+\(String(repeating: "0", count: 8 - hex.count))\(hex)+\(Data([0x01] + Array(publicKey.rawRepresentation)).base64EncodedString())"
    }

    /// Checks that `note` carries a valid signature of this key; returns the signed text.
    @discardableResult
    public func verify(_ note: SignedNote) throws -> String {
        guard let line = note.signatures.first(where: { $0.keyName == keyName && $0.keyID == keyID }) else {
            throw NoteError.unverified("the note is not signed by \(keyName)")
        }
        guard publicKey.isValidSignature(line.signature, for: Array(note.text.utf8)) else {
            throw NoteError.unverified("the signature of \(keyName) on the note is not valid")
        }
        return note.text
    }
}

/// Why a note was refused.
public enum NoteError: Error, Equatable, Sendable, CustomStringConvertible {
    case malformed(String)
    case unverified(String)

    public var description: String {
        switch self {
        case .malformed(let message), .unverified(let message): message
        }
    }
}
