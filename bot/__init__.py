"""studybot: a daily spaced-repetition study habit for Slack, Discord and the console."""

__version__ = "0.1.0"
