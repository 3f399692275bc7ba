"""Property-based tests: generated valid courses pass; arbitrary input never crashes the validator."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smdb.rules import parse_and_validate
from tests.strategies import TODAY, kontaktforloeb


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kontaktforloeb())
def test_generated_valid_courses_are_accepted(course: dict[str, Any]) -> None:
    parsed, violations = parse_and_validate(course, today=TODAY)
    assert parsed and violations == [], [str(v) for v in violations]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(
    kontaktforloeb(),
    st.sampled_from(["ANM", "IVÆR", "AFSL", "KvalHep", "kommunekode", "TILB"]),
    st.text(max_size=40),
    json_values,
)
def test_any_mutation_gives_violations_never_an_exception(
    course: dict[str, Any], form: str, key: str, value: Any
) -> None:
    target = course.get(form)
    if isinstance(target, dict):
        target[key] = value
    else:
        course[form] = value
    _, violations = parse_and_validate(json.loads(json.dumps(course)), today=TODAY)
    for v in violations:
        assert v.code and v.rule and v.message


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_arbitrary_json_never_raises(data: Any) -> None:
    _, violations = parse_and_validate(data if isinstance(data, list | dict) else [data], today=TODAY)
    assert isinstance(violations, list)
