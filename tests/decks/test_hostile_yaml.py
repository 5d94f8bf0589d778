"""Hostile deck files: each one is refused with one ``FILE:LINE: field: problem`` line.

Parsing tests run with both loaders (libyaml's and the pure-Python fallback), since a
machine without libyaml must refuse the same files.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.cli import main
from bot.core.errors import ContentError
from bot.decks import load_decks, yamlfile
from bot.decks.files import YAML_MAX_BYTES
from tests.conftest import TEST_CONTENT

ROOT = Path(__file__).parent.parent.parent
LOADERS = [yamlfile.PureLoader] + (
    [yamlfile.Loader] if yamlfile.Loader is not yamlfile.PureLoader else []
)


@pytest.fixture(params=LOADERS, ids=lambda loader: loader.__name__)
def loader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> type:
    monkeypatch.setattr(yamlfile, "Loader", request.param)
    loader: type = request.param
    return loader


@pytest.fixture
def content(tmp_path: Path) -> Path:
    shutil.copytree(TEST_CONTENT / "decks" / "testdeck", tmp_path / "decks" / "testdeck")
    return tmp_path


@pytest.fixture
def alpha(content: Path) -> Path:
    """The first topic file; line 4 is card 1's question, line 9 its answer."""
    path = content / "decks" / "testdeck" / "alpha.yaml"
    lines = path.read_text().splitlines()
    assert lines[3] == "  question: What is alpha number 1?"
    assert lines[8] == "  answer: The model answer for alpha 1."
    return path


def only_problem(content: Path) -> str:
    with pytest.raises(ContentError) as info:
        load_decks(content)
    assert len(info.value.problems) == 1, info.value.problems
    return info.value.problems[0]


def replace_line(path: Path, number: int, text: str) -> None:
    lines = path.read_bytes().split(b"\n")
    lines[number - 1] = text.encode("utf-8") if isinstance(text, str) else text
    path.write_bytes(b"\n".join(lines))


def test_a_nul_character_names_its_line(content: Path, alpha: Path) -> None:
    replace_line(alpha, 4, "  question: What is alpha\0 number 1?")
    assert only_problem(content) == (
        f"{alpha}:4: (file): NUL character at column 26; is the file UTF-16? Save it as UTF-8"
    )


def test_a_control_character_names_its_line(content: Path, alpha: Path) -> None:
    replace_line(alpha, 4, "  question: What is alpha\x1b[31m number 1?")
    assert only_problem(content) == (
        f"{alpha}:4: (file): control character U+001B at column 26 is not allowed"
    )


def test_deep_nesting_is_refused_on_its_line(content: Path, alpha: Path, loader: type) -> None:
    replace_line(alpha, 4, "  question: " + "[" * 10_000)
    problem = only_problem(content)
    assert problem.startswith(f"{alpha}:4: invalid YAML: ")
    assert "nest" in problem


def test_a_5000_digit_number_is_refused_before_python_converts_it(
    content: Path, alpha: Path, loader: type
) -> None:
    replace_line(alpha, 9, "  answer: " + "9" * 5000)
    assert only_problem(content) == (
        f"{alpha}:9: invalid YAML: a number of 5,000 characters is too long (at most 64)"
    )


def test_a_value_python_cannot_build_names_its_line(
    content: Path, alpha: Path, loader: type
) -> None:
    replace_line(alpha, 9, "  answer: 2026-13-01")
    assert only_problem(content) == f"{alpha}:9: invalid YAML: month must be in 1..12"


def test_a_link_to_dev_zero_is_refused_unread(content: Path, alpha: Path) -> None:
    alpha.unlink()
    alpha.symlink_to("/dev/zero")
    assert only_problem(content) == (
        f"{alpha}:1: (file): not a regular file (a link to /dev/zero, a character device); "
        "only regular files are read"
    )


def test_a_deck_file_linked_to_dev_zero_is_an_error_not_a_missing_deck(content: Path) -> None:
    deck = content / "decks" / "testdeck" / "deck.yaml"
    deck.unlink()
    deck.symlink_to("/dev/zero")
    assert only_problem(content).startswith(f"{deck}:1: (file): not a regular file (a link")


def test_a_named_pipe_is_refused_without_blocking(content: Path, alpha: Path) -> None:
    alpha.unlink()
    os.mkfifo(alpha)
    assert only_problem(content) == (
        f"{alpha}:1: (file): not a regular file (a named pipe); only regular files are read"
    )


def test_a_link_to_a_regular_file_is_read(content: Path, alpha: Path, tmp_path: Path) -> None:
    # Mounted config (a Kubernetes ConfigMap, say) is a tree of links to regular files.
    elsewhere = tmp_path / "alpha-elsewhere.yaml"
    alpha.rename(elsewhere)
    alpha.symlink_to(elsewhere)
    (loaded,) = load_decks(content)
    assert len(loaded.deck.cards) == 9


def test_an_oversize_file_is_refused_unread(content: Path, alpha: Path) -> None:
    with alpha.open("r+b") as handle:
        handle.truncate(YAML_MAX_BYTES + 1)  # sparse: big, but nothing to read
    assert only_problem(content) == (
        f"{alpha}:1: (file): 16,777,217 bytes is more than the limit of 16,777,216 (16 MiB); "
        "split it into smaller files"
    )


def test_a_repeated_key_names_both_lines(content: Path, alpha: Path, loader: type) -> None:
    replace_line(alpha, 9, "  answer: The model answer for alpha 1.\n  answer: Another.")
    assert only_problem(content) == f"{alpha}:10: answer: duplicate key (the first is on line 9)"


def test_a_repeated_topic_in_deck_yaml_is_an_error(content: Path, loader: type) -> None:
    deck = content / "decks" / "testdeck" / "deck.yaml"
    deck.write_text(deck.read_text() + "  alpha: First topic, again.\n")
    assert only_problem(content) == f"{deck}:9: alpha: duplicate key (the first is on line 6)"


def test_merge_keys_may_still_override_what_they_merge(content: Path, loader: type) -> None:
    (content / "decks" / "testdeck" / "merged.yaml").write_text(
        "- &base\n  id: merged-1\n  topic: alpha\n  level: mid\n  question: Q?\n"
        "  key_points: [a, b, c]\n  answer: A.\n"
        "- <<: *base\n  id: merged-2\n  level: lead\n"
    )
    (loaded,) = load_decks(content)
    merged = [c for c in loaded.deck.cards if c.id.startswith("merged")]
    assert [(c.id, c.level, c.question) for c in merged] == [
        ("merged-1", "mid", "Q?"),
        ("merged-2", "lead", "Q?"),
    ]


def test_a_utf16_file_is_refused(content: Path) -> None:
    path = content / "decks" / "testdeck" / "other.yaml"
    path.write_text("- id: x\n", encoding="utf-16")
    assert only_problem(content) == f"{path}:1: (file): the file is UTF-16; save it as UTF-8"


def test_a_latin1_byte_names_its_line_and_column(content: Path) -> None:
    path = content / "decks" / "testdeck" / "other.yaml"
    path.write_bytes(b"# a comment\n- id: caf\xe9\n")
    assert only_problem(content) == (
        f"{path}:2: (file): not UTF-8 (byte 0xe9 at column 10); save it as UTF-8"
    )


SNIPPETS = [
    "a: yes\nb: 'yes'\nc: No\nd: ~\ne: null\nf: ''\ng: 0x1F\nh: 1_000\ni: 1:30\nj: .5\n",
    "t: 2026-03-02\nu: 2026-03-02T09:00:00Z\nv: !!str 12\nw: !!binary aGk=\nx: -.inf\n",
    "topic: true\ntags: [True, tags, topic, Topic, ~, '~']\ntopics: {a: on, b: off}\n",
    "- &x [a, b]\n- *x\n- {<<: {k: v}, k2: v2}\n- ? complex\n  : value\n",
    'text: >-\n  folded\n  prose\nlit: |\n  kept\n  lines\nq: "esc\\tape"\n',
]


@pytest.mark.parametrize("text", SNIPPETS)
def test_the_strict_loader_builds_what_safe_load_builds(text: str, loader: type) -> None:
    # The loader's shortcuts (plain text, lists of strings, one-pass mappings) change speed,
    # never the data.
    data, _ = yamlfile.parse(Path("x.yaml"), text)
    assert data == yaml.safe_load(text)


def test_the_bundled_deck_parses_as_safe_load_parses_it(loader: type) -> None:
    for path in sorted((ROOT / "content" / "decks").glob("*/*.yaml")):
        text = path.read_text()
        assert yamlfile.parse(path, text)[0] == yaml.safe_load(text), path


def test_content_check_prints_the_problem_and_exits_1(
    content: Path, alpha: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    replace_line(alpha, 9, "  answer: " + "9" * 5000)
    assert main(["content", "check", str(content)]) == 1
    err = capsys.readouterr().err
    assert err.splitlines() == [
        f"{alpha}:9: invalid YAML: a number of 5,000 characters is too long (at most 64)",
        "studybot: 1 content problem(s)",
    ]


def test_start_up_reports_a_hostile_content_dir_without_a_traceback(
    content: Path, alpha: Path, tmp_path: Path
) -> None:
    alpha.unlink()
    alpha.symlink_to("/dev/zero")
    env = {k: v for k, v in os.environ.items() if not k.startswith("STUDYBOT_")}
    env["STUDYBOT_CONTENT_DIR"] = str(content)
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--db", str(tmp_path / "bot.db")],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert f"{alpha}:1: (file): not a regular file (a link to /dev/zero" in done.stderr
    assert not (tmp_path / "bot.db").exists()  # refused before anything was opened
