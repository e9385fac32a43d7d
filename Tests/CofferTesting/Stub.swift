enum _StubT {}
