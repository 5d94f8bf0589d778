"""Use cases: the only API that adapters and scheduled jobs call."""
