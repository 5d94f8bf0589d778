"""The schedulers in use: one ``Srs`` per (platform, workspace, deck).

Every key schedules with the parameters adopted for it, or with the defaults. Keys that
share a parameter set share one ``Srs`` (and one desired-retention computation). The
book is filled from the store at start and again whenever a tune adopts parameters
(``bot.services.tuning``); between refreshes it is a plain in-memory lookup.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.core.srs import DEFAULT_PARAMETERS, Srs
from bot.core.tuning import DeckKey, RetentionChoice, RetentionSetting, resolve_retention


class SrsBook:
    def __init__(self, *, retention: RetentionSetting = "auto", fuzz: bool = True) -> None:
        self.setting: RetentionSetting = retention
        self.fuzz = fuzz
        self._by_parameters: dict[tuple[float, ...], tuple[Srs, RetentionChoice]] = {}
        self._in_use: dict[DeckKey, tuple[float, ...]] = {}
        self.default = self._entry(DEFAULT_PARAMETERS)[0]

    @classmethod
    def around(cls, srs: Srs) -> SrsBook:
        """A book whose defaults are ``srs`` itself, its retention fixed (tests, tools)."""
        book = cls(retention=srs.desired_retention, fuzz=srs.fuzz)
        choice = RetentionChoice(srs.desired_retention, "fixed when the bot was built")
        book._by_parameters = {srs.parameters: (srs, choice)}
        book.default = srs
        return book

    def _entry(self, parameters: Sequence[float]) -> tuple[Srs, RetentionChoice]:
        key = tuple(float(p) for p in parameters)
        entry = self._by_parameters.get(key)
        if entry is None:
            choice = resolve_retention(self.setting, key)
            srs = Srs(desired_retention=choice.value, fuzz=self.fuzz, parameters=key)
            entry = self._by_parameters[key] = (srs, choice)
        return entry

    def install(self, in_use: Mapping[DeckKey, Sequence[float]]) -> None:
        """Replace the adopted parameters (keys not given go back to the defaults)."""
        fresh = {key: tuple(float(p) for p in params) for key, params in in_use.items()}
        for params in set(fresh.values()):
            self._entry(params)
        self._in_use = fresh

    def parameters_for(self, key: DeckKey) -> tuple[float, ...]:
        return self._in_use.get(key, self.default.parameters)

    def srs_for(self, key: DeckKey) -> Srs:
        return self._entry(self.parameters_for(key))[0]

    def retention_for(self, key: DeckKey) -> RetentionChoice:
        return self._entry(self.parameters_for(key))[1]

    def srs_for_card(self, platform: str, workspace: str, card_key: str) -> Srs:
        """Card keys are ``deck/card-id``: the deck is the part before the slash."""
        return self.srs_for((platform, workspace, card_key.partition("/")[0]))
