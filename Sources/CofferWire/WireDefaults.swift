/// Values both tiers must agree on when a request leaves them out.
public enum WireDefaults {
    /// Failed logins in a row that lock an account, when `RecordLogin` does not say.
    public static let lockoutAttempts = 5
    /// How long such a lock lasts, when `RecordLogin` does not say.
    public static let lockoutDuration = Duration.seconds(15 * 60)
    /// The most bytes of a central copy one PutChunk or ChunkData carries: well inside
    /// ``WireProtocol/maxMessageSize`` with the rest of the message.
    public static let centralChunkSize = 768 * 1024
}
