import CofferDigest

/// Where the bytes of central copies live: the one seam between the records and the storage of
/// their encrypted containers (docs/DEPLOYMENT.md, Central copies).
///
/// An upload is staged under its id, in order, and becomes a blob — named by its SHA-256, the
/// content address — only once complete and checked (``publish(upload:as:)``); until then no reader
/// sees any of it. The record store decides which blob is a record's current copy, in the same
/// transaction as its audit entry; a blob store only keeps bytes.
///
/// Every method runs on the database tier's thread, inside or outside a store transaction. A
/// store in the database (``TableBlobStore``) joins that transaction; one outside it
/// (``FolderBlobStore``) is written before the transaction that names a blob commits, and a blob
/// is removed only after the one that stopped naming it did, so a crash leaves at worst an unnamed
/// blob, never a named one that is missing.
public protocol BlobStore: AnyObject {
    /// `folder` or `postgresql`/`sqlite` (chunks in the database), for logs and docs.
    var kind: String { get }
    /// How many bytes of the upload are staged (0 when none).
    func stagedLength(upload: String) throws -> Int64
    /// Writes `bytes` at `offset` of the upload, dropping anything staged beyond `offset` first;
    /// `offset` is at most ``stagedLength(upload:)``.
    func stage(upload: String, offset: Int64, bytes: [UInt8]) throws
    /// Up to `length` staged bytes of the upload from `offset`.
    func readStaged(upload: String, offset: Int64, length: Int) throws -> [UInt8]
    /// Makes the staged upload the blob `blob`, durably; a blob of that name that already exists is
    /// kept and the upload dropped (same name, same bytes).
    func publish(upload: String, as blob: String) throws
    /// Drops whatever the upload staged.
    func discard(upload: String) throws
    /// Up to `length` bytes of the blob from `offset`; `nil` when there is no such blob.
    func read(blob: String, offset: Int64, length: Int) throws -> [UInt8]?
    /// Removes the blob (nothing when there is none).
    func delete(blob: String) throws
    /// Removes the blobs that `named` (the store's current copies, read after the blobs are listed)
    /// does not name and that were published at least `ageMs` ago; answers how many.
    func removeUnnamed(named: () throws -> Set<String>, publishedAtLeast ageMs: Int64) throws -> Int
}

extension BlobStore {
    /// The SHA-256 of the staged upload, read back in 1 MiB pieces.
    func stagedDigest(upload: String, length: Int64) throws -> [UInt8] {
        var digest = ContentDigest()
        var offset: Int64 = 0
        while offset < length {
            let piece = try readStaged(upload: upload, offset: offset, length: Int(min(1 << 20, length - offset)))
            guard !piece.isEmpty else { break }
            digest.update(piece)
            offset += Int64(piece.count)
        }
        return digest.finalize()
    }
}
