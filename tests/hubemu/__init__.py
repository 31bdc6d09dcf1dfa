"""Hub emulator for tests: `server.HubEmulator` (hub + CDN on 127.0.0.1) and `repos` (fixture builders)."""
