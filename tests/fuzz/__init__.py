"""Fuzzing in the suite: every input gets a specific reply, never an internal error.

Three hypothesis suites, deterministic (``derandomize=True``, no example database) so a
run in CI always tries the same inputs:

- ``test_parser_fuzz``: the command parser, button ids and timezone names, in-process;
- ``test_console_fuzz``: typed lines through the console adapter, the real ``StudyBot``
  and a real SQLite store;
- ``test_slack_fuzz``: ``/study`` and ``/quiz`` bodies through the Slack adapter against
  the fake Slack, with the error metric watched.

``STUDYBOT_FUZZ_EXAMPLES=N`` multiplies every suite's example count by ``N`` (default 1)
for a longer hunt; the inputs of a short run are the first of a longer one.
"""
