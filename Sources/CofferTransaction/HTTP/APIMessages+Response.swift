public import CofferAPI
public import Hummingbird

// The API's answer bodies are written as JSON by Hummingbird's response encoder.
extension RegisterResponse: ResponseEncodable {}
extension LoginResponse: ResponseEncodable {}
extension SaveResponse: ResponseEncodable {}
extension RetrieveResponse: ResponseEncodable {}
extension HistoryResponse: ResponseEncodable {}
extension IdentityResponse: ResponseEncodable {}
extension RecordChangeResponse: ResponseEncodable {}
extension RecordsResponse: ResponseEncodable {}
extension AuditCheckpointResponse: ResponseEncodable {}
extension AuditProofsResponse: ResponseEncodable {}
extension LogoutResponse: ResponseEncodable {}
extension PasswordChangeResponse: ResponseEncodable {}
extension WebManifestResponse: ResponseEncodable {}
extension CentralUploadResponse: ResponseEncodable {}
extension GrantChangeResponse: ResponseEncodable {}
extension GrantsResponse: ResponseEncodable {}
