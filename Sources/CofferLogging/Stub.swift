enum _StubCofferLogging {}
