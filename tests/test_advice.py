"""Advice per error code: one sentence for every code the provider documents, prices from the rate card."""

from __future__ import annotations

import dataclasses
import doctest

import pytest

from lib import advice, pricing
from lib.simulator.engine import TASK_ERRORS


@pytest.mark.parametrize("code", list(TASK_ERRORS))
def test_every_provider_task_error_has_advice(code):
    text = advice.what_to_do(code)
    assert text and text != TASK_ERRORS[code]  # what to do, not the provider's words again


def test_a_code_wins_over_the_state_and_unknown_codes_fall_back_to_it():
    assert advice.what_to_do("service_unavailable", "expired") == advice.ADVICE["service_unavailable"]
    assert advice.what_to_do("no_such_code", "expired") == advice.ADVICE["expired"]
    assert advice.what_to_do("no_such_code", "failed") is None
    assert advice.what_to_do(None) is None


def test_prices_in_advice_come_from_the_rate_card():
    bundled = advice.what_to_do("content_policy_violation")
    assert f"at {pricing.price_words().filter_off})" in bundled
    card = dataclasses.replace(pricing.load_rates(), content_filter_off_multiplier=1.3)
    assert "at ×1.3)" in advice.what_to_do("content_policy_violation", rates=card)
    with pricing.use_rates(card):
        assert "at ×1.3)" in advice.what_to_do("content_policy_violation")
    assert advice.what_to_do("content_policy_violation") == bundled


def test_no_price_is_written_into_the_table():
    assert not [code for code, text in advice.ADVICE.items() if "×" in text or "credits per" in text]


def test_doctests():
    result = doctest.testmod(advice)
    assert result.attempted > 0 and result.failed == 0
