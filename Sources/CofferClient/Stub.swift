enum _StubCofferClient {}
