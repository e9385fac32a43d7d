/// A failure of the transaction tier to start, with a sentence for the operator.
public struct TransactionTierError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
