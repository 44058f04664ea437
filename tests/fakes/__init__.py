"""Self-tests of the fake Telegram and Discord servers in ``fakes/``, mirroring that package."""
