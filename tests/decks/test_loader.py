import shutil
from pathlib import Path

import pytest

from bot.core.errors import ContentError
from bot.decks import DeckLibrary, load_decks
from bot.decks.schema import ANSWER_MAX, QUESTION_MAX
from tests.conftest import TEST_CONTENT

GOOD_CARD = """\
- id: {id}
  topic: alpha
  level: mid
  question: {question}
  key_points:
    - one
    - two
    - three
  answer: {answer}
"""


@pytest.fixture
def deck(tmp_path: Path) -> Path:
    folder = tmp_path / "decks" / "testdeck"
    shutil.copytree(TEST_CONTENT / "decks" / "testdeck", folder)
    return folder


def problems(path: Path) -> list[str]:
    with pytest.raises(ContentError) as info:
        load_decks(path)
    return info.value.problems


def test_the_test_deck_loads(deck: Path) -> None:
    library = DeckLibrary.load(deck.parent.parent)
    assert len(list(library.cards())) == 9
    assert library.topics() == {"alpha": 4, "beta": 3, "gamma": 2}
    assert library.card("testdeck/alpha-card-1") is not None


def test_schema_errors_name_file_line_and_field(deck: Path) -> None:
    (deck / "extra.yaml").write_text(
        GOOD_CARD.format(id="fine-card", question="ok?", answer="ok")
        + "- id: Bad_Id\n  topic: alpha\n  level: wizard\n  question: q\n"
        "  key_points: [a, b]\n  answer: x\n"
    )
    found = problems(deck.parent.parent)
    text = "\n".join(found)
    assert f"{deck / 'extra.yaml'}:10: id:" in text
    assert f"{deck / 'extra.yaml'}:12: level:" in text
    assert f"{deck / 'extra.yaml'}:14: key_points:" in text


def test_too_long_fields_are_rejected(deck: Path) -> None:
    (deck / "long.yaml").write_text(
        GOOD_CARD.format(id="long-q", question="q" * (QUESTION_MAX + 1), answer="a")
        + GOOD_CARD.format(id="long-a", question="q?", answer="a" * (ANSWER_MAX + 1))
    )
    found = problems(deck.parent.parent)
    assert any(":4: question:" in p and "at most 400" in p for p in found)
    assert any(":18: answer:" in p and "at most 1200" in p for p in found)


def test_duplicate_ids_and_unknown_topics(deck: Path) -> None:
    (deck / "dupes.yaml").write_text(
        GOOD_CARD.format(id="alpha-card-1", question="q?", answer="a")
        + GOOD_CARD.format(id="other", question="q?", answer="a").replace("alpha", "cooking")
    )
    found = "\n".join(problems(deck.parent.parent))
    assert "duplicate id 'alpha-card-1' (first at" in found
    assert "dupes.yaml:11: topic: unknown topic 'cooking'" in found


def test_invalid_yaml_is_reported_with_its_line(deck: Path) -> None:
    (deck / "broken.yaml").write_text("- id: x\n  question: [unclosed\n")
    found = problems(deck.parent.parent)
    assert len(found) == 1
    assert "broken.yaml:" in found[0] and "invalid YAML" in found[0]


def test_yaml_tags_are_not_executed(deck: Path) -> None:
    (deck / "evil.yaml").write_text("- !!python/object/apply:os.system ['echo hi']\n")
    assert any("invalid YAML" in p for p in problems(deck.parent.parent))


def test_uncovered_sources_fail(deck: Path) -> None:
    (deck / "sources.yaml").write_text('items:\n  "000#1": first\n  "000#2": second\n')
    (deck / "alpha.yaml").write_text(
        (deck / "alpha.yaml")
        .read_text()
        .replace("tags: [alpha]", 'tags: [alpha]\n  source: ["000#1"]', 1)
    )
    found = problems(deck.parent.parent)
    assert any("1 seed items have no card: 000#2" in p for p in found)


def test_missing_folder() -> None:
    assert "content folder not found" in problems(Path("/nonexistent/content"))[0]
