"""Self-tests of the fake Discord: the real discord.py client logs in, syncs and answers."""
